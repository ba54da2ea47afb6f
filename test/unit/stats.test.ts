import { describe, expect, it } from 'vitest';
import type { RequestRecord, TelemetryEvent } from '../../src/observability/events.js';
import { Samples } from '../../src/observability/samples.js';
import { Stats } from '../../src/observability/stats.js';
import type { StatsSnapshot } from '../../src/observability/stats.js';

const A = 'http://a.test:80';
const B = 'http://b.test:8080';

function req(conn: number, connReq: number, status = 200): TelemetryEvent {
  const record: RequestRecord = {
    conn,
    connReq,
    method: 'GET',
    target: `${A}/`,
    origin: A,
    upstream: 1,
    reused: false,
    socketReq: 1,
    status,
    bytes: 10,
    ms: 1,
    retried: false,
    error: undefined,
  };
  return { type: 'request', record };
}
const open = (origin: string, socket: number, connectMs = 1): TelemetryEvent => ({ type: 'upstream.open', origin, socket, connectMs });
const send = (origin: string, socket: number, reused: boolean): TelemetryEvent => ({ type: 'upstream.request', origin, socket, reused });
const done = (origin: string, socket: number): TelemetryEvent => ({ type: 'upstream.request-done', origin, socket });
const close = (origin: string, socket: number, reason: 'idle-timeout' | 'error' | 'origin-asked', requests: number): TelemetryEvent => ({
  type: 'upstream.close',
  origin,
  socket,
  reason,
  requests,
});
/** One full exchange on a socket: request written, response finished. */
const exchange = (origin: string, socket: number, reused: boolean): TelemetryEvent[] => [send(origin, socket, reused), done(origin, socket)];

function run(events: readonly TelemetryEvent[]): StatsSnapshot {
  const stats = new Stats();
  for (const e of events) stats.record(e);
  return stats.snapshot();
}

describe('Stats: downstream', () => {
  it.each([
    { name: 'nothing happened', events: [], expected: { connectionsAccepted: 0, connectionsActive: 0, requests: 0, mean: 0, max: 0 } },
    {
      name: 'one connection, three requests, still open',
      events: [{ type: 'downstream.open', conn: 1, remote: '127.0.0.1' }, req(1, 1), req(1, 2), req(1, 3)],
      expected: { connectionsAccepted: 1, connectionsActive: 1, requests: 3, mean: 3, max: 3 },
    },
    {
      name: 'two connections (1 and 3 requests), one closed',
      events: [
        { type: 'downstream.open', conn: 1, remote: '127.0.0.1' },
        { type: 'downstream.open', conn: 2, remote: '127.0.0.1' },
        req(1, 1),
        req(2, 1),
        req(2, 2),
        req(2, 3),
        { type: 'downstream.close', conn: 1, reason: 'client-asked', requests: 1 },
      ],
      expected: { connectionsAccepted: 2, connectionsActive: 1, requests: 4, mean: 2, max: 3 },
    },
  ] satisfies { name: string; events: TelemetryEvent[]; expected: Record<string, number> }[])('$name', ({ events, expected }) => {
    const d = run(events).downstream;
    expect({
      connectionsAccepted: d.connectionsAccepted,
      connectionsActive: d.connectionsActive,
      requests: d.requests,
      mean: d.requestsPerConnection.mean,
      max: d.requestsPerConnection.max,
    }).toEqual(expected);
  });

  it.each([
    {
      name: 'close reasons are counted separately',
      events: [
        { type: 'downstream.close', conn: 1, reason: 'client-asked', requests: 1 },
        { type: 'downstream.close', conn: 2, reason: 'client-asked', requests: 1 },
        { type: 'downstream.close', conn: 3, reason: 'idle-timeout', requests: 4 },
        { type: 'downstream.close', conn: 4, reason: 'tunnel', requests: 1 },
      ],
      closed: { 'client-asked': 2, 'idle-timeout': 1, tunnel: 1 },
      statuses: {},
    },
    { name: 'statuses by code', events: [req(1, 1, 200), req(1, 2, 200), req(2, 1, 502), req(3, 1, 499)], closed: {}, statuses: { 200: 2, 502: 1, 499: 1 } },
  ] satisfies { name: string; events: TelemetryEvent[]; closed: object; statuses: object }[])('$name', ({ events, closed, statuses }) => {
    const d = run(events).downstream;
    expect(d.connectionsClosed).toEqual(closed);
    expect(d.statuses).toEqual(statuses);
  });
});

