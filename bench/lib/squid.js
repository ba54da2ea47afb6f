// The `squid` target: Debian's squid as a plain forward proxy with caching off, run in the foreground (-N) with a
// generated config in a temp dir. The bench never installs it; the target is skipped when the binary is missing.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './net.js';

export const SQUID_BINARY = '/usr/sbin/squid';

/**
 * A minimal forward-proxy config: loopback only, nothing cached, no access log, quick shutdown.
 * @param {{ port: number, dir: string }} options
 * @returns {string}
 */
export function squidConfig({ port, dir }) {
  return [
    `http_port 127.0.0.1:${port}`,
    // `localhost` is a built-in ACL (127.0.0.1/32 and ::1).
    'http_access allow localhost',
    'http_access deny all',
    'cache deny all',
    'cache_mem 0 MB',
    'access_log none',
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
 * @returns {Promise<import('./targets.js').RunningTarget>}
 */
export async function startSquid(ctx) {
  const dir = ctx.tempDirs.create('squid');
  // squid started as root drops to its effective user (Debian: proxy), which must be able to write its log here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = path.join(dir, 'squid.conf');
  writeFileSync(conf, squidConfig({ port, dir }));
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
