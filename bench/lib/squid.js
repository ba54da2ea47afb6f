// The `squid` target: Debian's squid as a plain forward proxy with caching off, run in the foreground (-N) with a
// generated config in a temp dir. The bench never installs it; the target is skipped when the binary is missing.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './net.js';

export const SQUID_BINARY = '/usr/sbin/squid';

/**
 * A minimal forward-proxy config: loopback only (one listener on 127.0.0.1; ICP, HTCP and SNMP off), nothing cached,
 * quick shutdown. The access log is off, or on in squid's native format to a file in `dir` through squid's default
 * `daemon:` module (a helper process writes the file), as a stock install logs.
 * @param {{ port: number, dir: string, accessLog?: boolean }} options
 * @returns {string}
 */
export function squidConfig({ port, dir, accessLog = false }) {
  return [
    `http_port 127.0.0.1:${port}`,
    'icp_port 0',
    'htcp_port 0',
    'snmp_port 0',
    // `localhost` is a built-in ACL (127.0.0.1/32 and ::1).
    'http_access allow localhost',
    'http_access deny all',
    'cache deny all',
    'cache_mem 0 MB',
    accessLog ? `access_log daemon:${path.join(dir, 'access.log')} squid` : 'access_log none',
    `cache_log ${path.join(dir, 'cache.log')}`,
    `pid_filename ${path.join(dir, 'squid.pid')}`,
    `coredump_dir ${dir}`,
    'pinger_enable off',
    'shutdown_lifetime 1 seconds',
    'visible_hostname hopwise-bench',
    '',
  ].join('\n');
}

/** @returns {string | null} why squid cannot run here, or null */
export function squidUnavailable() {
  return existsSync(SQUID_BINARY) ? null : `${SQUID_BINARY} not found (Debian package "squid" not installed)`;
}

/**
 * @param {import('./targets.js').TargetContext} ctx
 * @param {{ accessLog: boolean }} options
 * @returns {Promise<import('./targets.js').RunningTarget>}
 */
export async function startSquid(ctx, { accessLog }) {
  const dir = ctx.tempDirs.create('squid');
  // squid started as root drops to its effective user (Debian: proxy), which must be able to write its log here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = path.join(dir, 'squid.conf');
  writeFileSync(conf, squidConfig({ port, dir, accessLog }));
  const child = ctx.group.spawnLeashed('squid', SQUID_BINARY, ['-N', '-f', conf], {
    core: 'target',
    cwd: dir,
    removeOnExit: dir,
  });
  await waitForPort(port, ctx.startTimeoutMs, () =>
    child.exitReason ? `squid ${child.exitReason}\n${child.tail()}` : null,
  );
  return { port, proxy: true, process: child, counters: null };
}
