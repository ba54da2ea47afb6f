/**
 * Statistics of several worker processes as one (issue 8, `--workers N`): the primary serves and logs the aggregate of
 * the snapshots its workers send over IPC. Pure: snapshots in, a new frozen snapshot out.
 *
 * Counters are summed; ratios and means are recomputed from the summed counters (never averaged), maxima are maxima.
 * Two numbers cannot be recomputed exactly from summaries: `connectMs.mean` is the connect-weighted mean (weights:
 * sockets created), and `connectMs.p99` is the largest worker p99, an upper bound of the true p99.
 */
import { round } from './samples.js';
import { OTHER_ORIGINS } from './stats-snapshot.js';
import type { DownstreamStats, StatsSnapshot, TunnelStats, UpstreamStats } from './stats-snapshot.js';

/** One worker's share of the aggregate, for the per-worker breakdown. */
export interface WorkerStats {
  /** cluster worker id (a replacement gets a new one). */
  readonly id: number;
  readonly pid: number;
  /** Running, or exited (its last snapshot still counts in the totals). */
  readonly state: 'running' | 'exited';
  readonly connectionsAccepted: number;
  readonly requests: number;
  readonly upstreamSocketsCreated: number;
  readonly upstreamRequests: number;
}

/** A worker's snapshot with who sent it. */
export interface WorkerSnapshot {
  readonly id: number;
  readonly pid: number;
  readonly state: 'running' | 'exited';
  readonly snapshot: StatsSnapshot;
}

/** The aggregate: a StatsSnapshot (same fields, same meaning) plus the per-worker breakdown. */
export interface AggregatedSnapshot extends StatsSnapshot {
  readonly workers: readonly WorkerStats[];
}

type Counts = Readonly<Partial<Record<string, number>>>;

