/**
 * Prometheus text exposition of the statistics (SPEC §8.3), the only prom-client importer. Each proxy has its own
 * `Registry` (never prom-client's global one: several proxies may run in one process). There is no second set of
 * counters: every metric's `collect()` copies from the one Stats snapshot taken for the scrape, so /metrics and
 * /stats agree. Names follow the Prometheus conventions: `hopwise_` prefix, the unit in the name, `_total` counters.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { StatsSnapshot, UpstreamStats } from './stats.js';

type Labels = Record<string, string>;
type Sample = readonly [Labels, number];

interface MetricDef {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly labelNames: readonly string[];
  samples(s: StatsSnapshot): Sample[];
}

function one(v: number): Sample[] {
  return [[{}, v]];
}

function byKey(map: Readonly<Record<string, number | undefined>>, label: string, extra: Labels = {}): Sample[] {
  return Object.entries(map).map(([k, v]) => [{ ...extra, [label]: k }, v ?? 0]);
}

function perOrigin(pick: (u: UpstreamStats) => number): (s: StatsSnapshot) => Sample[] {
  return (s) => Object.entries(s.upstream.origins).map(([origin, u]) => [{ origin }, pick(u)]);
}

function perOriginBy(pick: (u: UpstreamStats) => Readonly<Record<string, number | undefined>>, label: string) {
  return (s: StatsSnapshot): Sample[] => Object.entries(s.upstream.origins).flatMap(([origin, u]) => byKey(pick(u), label, { origin }));
}

function perConnection(which: 'mean' | 'max') {
  return (s: StatsSnapshot): Sample[] => [
    [{ side: 'downstream' }, s.downstream.requestsPerConnection[which]],
    ...Object.entries(s.upstream.origins).map(([origin, u]): Sample => [{ side: 'upstream', origin }, u.requestsPerSocket[which]]),
  ];
}

const counter = (name: string, help: string, labelNames: readonly string[], samples: MetricDef['samples']): MetricDef => ({
  name,
  help,
  type: 'counter',
  labelNames,
  samples,
});
const gauge = (name: string, help: string, labelNames: readonly string[], samples: MetricDef['samples']): MetricDef => ({
  name,
  help,
  type: 'gauge',
  labelNames,
  samples,
});

/** Every exported metric; docs/statistics.md lists the same table. */
export const METRIC_DEFS: readonly MetricDef[] = [
  gauge('hopwise_uptime_seconds', 'Seconds since the proxy was created.', [], (s) => one(s.uptimeSeconds)),
  counter('hopwise_downstream_connections_accepted_total', 'Client connections accepted.', [], (s) => one(s.downstream.connectionsAccepted)),
  gauge('hopwise_downstream_connections_active', 'Client connections open now.', [], (s) => one(s.downstream.connectionsActive)),
  counter('hopwise_downstream_connections_closed_total', 'Client connections closed, by reason.', ['reason'], (s) =>
    byKey(s.downstream.connectionsClosed, 'reason'),
  ),
  counter('hopwise_downstream_requests_total', 'Requests answered to clients.', [], (s) => one(s.downstream.requests)),
  counter('hopwise_downstream_responses_total', 'Responses to clients, by status code (499: client went away).', ['status'], (s) =>
    byKey(s.downstream.statuses, 'status'),
  ),
  gauge('hopwise_requests_per_connection_mean', 'Mean requests per client connection or per upstream socket.', ['side', 'origin'], perConnection('mean')),
  gauge('hopwise_requests_per_connection_max', 'Most requests on one client connection or upstream socket.', ['side', 'origin'], perConnection('max')),
  counter('hopwise_upstream_sockets_created_total', 'Upstream sockets opened.', ['origin'], perOrigin((u) => u.socketsCreated)),
  gauge('hopwise_upstream_sockets_active', 'Upstream sockets open now (busy + idle).', ['origin'], perOrigin((u) => u.socketsActive)),
  gauge('hopwise_upstream_sockets_busy', 'Upstream sockets carrying a request now.', ['origin'], perOrigin((u) => u.socketsBusy)),
  gauge('hopwise_upstream_sockets_idle', 'Upstream sockets idle in the pool now.', ['origin'], perOrigin((u) => u.socketsIdle)),
  counter('hopwise_upstream_sockets_closed_total', 'Upstream sockets closed, by reason.', ['origin', 'reason'], perOriginBy((u) => u.socketsClosed, 'reason')),
  counter('hopwise_upstream_requests_total', 'Requests written to upstream sockets.', ['origin'], perOrigin((u) => u.requests)),
  counter('hopwise_upstream_reused_requests_total', 'Requests written to an already used upstream socket.', ['origin'], perOrigin((u) => u.reusedRequests)),
  gauge('hopwise_upstream_reuse_ratio', 'Reused requests / requests (0..1).', ['origin'], perOrigin((u) => u.reuseRatio)),
  counter('hopwise_upstream_stale_retries_total', 'Stale-socket retries: a request retried once on a new socket after a reused one failed before any response byte.', ['origin'], perOrigin((u) => u.staleRetries)),
  counter('hopwise_upstream_fresh_for_unsafe_total', 'Non-replayable requests sent on a fresh connection instead of a long-idle one.', ['origin'], perOrigin((u) => u.freshForUnsafe)),
  counter('hopwise_upstream_errors_total', 'Failed upstream exchanges, by error code.', ['origin', 'code'], perOriginBy((u) => u.errors, 'code')),
  counter('hopwise_upstream_connect_errors_total', 'Upstream connection attempts that failed.', ['origin'], perOrigin((u) => u.connectErrors)),
  gauge('hopwise_upstream_connect_mean_seconds', 'Mean upstream connect time.', ['origin'], perOrigin((u) => u.connectMs.mean / 1000)),
  gauge('hopwise_upstream_connect_p99_seconds', '99th percentile upstream connect time (last 1024 connects).', ['origin'], perOrigin((u) => u.connectMs.p99 / 1000)),
  counter('hopwise_tunnels_opened_total', 'CONNECT and Upgrade tunnels opened.', [], (s) => one(s.tunnels.opened)),
  gauge('hopwise_tunnels_active', 'Tunnels open now.', [], (s) => one(s.tunnels.active)),
  counter('hopwise_tunnel_bytes_total', 'Bytes relayed by tunnels (in: from the client, out: to the client).', ['direction'], (s) => [
    [{ direction: 'in' }, s.tunnels.bytesIn],
    [{ direction: 'out' }, s.tunnels.bytesOut],
  ]),
  counter('hopwise_tunnels_closed_total', 'Tunnels closed, by reason.', ['reason'], (s) => byKey(s.tunnels.closed, 'reason')),
];

