/**
 * `--workers N` with the real CLI (issue 8): N processes share the proxy port, the primary's admin listener serves the
 * aggregate of every worker's statistics, SIGTERM drains every worker and the primary logs the final aggregated
 * summary, and a crashed worker is replaced without losing the requests it had counted.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { AggregatedSnapshot } from '../../src/observability/aggregate.js';
import { adminGet, eventually } from '../helpers/admin.js';
import { useCleanup } from '../helpers/cleanup.js';
import { portOf, startCli } from '../helpers/cli.js';
import type { CliProcess } from '../helpers/cli.js';
import { startOrigin } from '../helpers/origin.js';
import { holdPort } from '../helpers/ports.js';

const { track, defer } = useCleanup();

async function startWorkers(n: number): Promise<{ cli: CliProcess; port: number; admin: number }> {
  const cli = startCli(['--workers', String(n), '--port', '0', '--admin-port', '0', '--log-format', 'json', '--stats-interval', '0']);
  defer(() => {
    // SIGKILL of the primary: its workers see the IPC channel close and drain themselves.
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  });
  const line = await cli.waitFor((l) => l.event === 'listening', 15_000);
  expect(line.workers).toBe(n);
  return { cli, port: portOf(line.proxy), admin: portOf(line.admin) };
}

/** One absolute-form GET through the proxy on a new connection (so the cluster spreads them over the workers). */
function get(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

async function stats(admin: number): Promise<AggregatedSnapshot> {
  const r = await adminGet(admin, '/stats');
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as AggregatedSnapshot;
}

describe('--workers 2', () => {
  it('both workers serve, /stats and /metrics aggregate both, SIGTERM drains them and logs the final aggregate', async () => {
    const origin = track(await startOrigin());
    const { cli, port, admin } = await startWorkers(2);
    const sent = 24;
    for (let i = 0; i < sent; i++) {
      const r = await get(port, `${origin.url}/n${i}`);
      expect(r.status).toBe(200);
      expect(r.body).toBe(`hello GET /n${i}\n`);
    }
    // Counted when each response's 'close' fires in its worker: wait for the last ones (bounded).
    const s = await eventually(() => stats(admin), (v) => v.downstream.requests >= sent);
    expect(s.downstream.requests).toBe(sent);
    expect(s.downstream.connectionsAccepted).toBe(sent);
    expect(s.upstream.totals.requests).toBe(sent);
    expect(s.workers).toHaveLength(2);
    expect(s.workers.every((w) => w.state === 'running' && w.requests > 0)).toBe(true);
    expect(s.workers.reduce((n, w) => n + w.requests, 0)).toBe(sent);
    // Each worker has its own pool: at least one upstream socket per worker, reused for the rest.
    expect(s.upstream.totals.socketsCreated).toBeGreaterThanOrEqual(2);
    expect(s.upstream.totals.reuseRatio).toBeCloseTo(s.upstream.totals.reusedRequests / sent, 3);

    const metrics = await adminGet(admin, '/metrics');
    expect(metrics.body).toMatch(new RegExp(`^hopwise_downstream_requests_total ${sent}$`, 'm'));

    cli.child.kill('SIGTERM');
    expect(await cli.exited(15_000)).toBe(0);
    const final = cli.lines.find((l) => l.event === 'stats-downstream' && l.final === true);
    expect(final).toMatchObject({ requests: sent, connectionsAccepted: sent, connectionsActive: 0 });
    // One final summary (the primary's), not one per worker.
    expect(cli.lines.filter((l) => l.event === 'stats-downstream')).toHaveLength(1);
    expect(cli.lines.filter((l) => l.event === 'request')).toHaveLength(sent);
  });

  it('replaces a crashed worker and keeps counting what it served', async () => {
    const origin = track(await startOrigin());
    const { cli, port, admin } = await startWorkers(2);
    for (let i = 0; i < 6; i++) expect((await get(port, `${origin.url}/before${i}`)).status).toBe(200);
    const before = await eventually(() => stats(admin), (v) => v.downstream.requests >= 6);
    const victim = before.workers[0]!;
    expect(victim.requests).toBeGreaterThan(0);
    process.kill(victim.pid, 'SIGKILL');
    const replaced = await cli.waitFor((l) => l.event === 'worker-replaced', 10_000);
    expect(replaced.worker).toBe(victim.id);
    expect(cli.lines.find((l) => l.event === 'worker-exited')).toMatchObject({ worker: victim.id, signal: 'SIGKILL' });
    // The replacement listens on the shared port: every request is served again.
    const after = await eventually(
      () => stats(admin),
      (v) => v.workers.filter((w) => w.state === 'running').length === 2,
      10_000,
    );
    expect(after.workers.find((w) => w.id === victim.id)).toMatchObject({ state: 'exited', requests: victim.requests });
    for (let i = 0; i < 4; i++) expect((await get(port, `${origin.url}/after${i}`)).status).toBe(200);
    const total = await eventually(() => stats(admin), (v) => v.downstream.requests >= 10);
    expect(total.downstream.requests).toBe(10);
  });

  it('a port in use → exit 1 and a hopwise: message naming the listener, for the proxy and for the admin listener', async () => {
    const held = await holdPort();
    defer(() => held.close());
    const proxy = startCli(['--workers', '2', '--port', String(held.port), '--admin-port', '0', '--log-format', 'json']);
    expect(await proxy.exited(15_000)).toBe(1);
    expect(proxy.stderr()).toContain(`hopwise: the proxy listener cannot listen on 127.0.0.1:${held.port}: the address is already in use`);
    expect(proxy.stderr()).toContain('--port N');
    const admin = startCli(['--workers', '2', '--port', '0', '--admin-port', String(held.port), '--log-format', 'json']);
    expect(await admin.exited(15_000)).toBe(1);
    expect(admin.stderr()).toContain(`hopwise: the admin listener cannot listen on 127.0.0.1:${held.port}: the address is already in use`);
    expect(admin.stderr()).toContain('--admin-port N, or turn it off with --no-admin');
  });
});