function sumCounts(maps: readonly Counts[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + (v ?? 0);
  return out;
}

function sum<T>(items: readonly T[], pick: (t: T) => number): number {
  let total = 0;
  for (const t of items) total += pick(t);
  return total;
}

function max<T>(items: readonly T[], pick: (t: T) => number): number {
  let m = 0;
  for (const t of items) m = Math.max(m, pick(t));
  return m;
}

/** Upstream counters of several workers (for one origin, or the totals). */
export function aggregateUpstream(parts: readonly UpstreamStats[]): UpstreamStats {
  const socketsCreated = sum(parts, (u) => u.socketsCreated);
  const requests = sum(parts, (u) => u.requests);
  const reusedRequests = sum(parts, (u) => u.reusedRequests);
  const connectWeighted = sum(parts, (u) => u.connectMs.mean * u.socketsCreated);
  return {
    socketsCreated,
    socketsActive: sum(parts, (u) => u.socketsActive),
    socketsBusy: sum(parts, (u) => u.socketsBusy),
    socketsIdle: sum(parts, (u) => u.socketsIdle),
    socketsClosed: sumCounts(parts.map((u) => u.socketsClosed)),
    requests,
    reusedRequests,
    reuseRatio: requests === 0 ? 0 : round(reusedRequests / requests),
    staleRetries: sum(parts, (u) => u.staleRetries),
    freshForUnsafe: sum(parts, (u) => u.freshForUnsafe),
    errors: sumCounts(parts.map((u) => u.errors)),
    connectErrors: sum(parts, (u) => u.connectErrors),
    requestsPerSocket: {
      mean: socketsCreated === 0 ? 0 : round(requests / socketsCreated),
      max: max(parts, (u) => u.requestsPerSocket.max),
    },
    connectMs: {
      mean: socketsCreated === 0 ? 0 : round(connectWeighted / socketsCreated),
      p99: max(parts, (u) => u.connectMs.p99),
    },
  };
}

function aggregateDownstream(parts: readonly DownstreamStats[]): DownstreamStats {
  const connectionsAccepted = sum(parts, (d) => d.connectionsAccepted);
  const requests = sum(parts, (d) => d.requests);
  return {
    connectionsAccepted,
    connectionsActive: sum(parts, (d) => d.connectionsActive),
    connectionsClosed: sumCounts(parts.map((d) => d.connectionsClosed)),
    requests,
    requestsPerConnection: {
      mean: connectionsAccepted === 0 ? 0 : round(requests / connectionsAccepted),
      max: max(parts, (d) => d.requestsPerConnection.max),
    },
    statuses: sumCounts(parts.map((d) => d.statuses)),
  };
}

function aggregateTunnels(parts: readonly TunnelStats[]): TunnelStats {
  return {
    opened: sum(parts, (t) => t.opened),
    active: sum(parts, (t) => t.active),
    bytesIn: sum(parts, (t) => t.bytesIn),
    bytesOut: sum(parts, (t) => t.bytesOut),
    closed: sumCounts(parts.map((t) => t.closed)),
  };
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function idleUpstream(u: UpstreamStats): UpstreamStats {
  return { ...u, socketsActive: 0, socketsBusy: 0, socketsIdle: 0 };
}

/**
 * An exited worker's last snapshot as it counts in the aggregate: its counters stay, its gauges are zero (its
 * connections and sockets died with it).
 */
export function retiredSnapshot(s: StatsSnapshot): StatsSnapshot {
  return {
    ...s,
    downstream: { ...s.downstream, connectionsActive: 0 },
    upstream: {
      totals: idleUpstream(s.upstream.totals),
      origins: Object.fromEntries(Object.entries(s.upstream.origins).map(([o, u]) => [o, idleUpstream(u)])),
    },
    tunnels: { ...s.tunnels, active: 0 },
  };
}

/** How busy an origin is, to choose which keep their own entry in the aggregate. */
function activity(u: UpstreamStats): number {
  return u.requests + u.connectErrors;
}

/**
 * Several workers' per-origin entries as one, bounded like each worker's (`stats.maxOrigins`, issue 17): the busiest
 * origins keep their entry; the others and every worker's `(other)` are summed into `(other)`.
 */
function aggregateOrigins(snaps: readonly StatsSnapshot[], maxOrigins: number): Record<string, UpstreamStats> {
  const byOrigin = new Map<string, UpstreamStats[]>();
  const other: UpstreamStats[] = [];
  for (const s of snaps) {
    for (const [origin, u] of Object.entries(s.upstream.origins)) {
      if (origin === OTHER_ORIGINS) {
        other.push(u);
        continue;
      }
      const parts = byOrigin.get(origin);
      if (parts === undefined) byOrigin.set(origin, [u]);
      else parts.push(u);
    }
  }
  const merged = [...byOrigin].map(([origin, parts]): [string, UpstreamStats] => [origin, aggregateUpstream(parts)]);
  if (merged.length > maxOrigins) {
    merged.sort((a, b) => activity(b[1]) - activity(a[1]));
    for (const [, u] of merged.splice(maxOrigins)) other.push(u);
  }
  const out = Object.fromEntries(merged);
  if (other.length > 0) out[OTHER_ORIGINS] = aggregateUpstream(other);
  return out;
}

/**
 * The aggregate of every worker's latest snapshot (exited workers included, with zero gauges, so counters never go
 * back). `startedAt` is the earliest start and `uptimeSeconds` the longest uptime; with no snapshot at all, everything
 * is zero and `startedAt` is `fallbackStart`. At most `maxOrigins` origins keep their own entry (see aggregateOrigins).
 */
export function aggregateStats(workers: readonly WorkerSnapshot[], fallbackStart: string, maxOrigins = Infinity): AggregatedSnapshot {
  const snaps = workers.map((w) => (w.state === 'exited' ? retiredSnapshot(w.snapshot) : w.snapshot));
  const startedAt = snaps.reduce<string | undefined>((a, s) => (a === undefined || s.startedAt < a ? s.startedAt : a), undefined);
  return deepFreeze({
    startedAt: startedAt ?? fallbackStart,
    uptimeSeconds: max(snaps, (s) => s.uptimeSeconds),
    downstream: aggregateDownstream(snaps.map((s) => s.downstream)),
    upstream: {
      totals: aggregateUpstream(snaps.map((s) => s.upstream.totals)),
      origins: aggregateOrigins(snaps, maxOrigins),
    },
    tunnels: aggregateTunnels(snaps.map((s) => s.tunnels)),
    workers: workers.map((w) => ({
      id: w.id,
      pid: w.pid,
      state: w.state,
      connectionsAccepted: w.snapshot.downstream.connectionsAccepted,
      requests: w.snapshot.downstream.requests,
      upstreamSocketsCreated: w.snapshot.upstream.totals.socketsCreated,
      upstreamRequests: w.snapshot.upstream.totals.requests,
    })),
  });
}
