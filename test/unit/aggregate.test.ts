import { describe, expect, it } from 'vitest';
import { aggregateStats, aggregateUpstream, retiredSnapshot } from '../../src/observability/aggregate.js';
import type { WorkerSnapshot } from '../../src/observability/aggregate.js';
import type { TelemetryEvent } from '../../src/observability/events.js';
import { Stats } from '../../src/observability/stats.js';
import type { StatsSnapshot, UpstreamStats } from '../../src/observability/stats.js';

const A = 'http://a.test:80';
const B = 'http://b.test:8080';

/** A real Stats snapshot after `events`, started at `startMs`. */
function snapshotOf(events: readonly TelemetryEvent[], startMs = 1_000_000, nowMs = startMs + 5_000): StatsSnapshot {
  let now = startMs;
  const stats = new Stats(() => now);
  for (const e of events) stats.record(e);
  now = nowMs;
  return stats.snapshot();
}

function request(conn: number, connReq: number, status = 200): TelemetryEvent {
  return {
    type: 'request',
    record: {
      conn, connReq, method: 'GET', target: `${A}/`, origin: A, upstream: 1, reused: connReq > 1, socketReq: connReq,
      status, bytes: 1, ms: 1, retried: false, error: undefined,
    },
  };
}

/** `n` requests over one downstream connection and one upstream socket to `origin` (connect time `connectMs`). */
function traffic(origin: string, socket: number, n: number, connectMs: number): TelemetryEvent[] {
  const events: TelemetryEvent[] = [
    { type: 'downstream.open', conn: socket, remote: '127.0.0.1' },
    { type: 'upstream.open', origin, socket, connectMs },
  ];
  for (let i = 1; i <= n; i++) {
    events.push({ type: 'upstream.request', origin, socket, reused: i > 1 });
    events.push({ type: 'upstream.request-done', origin, socket });
    events.push(request(socket, i));
  }
  return events;
}

const worker = (id: number, snapshot: StatsSnapshot, state: 'running' | 'exited' = 'running'): WorkerSnapshot => ({
  id,
  pid: 1000 + id,
  state,
  snapshot,
});