describe('Stats: upstream sockets and reuse', () => {
  it.each([
    {
      name: 'one socket, four requests: 3 reused, ratio 0.75, idle afterwards',
      events: [open(A, 1), ...exchange(A, 1, false), ...exchange(A, 1, true), ...exchange(A, 1, true), ...exchange(A, 1, true)],
      expected: { socketsCreated: 1, socketsActive: 1, socketsBusy: 0, socketsIdle: 1, requests: 4, reusedRequests: 3, reuseRatio: 0.75, mean: 4, max: 4 },
    },
    {
      name: 'a request in flight makes its socket busy, not idle',
      events: [open(A, 1), open(A, 2), ...exchange(A, 1, false), send(A, 2, false)],
      expected: { socketsCreated: 2, socketsActive: 2, socketsBusy: 1, socketsIdle: 1, requests: 2, reusedRequests: 0, reuseRatio: 0, mean: 1, max: 1 },
    },
    {
      name: 'a socket that dies mid-request stops being busy (no request-done)',
      events: [open(A, 1), send(A, 1, false), close(A, 1, 'error', 1)],
      expected: { socketsCreated: 1, socketsActive: 0, socketsBusy: 0, socketsIdle: 0, requests: 1, reusedRequests: 0, reuseRatio: 0, mean: 1, max: 1 },
    },
    {
      name: 'a stray request-done is ignored (busy never goes negative)',
      events: [open(A, 1), done(A, 1), done(A, 1)],
      expected: { socketsCreated: 1, socketsActive: 1, socketsBusy: 0, socketsIdle: 1, requests: 0, reusedRequests: 0, reuseRatio: 0, mean: 0, max: 0 },
    },
    {
      name: 'closed sockets keep their request count in max; mean is requests per socket created',
      events: [
        open(A, 1),
        ...exchange(A, 1, false),
        ...exchange(A, 1, true),
        ...exchange(A, 1, true),
        close(A, 1, 'idle-timeout', 3),
        open(A, 2),
        ...exchange(A, 2, false),
      ],
      expected: { socketsCreated: 2, socketsActive: 1, socketsBusy: 0, socketsIdle: 1, requests: 4, reusedRequests: 2, reuseRatio: 0.5, mean: 2, max: 3 },
    },
    {
      name: 'ratio is rounded to 3 decimals (2 of 3)',
      events: [open(A, 1), ...exchange(A, 1, false), ...exchange(A, 1, true), ...exchange(A, 1, true)],
      expected: { socketsCreated: 1, socketsActive: 1, socketsBusy: 0, socketsIdle: 1, requests: 3, reusedRequests: 2, reuseRatio: 0.667, mean: 3, max: 3 },
    },
  ] satisfies { name: string; events: TelemetryEvent[]; expected: Record<string, number> }[])('$name', ({ events, expected }) => {
    const s = run(events);
    for (const u of [s.upstream.totals, s.upstream.origins[A]!]) {
      expect({
        socketsCreated: u.socketsCreated,
        socketsActive: u.socketsActive,
        socketsBusy: u.socketsBusy,
        socketsIdle: u.socketsIdle,
        requests: u.requests,
        reusedRequests: u.reusedRequests,
        reuseRatio: u.reuseRatio,
        mean: u.requestsPerSocket.mean,
        max: u.requestsPerSocket.max,
      }).toEqual(expected);
    }
  });

  it('keeps origins apart and sums them in totals', () => {
    const s = run([
      open(A, 1),
      open(B, 2),
      ...exchange(A, 1, false),
      ...exchange(A, 1, true),
      ...exchange(B, 2, false),
      close(B, 2, 'origin-asked', 1),
      { type: 'upstream.retry', origin: A, method: 'GET' },
      { type: 'upstream.error', origin: A, code: 'UPSTREAM_RESET' },
      { type: 'upstream.error', origin: B, code: 'UPSTREAM_RESPONSE_TIMEOUT' },
      { type: 'upstream.connect-error', origin: B, code: 'ECONNREFUSED' },
    ]);
    const a = s.upstream.origins[A]!;
    const b = s.upstream.origins[B]!;
    const t = s.upstream.totals;
    expect(Object.keys(s.upstream.origins).sort()).toEqual([A, B]);
    expect([a.socketsCreated, b.socketsCreated, t.socketsCreated]).toEqual([1, 1, 2]);
    expect([a.requests, b.requests, t.requests]).toEqual([2, 1, 3]);
    expect([a.reusedRequests, b.reusedRequests, t.reusedRequests]).toEqual([1, 0, 1]);
    expect([a.reuseRatio, b.reuseRatio, t.reuseRatio]).toEqual([0.5, 0, 0.333]);
    expect([a.socketsClosed, b.socketsClosed, t.socketsClosed]).toEqual([{}, { 'origin-asked': 1 }, { 'origin-asked': 1 }]);
    expect([a.staleRetries, b.staleRetries, t.staleRetries]).toEqual([1, 0, 1]);
    expect([a.errors, b.errors, t.errors]).toEqual([
      { UPSTREAM_RESET: 1 },
      { UPSTREAM_RESPONSE_TIMEOUT: 1 },
      { UPSTREAM_RESET: 1, UPSTREAM_RESPONSE_TIMEOUT: 1 },
    ]);
    expect([a.connectErrors, b.connectErrors, t.connectErrors]).toEqual([0, 1, 1]);
  });

  it.each([
    { name: 'no connects', ms: [], expected: { mean: 0, p99: 0 } },
    { name: 'one connect', ms: [2.5], expected: { mean: 2.5, p99: 2.5 } },
    { name: 'mean of all, p99 nearest rank', ms: [1, 2, 3, 4, 100], expected: { mean: 22, p99: 100 } },
    { name: '100 values: p99 is the 99th', ms: Array.from({ length: 100 }, (_, i) => i + 1), expected: { mean: 50.5, p99: 99 } },
  ])('connect time: $name', ({ ms, expected }) => {
    const s = run(ms.map((m, i) => open(A, i + 1, m)));
    expect(s.upstream.totals.connectMs).toEqual(expected);
    expect(s.upstream.origins[A]?.connectMs ?? { mean: 0, p99: 0 }).toEqual(expected);
  });
});

