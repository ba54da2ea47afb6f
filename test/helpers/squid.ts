/**
 * A real Squid on a free loopback port (issue 13 acceptance: hopwise → Squid → origin). Squid is installed by
 * `.ci/run`; {@link squidAvailable} lets a suite skip where it is not. Each instance gets a temporary directory with
 * its config, pid file, logs and (optionally) an htpasswd for `basic_ncsa_auth`; nothing is cached (`cache deny all`)
 * and only loopback clients are allowed. Running as root, Squid drops to `cache_effective_user proxy`, so the
 * directory is handed to that user. `close()` stops it (SIGTERM, then SIGKILL) and removes the directory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { refusedPort } from './ports.js';
import { within } from './raw.js';

export const SQUID = '/usr/sbin/squid';
const NCSA = '/usr/lib/squid/basic_ncsa_auth';

/** True when Squid (and, for auth, its NCSA helper and openssl) can run here. */
export function squidAvailable(): boolean {
  return existsSync(SQUID) && existsSync(NCSA);
}

export interface Squid {
  readonly port: number;
  readonly url: string;
  /** Squid's access log so far (one line per request or tunnel). */
  accessLog(): string[];
  /** The access log once some line contains `text` (Squid writes a line when a transaction ends), at most 5 s. */
  logged(text: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface SquidOptions {
  /** Require Basic credentials (an htpasswd entry for this user). */
  readonly user?: { readonly name: string; readonly password: string };
}

/** Start Squid; resolves once it accepts connections (bounded). */
export async function startSquid(opts: SquidOptions = {}): Promise<Squid> {
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-squid-'));
  const port = await refusedPort();
  const lines = [
    `http_port 127.0.0.1:${port}`,
    `pid_filename ${dir}/squid.pid`,
    `cache_log ${dir}/cache.log`,
    `access_log stdio:${dir}/access.log`,
    `coredump_dir ${dir}`,
    'cache deny all',
    'cache_mem 8 MB',
    'netdb_filename none',
    'pinger_enable off',
    'strip_query_terms off',
    'shutdown_lifetime 0 seconds',
    'dns_v4_first on',
    'acl localsrc src 127.0.0.1/32 ::1',
  ];
  if (userInfo().uid === 0) lines.push('cache_effective_user proxy');
  if (opts.user !== undefined) {
    const hash = execFileSync('openssl', ['passwd', '-apr1', opts.user.password], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'htpasswd'), `${opts.user.name}:${hash}\n`);
    lines.push(
      `auth_param basic program ${NCSA} ${dir}/htpasswd`,
      'auth_param basic children 2',
      'auth_param basic realm squid-test',
      'acl authed proxy_auth REQUIRED',
      'http_access allow localsrc authed',
    );
  } else {
    lines.push('http_access allow localsrc');
  }
  lines.push('http_access deny all');
  writeFileSync(join(dir, 'squid.conf'), `${lines.join('\n')}\n`);
  if (userInfo().uid === 0) chownTree(dir);
  const child = spawn(SQUID, ['-N', '-f', join(dir, 'squid.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const squid: Squid = {
    port,
    url: `http://127.0.0.1:${port}`,
    accessLog: () => {
      const file = join(dir, 'access.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
    },
    logged: async (text) => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const lines = squid.accessLog();
        if (lines.some((l) => l.includes(text)) || Date.now() >= deadline) return lines;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: async () => {
      await stop(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForListener(port, child, () => output + cacheLog(dir));
  } catch (err) {
    await squid.close();
    throw err;
  }
  return squid;
}

function cacheLog(dir: string): string {
  const file = join(dir, 'cache.log');
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-2000) : '';
}

/** Squid as root switches to the `proxy` user, which must be able to write its logs and pid file. */
function chownTree(dir: string): void {
  const uid = Number(execFileSync('id', ['-u', 'proxy'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'proxy'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  for (const f of ['squid.conf', 'htpasswd']) if (existsSync(join(dir, f))) chownSync(join(dir, f), uid, gid);
}

/** Poll until the port accepts a connection (Squid has no readiness signal on stdout), at most 15 s. */
async function waitForListener(port: number, child: ChildProcess, diagnostics: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`squid exited with ${child.exitCode}:\n${diagnostics()}`);
    if (await accepts(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`squid did not listen on ${port} within 15 s:\n${diagnostics()}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  try {
    await within(5000, exited, 'squid exit');
  } catch {
    child.kill('SIGKILL');
    await within(5000, exited, 'squid kill');
  }
}