describe('aggregateStats: counters summed, ratios and means recomputed', () => {
  const w1 = snapshotOf([...traffic(A, 1, 3, 2), { type: 'upstream.close', origin: A, socket: 1, reason: 'idle-timeout', requests: 3 }]);
  const w2 = snapshotOf([...traffic(A, 1, 1, 4), ...traffic(B, 2, 4, 10), request(3, 1, 502)], 999_000, 1_005_000);
  const agg = aggregateStats([worker(1, w1), worker(2, w2)], 'never');

  it.each([
    ['downstream.requests', agg.downstream.requests, 3 + 1 + 4 + 1],
    ['downstream.connectionsAccepted', agg.downstream.connectionsAccepted, 1 + 2],
    ['downstream.requestsPerConnection.mean (9 / 3)', agg.downstream.requestsPerConnection.mean, 3],
    ['downstream.requestsPerConnection.max', agg.downstream.requestsPerConnection.max, 4],
    ['downstream.statuses 200', agg.downstream.statuses['200'], 8],
    ['downstream.statuses 502', agg.downstream.statuses['502'], 1],
    ['upstream.totals.socketsCreated', agg.upstream.totals.socketsCreated, 3],
    ['upstream.totals.socketsActive', agg.upstream.totals.socketsActive, 2],
    ['upstream.totals.requests', agg.upstream.totals.requests, 8],
    ['upstream.totals.reusedRequests', agg.upstream.totals.reusedRequests, 2 + 0 + 3],
    ['upstream.totals.reuseRatio (5 / 8)', agg.upstream.totals.reuseRatio, 0.625],
    ['upstream.totals.requestsPerSocket.mean (8 / 3)', agg.upstream.totals.requestsPerSocket.mean, 2.667],
    ['upstream.totals.requestsPerSocket.max', agg.upstream.totals.requestsPerSocket.max, 4],
    ['upstream.totals.socketsClosed.idle-timeout', agg.upstream.totals.socketsClosed['idle-timeout'], 1],
    ['upstream.totals.connectMs.mean ((2 + 4 + 10) / 3)', agg.upstream.totals.connectMs.mean, 5.333],
    ['upstream.totals.connectMs.p99 (largest worker p99)', agg.upstream.totals.connectMs.p99, 10],
    ['origins[A].requests', agg.upstream.origins[A]?.requests, 4],
    ['origins[A].socketsCreated', agg.upstream.origins[A]?.socketsCreated, 2],
    ['origins[B].requests', agg.upstream.origins[B]?.requests, 4],
    ['uptimeSeconds (the longest)', agg.uptimeSeconds, 6],
  ])('%s', (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('keeps the earliest start and a per-worker breakdown', () => {
    expect(agg.startedAt).toBe(new Date(999_000).toISOString());
    expect(agg.workers).toEqual([
      { id: 1, pid: 1001, state: 'running', connectionsAccepted: 1, requests: 3, upstreamSocketsCreated: 1, upstreamRequests: 3 },
      { id: 2, pid: 1002, state: 'running', connectionsAccepted: 2, requests: 6, upstreamSocketsCreated: 2, upstreamRequests: 5 },
    ]);
    expect(Object.isFrozen(agg.upstream.totals)).toBe(true);
  });
});

describe('aggregateStats edge cases', () => {
  it.each([
    { name: 'no workers yet: zeros and the fallback start', workers: [] as WorkerSnapshot[], requests: 0, active: 0 },
    { name: 'one worker: its own numbers', workers: [worker(1, snapshotOf(traffic(A, 1, 2, 1)))], requests: 2, active: 1 },
    {
      name: 'an exited worker: its counters stay, its gauges are zero',
      workers: [worker(1, snapshotOf(traffic(A, 1, 2, 1)), 'exited'), worker(2, snapshotOf(traffic(A, 1, 5, 1)))],
      requests: 7,
      active: 1,
    },
  ])('$name', ({ workers, requests, active }) => {
    const agg = aggregateStats(workers, 'fallback');
    expect(agg.downstream.requests).toBe(requests);
    expect(agg.downstream.connectionsActive).toBe(active);
    expect(agg.upstream.totals.socketsActive).toBe(active);
    if (workers.length === 0) expect(agg.startedAt).toBe('fallback');
  });

  it('retiredSnapshot zeroes every gauge and keeps every counter', () => {
    const s = retiredSnapshot(snapshotOf(traffic(A, 1, 2, 1)));
    expect([s.downstream.connectionsActive, s.upstream.totals.socketsActive, s.upstream.origins[A]?.socketsIdle]).toEqual([0, 0, 0]);
    expect([s.downstream.requests, s.upstream.totals.requests]).toEqual([2, 2]);
  });

  it('aggregateUpstream of nothing is all zeros, ratios 0 rather than NaN', () => {
    const u: UpstreamStats = aggregateUpstream([]);
    expect([u.reuseRatio, u.requestsPerSocket.mean, u.connectMs.mean]).toEqual([0, 0, 0]);
  });
});

describe('aggregateStats: per-origin entries bounded by stats.maxOrigins (issue 17 finding 11)', () => {
  const O = (i: number): string => `http://127.0.0.1:${20000 + i}`;

  it('the busiest origins keep their entry; the rest and every worker’s (other) are summed into (other)', () => {
    let socket = 1;
    const workerOf = (origins: [string, number][], maxOrigins: number): StatsSnapshot => {
      const stats = new Stats(() => 1_000_000, { maxOrigins });
      for (const [origin, n] of origins) for (const e of traffic(origin, socket++, n, 1)) stats.record(e);
      return stats.snapshot();
    };
    // Worker 1 keeps 3 origins of its own and folds one; worker 2 shares O(1) and has two more.
    const w1 = workerOf([[O(9), 1], [O(1), 5], [O(2), 1], [O(3), 2]], 3);
    const w2 = workerOf([[O(1), 4], [O(4), 3], [O(5), 1]], 3);
    expect(Object.keys(w1.upstream.origins)).toContain('(other)');
    const agg = aggregateStats([worker(1, w1), worker(2, w2)], 'never', 2);
    expect(Object.keys(agg.upstream.origins)).toEqual([O(1), O(4), '(other)']);
    expect(agg.upstream.origins[O(1)]!.requests).toBe(9);
    // (other): w1's folded O(9) (1) + O(2) (1) + O(3) (2) + O(5) (1).
    expect(agg.upstream.origins['(other)']!.requests).toBe(5);
    const sum = Object.values(agg.upstream.origins).reduce((n, u) => n + u.requests, 0);
    expect(sum).toBe(agg.upstream.totals.requests);
  });

  it('without a limit nothing is folded (a worker’s own (other) stays (other))', () => {
    const stats = new Stats(() => 1_000_000, { maxOrigins: 1 });
    for (const e of [...traffic(O(1), 1, 1, 1), ...traffic(O(2), 2, 1, 1)]) stats.record(e);
    const agg = aggregateStats([worker(1, stats.snapshot())], 'never');
    // O(1)'s socket is still open, so O(2) was counted in (other) from the start.
    expect(Object.keys(agg.upstream.origins)).toEqual([O(1), '(other)']);
  });
});