describe('Stats: tunnels, snapshot', () => {
  it.each([
    { name: 'none', events: [], expected: { opened: 0, active: 0, bytesIn: 0, bytesOut: 0, closed: {} } },
    {
      name: 'two opened, one closed with bytes',
      events: [
        { type: 'tunnel.open', tunnel: 1, conn: 1, kind: 'connect', target: 'a:443' },
        { type: 'tunnel.open', tunnel: 2, conn: 2, kind: 'upgrade', target: 'b:80' },
        { type: 'tunnel.close', tunnel: 1, kind: 'connect', target: 'a:443', reason: 'client-closed', bytesIn: 100, bytesOut: 2000, ms: 5 },
      ],
      expected: { opened: 2, active: 1, bytesIn: 100, bytesOut: 2000, closed: { 'client-closed': 1 } },
    },
  ] satisfies { name: string; events: TelemetryEvent[]; expected: object }[])('tunnels: $name', ({ events, expected }) => {
    expect(run(events).tunnels).toEqual(expected);
  });

  it('snapshots are frozen copies: later events do not change an earlier snapshot', () => {
    const stats = new Stats();
    stats.record(open(A, 1));
    const before = stats.snapshot();
    stats.record(send(A, 1, false));
    expect(Object.isFrozen(before)).toBe(true);
    expect(Object.isFrozen(before.upstream.origins[A])).toBe(true);
    expect(before.upstream.totals.requests).toBe(0);
    expect(stats.snapshot().upstream.totals.requests).toBe(1);
  });

  it('reports uptime from the injected clock', () => {
    let now = 1_000_000;
    const stats = new Stats(() => now);
    now += 2500;
    const s = stats.snapshot();
    expect(s.uptimeSeconds).toBe(2.5);
    expect(s.startedAt).toBe(new Date(1_000_000).toISOString());
  });
});

describe('Samples', () => {
  it.each([
    { window: 4, values: [1, 1, 1, 1, 9, 9, 9, 9], expected: { mean: 5, p99: 9 } },
    { window: 4, values: [100, 1, 1, 1, 1], expected: { mean: 20.8, p99: 1 } },
  ])('window $window over $values', ({ window, values, expected }) => {
    const s = new Samples(window);
    for (const v of values) s.add(v);
    expect(s.summary()).toEqual(expected);
  });
});

