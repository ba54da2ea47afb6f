import http from 'node:http';
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { StatsSnapshot } from '../../src/observability/stats.js';
import { adminGet, eventually, fetchStats, settledStats } from '../helpers/admin.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text.js';
import type { PromFamily } from '../helpers/prom-text.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import { refusedPort } from '../helpers/ports.js';

const { track, defer } = useCleanup();

async function scrape(adminPort: number): Promise<Map<string, PromFamily>> {
  const r = await adminGet(adminPort, '/metrics');
  expect(r.status).toBe(200);
  expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheusText(r.body);
}

/** Every counter and gauge that /stats and /metrics share, as [metric, labels, /stats value]. */
function expectedSeries(s: StatsSnapshot): [string, Record<string, string>, number][] {
  const d = s.downstream;
  const out: [string, Record<string, string>, number][] = [
    ['hopwise_downstream_connections_accepted_total', {}, d.connectionsAccepted],
    ['hopwise_downstream_connections_active', {}, d.connectionsActive],
    ['hopwise_downstream_requests_total', {}, d.requests],
    ['hopwise_requests_per_connection_mean', { side: 'downstream' }, d.requestsPerConnection.mean],
    ['hopwise_requests_per_connection_max', { side: 'downstream' }, d.requestsPerConnection.max],
    ['hopwise_tunnels_opened_total', {}, s.tunnels.opened],
    ['hopwise_tunnels_active', {}, s.tunnels.active],
  ];
  for (const [reason, n] of Object.entries(d.connectionsClosed)) out.push(['hopwise_downstream_connections_closed_total', { reason }, n]);
  for (const [status, n] of Object.entries(d.statuses)) out.push(['hopwise_downstream_responses_total', { status }, n]);
  for (const [origin, u] of Object.entries(s.upstream.origins)) {
    const o = { origin };
    out.push(
      ['hopwise_upstream_sockets_created_total', o, u.socketsCreated],
      ['hopwise_upstream_sockets_active', o, u.socketsActive],
      ['hopwise_upstream_sockets_busy', o, u.socketsBusy],
      ['hopwise_upstream_sockets_idle', o, u.socketsIdle],
      ['hopwise_upstream_requests_total', o, u.requests],
      ['hopwise_upstream_reused_requests_total', o, u.reusedRequests],
      ['hopwise_upstream_reuse_ratio', o, u.reuseRatio],
      ['hopwise_upstream_stale_retries_total', o, u.staleRetries],
      ['hopwise_upstream_connect_errors_total', o, u.connectErrors],
      ['hopwise_upstream_connect_mean_seconds', o, u.connectMs.mean / 1000],
      ['hopwise_upstream_connect_p99_seconds', o, u.connectMs.p99 / 1000],
      ['hopwise_requests_per_connection_mean', { side: 'upstream', origin }, u.requestsPerSocket.mean],
      ['hopwise_requests_per_connection_max', { side: 'upstream', origin }, u.requestsPerSocket.max],
    );
    for (const [reason, n] of Object.entries(u.socketsClosed)) out.push(['hopwise_upstream_sockets_closed_total', { origin, reason }, n]);
    for (const [code, n] of Object.entries(u.errors)) out.push(['hopwise_upstream_errors_total', { origin, code }, n]);
  }
  return out;
}

