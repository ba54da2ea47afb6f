/**
 * SPEC §3.5 as the kernel sees it: the real CLI runs under `strace`, so the socket options hopwise sets are read from
 * the system calls themselves. TCP_NODELAY and SO_KEEPALIVE, with the configured initial delay as TCP_KEEPIDLE, must
 * be set on the accepted client socket and on the upstream socket, and must follow the configuration (`ss` shows a
 * keepalive timer, but nothing shows TCP_NODELAY after the fact).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { portOf, startCli } from '../helpers/cli.js';
import { startOrigin } from '../helpers/origin.js';
import { viaProxy } from '../helpers/proxy.js';

/** strace installed and allowed to trace here (`.ci/run` installs it; some containers forbid ptrace). */
const canTrace = spawnSync('strace', ['-qq', '-o', '/dev/null', 'true']).status === 0;
const { track, defer } = useCleanup();

/** The system calls of one traced hopwise that served one request from a client to `origin`. */
async function traced(config: object): Promise<{ lines: string[]; originPort: number }> {
  const origin = track(await startOrigin());
  const dir = mkdtempSync(path.join(tmpdir(), 'hopwise-strace-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'config.json');
  const out = path.join(dir, 'strace.txt');
  writeFileSync(cfg, JSON.stringify(config));
  const wrapper = ['strace', '-f', '-qq', '-e', 'trace=accept4,accept,connect,setsockopt', '-o', out];
  const cli = startCli(['--config', cfg, '--port', '0', '--no-admin', '--log-format', 'json', '--stats-interval', '0'], { wrapper });
  defer(async () => {
    if (cli.child.exitCode === null && cli.child.pid !== undefined) process.kill(-cli.child.pid, 'SIGKILL');
    await cli.exited();
  });
  const listening = await cli.waitFor((l) => l.event === 'listening');
  const res = await viaProxy(portOf(listening.proxy), `${origin.url}/traced`);
  expect(res.status).toBe(200);
  // SIGTERM to the whole group: hopwise shuts down gracefully and strace exits with it, its output complete.
  process.kill(-cli.child.pid!, 'SIGTERM');
  expect(await cli.exited()).toBe(0);
  return { lines: readFileSync(out, 'utf8').split('\n'), originPort: origin.port };
}

/** The option calls made on the socket a call matching `opened` returned or used, from that call on. */
function optionsOf(lines: string[], opened: RegExp, fdFrom: (m: RegExpMatchArray) => string): string[] {
  const at = lines.findIndex((l) => opened.test(l));
  expect(at, `no system call matching ${String(opened)}`).toBeGreaterThanOrEqual(0);
  const fd = fdFrom(lines[at]!.match(opened)!);
  const own = new RegExp(`setsockopt\\(${fd}, (SOL_\\w+|IPPROTO_\\w+), (\\w+), \\[(\\d+)\\]`);
  return lines.slice(at).flatMap((l) => {
    const m = own.exec(l);
    return m === null ? [] : [`${m[2]!}=${m[3]!}`];
  });
}

/** libuv accepts with `accept4(listener, NULL, NULL, flags)`; the admin listener is off, so this is the client. */
const ACCEPTED = /accept4?\(\d+, [^)]*\) = (\d+)$/;
const upstreamTo = (port: number): RegExp => new RegExp(`connect\\((\\d+), \\{sa_family=AF_INET, sin_port=htons\\(${port}\\)`);

describe.skipIf(!canTrace)(`socket options as system calls (SPEC §3.5)${canTrace ? '' : ' (skipped: strace missing or not permitted)'}`, () => {
  it('TCP_NODELAY and SO_KEEPALIVE with the configured delays, on the client socket and on the upstream socket', async () => {
    const { lines, originPort } = await traced({
      downstream: { tcpKeepAliveInitialDelay: 45_000 },
      upstream: { tcpKeepAliveInitialDelay: 30_000 },
    });
    const client = optionsOf(lines, ACCEPTED, (m) => m[1]!);
    expect(client).toEqual(expect.arrayContaining(['TCP_NODELAY=1', 'SO_KEEPALIVE=1', 'TCP_KEEPIDLE=45']));
    const upstream = optionsOf(lines, upstreamTo(originPort), (m) => m[1]!);
    expect(upstream).toEqual(expect.arrayContaining(['TCP_NODELAY=1', 'SO_KEEPALIVE=1', 'TCP_KEEPIDLE=30']));
  });

  it('downstream.noDelay and downstream.tcpKeepAlive off: neither option is set on the client socket', async () => {
    const { lines, originPort } = await traced({ downstream: { noDelay: false, tcpKeepAlive: false } });
    const client = optionsOf(lines, ACCEPTED, (m) => m[1]!);
    expect(client.filter((o) => o.startsWith('TCP_NODELAY=1') || o.startsWith('SO_KEEPALIVE=1'))).toEqual([]);
    // The upstream side keeps its own defaults: the two legs are configured separately.
    const upstream = optionsOf(lines, upstreamTo(originPort), (m) => m[1]!);
    expect(upstream).toEqual(expect.arrayContaining(['TCP_NODELAY=1', 'SO_KEEPALIVE=1']));
  });
});