describe('Stats: per-origin entries are bounded by stats.maxOrigins (issue 17 finding 11)', () => {
  const origin = (i: number): string => `http://127.0.0.1:${10000 + i}`;
  const refused = (o: string): TelemetryEvent[] => [
    { type: 'upstream.connect-error', origin: o, code: 'UPSTREAM_REFUSED' },
    { type: 'upstream.error', origin: o, code: 'UPSTREAM_REFUSED' },
  ];

  function sumOf(s: StatsSnapshot, pick: (u: StatsSnapshot['upstream']['totals']) => number): number {
    return Object.values(s.upstream.origins).reduce((n, u) => n + pick(u), 0);
  }

  it('2,000 refused origins with a limit of 50: 50 entries plus (other); the entries sum to the totals', () => {
    const stats = new Stats(Date.now, { maxOrigins: 50 });
    for (let i = 0; i < 2000; i++) for (const e of refused(origin(i))) stats.record(e);
    const s = stats.snapshot();
    expect(Object.keys(s.upstream.origins)).toHaveLength(51);
    expect(s.upstream.origins['(other)']!.connectErrors).toBe(1950);
    expect(s.upstream.origins['(other)']!.errors).toEqual({ UPSTREAM_REFUSED: 1950 });
    // The most recent 50 keep their own entry.
    expect(Object.keys(s.upstream.origins).slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => origin(1950 + i)));
    expect(sumOf(s, (u) => u.connectErrors)).toBe(s.upstream.totals.connectErrors);
    expect(s.upstream.totals.connectErrors).toBe(2000);
    expect(JSON.stringify(s).length).toBeLessThan(50_000);
  });

  it('an origin with an open socket keeps its entry; its later events stay consistent; folded counts are summed', () => {
    const stats = new Stats(Date.now, { maxOrigins: 2 });
    for (const e of [open(A, 1, 4), send(A, 1, false), open(B, 2, 2), ...exchange(B, 2, false), close(B, 2, 'idle-timeout', 1)]) stats.record(e);
    // Full: a third origin folds B (no open socket), not A (one open, busy).
    for (const e of refused(origin(1))) stats.record(e);
    for (const e of [done(A, 1), ...exchange(A, 1, true), close(A, 1, 'error', 2)]) stats.record(e);
    const s = stats.snapshot();
    expect(Object.keys(s.upstream.origins)).toEqual([A, origin(1), '(other)']);
    expect(s.upstream.origins[A]).toMatchObject({ socketsCreated: 1, socketsActive: 0, socketsBusy: 0, requests: 2, reusedRequests: 1 });
    expect(s.upstream.origins['(other)']).toMatchObject({ socketsCreated: 1, socketsActive: 0, requests: 1, socketsClosed: { 'idle-timeout': 1 }, connectMs: { mean: 2, p99: 2 } });
    for (const k of ['socketsCreated', 'requests', 'connectErrors', 'socketsBusy'] as const) {
      expect(sumOf(s, (u) => u[k])).toBe(s.upstream.totals[k]);
    }
  });

  it('every entry busy: a new origin is counted in (other), and its socket stays there until it closes', () => {
    const stats = new Stats(Date.now, { maxOrigins: 1 });
    for (const e of [open(A, 1), send(A, 1, false), open(B, 2), send(B, 2, false)]) stats.record(e);
    let s = stats.snapshot();
    expect(Object.keys(s.upstream.origins)).toEqual([A, '(other)']);
    expect(s.upstream.origins['(other)']).toMatchObject({ socketsActive: 1, socketsBusy: 1 });
    // A goes idle and closes; B's socket finishes: its events still go to (other), which it opened in.
    for (const e of [done(A, 1), close(A, 1, 'idle-timeout', 1), done(B, 2), close(B, 2, 'idle-timeout', 1)]) stats.record(e);
    s = stats.snapshot();
    expect(s.upstream.origins['(other)']).toMatchObject({ socketsActive: 0, socketsBusy: 0, socketsCreated: 1 });
    expect(s.upstream.origins[A]).toMatchObject({ socketsActive: 0, socketsBusy: 0, socketsCreated: 1 });
  });
});

describe('Samples.absorb', () => {
  it('the mean covers both; the window takes the absorbed values as the most recent', () => {
    const a = new Samples(4);
    const b = new Samples(4);
    for (const v of [1, 1, 1, 1]) a.add(v);
    for (const v of [10, 20, 30, 40, 50]) b.add(v);
    a.absorb(b);
    expect(a.summary()).toEqual({ mean: Math.round((4 + 150) / 9 * 1000) / 1000, p99: 50 });
  });
});