describe('GET /metrics (Prometheus text exposition)', () => {
  it('parses, names every family with HELP and TYPE, and its counters equal /stats', async () => {
    const a = track(await startOrigin());
    const b = track(await startOrigin());
    const p = track(await startProxy({ upstream: { maxSockets: 2 } }, 'warn'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => agent.destroy());
    for (let i = 0; i < 8; i++) expect((await viaProxy(p.port, `${a.url}/${i}`, { agent })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await viaProxy(p.port, `${b.url}/${i}`, { headers: { connection: 'close' } })).status).toBe(200);
    const dead = `http://127.0.0.1:${await refusedPort()}`;
    expect((await viaProxy(p.port, `${dead}/`)).status).toBe(502);

    // Quiet: all 12 answered, nothing upstream busy, only the keep-alive agent's connection still open.
    const s = await eventually(
      () => fetchStats(p.adminPort!),
      (v) => v.downstream.requests === 12 && v.downstream.connectionsActive === 1 && v.upstream.totals.socketsBusy === 0,
    );
    const families = await scrape(p.adminPort!);
    // Nothing happened in between: the two reads describe the same moment.
    expect((await fetchStats(p.adminPort!)).downstream).toEqual(s.downstream);

    for (const f of families.values()) {
      expect(f.name).toMatch(/^hopwise_/);
      expect(f.help, f.name).toBeTruthy();
      expect(f.type, f.name).toBe(f.name.endsWith('_total') ? 'counter' : 'gauge');
    }
    const series = expectedSeries(s);
    expect(series.length).toBeGreaterThan(40);
    for (const [name, labels, value] of series) {
      const got = sampleValue(families, name, labels);
      expect(got, `${name}${JSON.stringify(labels)}`).toBeCloseTo(value, 9);
    }
    // Spot checks that the numbers are the traffic we sent, not just equal to each other.
    expect(sampleValue(families, 'hopwise_downstream_requests_total')).toBe(12);
    expect(sampleValue(families, 'hopwise_upstream_requests_total', { origin: a.origin })).toBe(8);
    expect(sampleValue(families, 'hopwise_upstream_reused_requests_total', { origin: a.origin })).toBe(7);
    expect(sampleValue(families, 'hopwise_upstream_connect_errors_total', { origin: dead })).toBe(1);
    expect(sampleValue(families, 'hopwise_upstream_errors_total', { origin: dead, code: 'UPSTREAM_REFUSED' })).toBe(1);
    expect(sampleValue(families, 'hopwise_downstream_responses_total', { status: '502' })).toBe(1);
    expect(sampleValue(families, 'hopwise_downstream_connections_closed_total', { reason: 'client-asked' })).toBe(4); // 3 + Node's agent: false
  });

  it('keeps a registry per proxy: two proxies in one process do not share counters, the global registry stays empty', async () => {
    const o = track(await startOrigin());
    const busy = track(await startProxy({}, 'warn'));
    const quiet = track(await startProxy({}, 'warn'));
    for (let i = 0; i < 3; i++) await viaProxy(busy.port, `${o.url}/${i}`);
    await settledStats(busy.adminPort!, 3);
    expect(sampleValue(await scrape(busy.adminPort!), 'hopwise_downstream_requests_total')).toBe(3);
    const q = await scrape(quiet.adminPort!);
    expect(sampleValue(q, 'hopwise_downstream_requests_total')).toBe(0);
    expect(sampleValue(q, 'hopwise_upstream_requests_total', { origin: o.origin })).toBeUndefined();
    expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith('hopwise_'))).toEqual([]);
  });
});

describe('admin routes', () => {
  it.each([
    { method: 'GET', path: '/healthz', status: 200, type: /^text\/plain/, body: /^ok\n$/ },
    { method: 'GET', path: '/stats?pretty', status: 200, type: /^application\/json/, body: /"connectionsAccepted": 0/ },
    { method: 'GET', path: '/', status: 200, type: /^text\/html/, body: /<title>hopwise/ },
    { method: 'GET', path: '/nope', status: 404, type: /^text\/plain/, body: /try \/ \(dashboard\), \/stats, \/metrics, \/flows, \/flows\.har or \/healthz/ },
    { method: 'POST', path: '/stats', status: 405, type: /^text\/plain/, body: /method not allowed/ },
  ])('$method $path → $status', async ({ method, path, status, type, body }) => {
    const p = track(await startProxy({}, 'warn'));
    const res = await fetch(`http://127.0.0.1:${p.adminPort}${path}`, { method, signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(type);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toMatch(body);
  });
});
