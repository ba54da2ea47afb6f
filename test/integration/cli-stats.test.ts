import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { statsCommand } from '../../src/cli/stats-command.js';
import type { StatsSnapshot } from '../../src/observability/stats.js';
import { fetchStats, settledStats } from '../helpers/admin.js';
import { useCleanup } from '../helpers/cleanup.js';
import { captureIo } from '../helpers/cli.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';

const { track, defer } = useCleanup();

async function withTraffic(): Promise<{ origin: TestOrigin; admin: string; stats: StatsSnapshot }> {
  const origin = track(await startOrigin());
  const proxy = track(await startProxy({}, 'warn'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  defer(() => agent.destroy());
  for (let i = 0; i < 5; i++) await viaProxy(proxy.port, `${origin.url}/${i}`, { agent });
  await settledStats(proxy.adminPort!, 5);
  return { origin, admin: `http://127.0.0.1:${proxy.adminPort}`, stats: await fetchStats(proxy.adminPort!) };
}

/** A listener that answers every request with `status` and `body`. */
async function fakeAdmin(status: number, body: string): Promise<string> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(body);
  });
  defer(() => new Promise<void>((r) => server.close(() => r())));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('hopwise stats against a real admin listener', () => {
  it('prints a table with the downstream numbers and one row per origin', async () => {
    const { origin, admin } = await withTraffic();
    const t = captureIo();
    expect(await statsCommand({ adminUrl: admin, json: false }, t)).toBe(0);
    const lines = t.out().split('\n');
    expect(lines[0]).toBe(`hopwise stats from ${admin}/stats · up ${lines[0]!.split(' · up ')[1]}`);
    expect(lines).toContain('  connections  1 accepted · 1 open · closed: none');
    expect(lines).toContain('  requests     5 · 5 per connection (max 5)');
    const row = lines.find((l) => l.startsWith(`  ${origin.origin}`))!.trim().split(/\s+/);
    // ORIGIN SOCKETS OPEN IDLE REQUESTS REUSED RATIO RETRIES ERRORS CLOSED
    expect(row).toEqual([origin.origin, '1', '1', '1', '5', '4', '80.0%', '0', '0', 'none']);
    expect(t.err()).toBe('');
  });

  it('--json prints the /stats JSON', async () => {
    const { origin, admin, stats } = await withTraffic();
    const t = captureIo();
    expect(await statsCommand({ adminUrl: `${admin}/`, json: true }, t)).toBe(0);
    const printed = JSON.parse(t.out()) as StatsSnapshot;
    expect(printed.downstream).toEqual(stats.downstream);
    expect(printed.upstream.origins[origin.origin]!.requests).toBe(5);
    expect(printed.upstream.totals.reusedRequests).toBe(4);
  });

  it('is wired into main: `hopwise stats --admin <url>`', async () => {
    const { origin, admin } = await withTraffic();
    const t = captureIo();
    expect(await main(['stats', '--admin', admin], { env: {}, stdout: t.stdout, stderr: t.stderr })).toBe(0);
    expect(t.out()).toContain('Upstream (proxy → origins)');
    expect(t.out()).toContain(origin.origin);
  });

  it('unreachable admin listener: a clear message and exit 1', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const t = captureIo();
    expect(await statsCommand({ adminUrl: `http://127.0.0.1:${port}`, json: false }, t)).toBe(1);
    expect(t.err()).toBe(
      `hopwise: cannot reach the admin listener at http://127.0.0.1:${port}/stats (ECONNREFUSED); is the proxy running, and is --admin right? (default: the proxy port + 1)\n`,
    );
    expect(t.out()).toBe('');
  });

  it.each([
    { name: 'an error status', status: 404, body: 'nope', message: /answered 404 Not Found/ },
    { name: 'JSON that is not hopwise stats', status: 200, body: '{"hello":1}', message: /did not answer with hopwise statistics/ },
    { name: 'not JSON at all', status: 200, body: '<html>', message: /did not answer with hopwise statistics/ },
  ])('something else on the admin URL ($name): exit 1', async ({ status, body, message }) => {
    const admin = await fakeAdmin(status, body);
    const t = captureIo();
    expect(await statsCommand({ adminUrl: admin, json: true }, t)).toBe(1);
    expect(t.err()).toMatch(message);
    expect(t.out()).toBe('');
  });
});