/** A per-proxy Prometheus registry whose every metric is read from a fresh Stats snapshot at scrape time. */
export class Metrics {
  readonly #registry = new Registry();
  readonly #source: () => StatsSnapshot;
  #scrape: StatsSnapshot | undefined;

  constructor(source: () => StatsSnapshot) {
    this.#source = source;
    const current = (): StatsSnapshot => (this.#scrape ??= this.#source());
    for (const def of METRIC_DEFS) {
      const common = { name: def.name, help: def.help, labelNames: def.labelNames, registers: [this.#registry] };
      if (def.type === 'counter') {
        new Counter({
          ...common,
          collect() {
            this.reset();
            for (const [labels, v] of def.samples(current())) this.inc(labels, v);
          },
        });
      } else {
        new Gauge({
          ...common,
          collect() {
            this.reset();
            for (const [labels, v] of def.samples(current())) this.set(labels, v);
          },
        });
      }
    }
  }

  /** `text/plain; version=0.0.4; charset=utf-8` */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /**
   * The exposition text. One snapshot serves the whole scrape: prom-client runs every `collect()` synchronously
   * inside `metrics()` before its first await, so no event can land between two metrics of one scrape.
   */
  render(): Promise<string> {
    this.#scrape = this.#source();
    const text = this.#registry.metrics();
    this.#scrape = undefined;
    return text;
  }
}
