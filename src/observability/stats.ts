/**
 * Connection-reuse statistics (SPEC §8.1): counters owned in one place and fed only by telemetry events.
 * `snapshot()` returns a fresh, frozen object (undici's lib/util/stats.js style): readers never see live state.
 */
import type { DownstreamCloseReason, TelemetryEvent, UpstreamCloseReason } from './events.js';

/** Bounded sample window for connect-time percentiles. */
const SAMPLE_WINDOW = 1024;

class Samples {
  #values: number[] = [];
  #next = 0;
  #sum = 0;
  #count = 0;

  add(v: number): void {
    this.#sum += v;
    this.#count++;
    if (this.#values.length < SAMPLE_WINDOW) this.#values.push(v);
    else {
      this.#values[this.#next] = v;
      this.#next = (this.#next + 1) % SAMPLE_WINDOW;
    }
  }

  summary(): { mean: number; p99: number } {
    if (this.#count === 0) return { mean: 0, p99: 0 };
    const sorted = [...this.#values].sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
    return { mean: round(this.#sum / this.#count), p99: round(p99) };
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function bump<K extends string>(map: Partial<Record<K, number>>, key: K, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

class UpstreamCounters {
  socketsCreated = 0;
  socketsClosed = 0;
  socketsBusy = 0;
  closedBy: Partial<Record<UpstreamCloseReason, number>> = {};
  requests = 0;
  reusedRequests = 0;
  staleRetries = 0;
  errors: Record<string, number> = {};
  connectErrors = 0;
  requestsOnClosedSockets = 0;
  maxRequestsPerSocket = 0;
  connect = new Samples();

  snapshot() {
    const socketsActive = this.socketsCreated - this.socketsClosed;
    return {
      socketsCreated: this.socketsCreated,
      socketsActive,
      socketsBusy: this.socketsBusy,
      socketsIdle: Math.max(0, socketsActive - this.socketsBusy),
      socketsClosed: { ...this.closedBy },
      requests: this.requests,
      reusedRequests: this.reusedRequests,
      reuseRatio: this.requests === 0 ? 0 : round(this.reusedRequests / this.requests),
      staleRetries: this.staleRetries,
      errors: { ...this.errors },
      connectErrors: this.connectErrors,
      requestsPerSocket: {
        mean: this.socketsCreated === 0 ? 0 : round(this.requests / this.socketsCreated),
        max: this.maxRequestsPerSocket,
      },
      connectMs: this.connect.summary(),
    };
  }
}

export type UpstreamStats = ReturnType<UpstreamCounters['snapshot']>;

export interface StatsSnapshot {
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly downstream: {
    readonly connectionsAccepted: number;
    readonly connectionsActive: number;
    readonly connectionsClosed: Readonly<Partial<Record<DownstreamCloseReason, number>>>;
    readonly requests: number;
    readonly requestsPerConnection: { readonly mean: number; readonly max: number };
    readonly statuses: Readonly<Record<string, number>>;
  };
  readonly upstream: {
    readonly totals: UpstreamStats;
    readonly origins: Readonly<Record<string, UpstreamStats>>;
  };
  readonly tunnels: {
    readonly opened: number;
    readonly active: number;
    readonly bytesIn: number;
    readonly bytesOut: number;
    readonly closed: Readonly<Record<string, number>>;
  };
}

/** Owns every counter; `record(event)` is the only writer. */
export class Stats {
  readonly #started = Date.now();
  #accepted = 0;
  #dsClosed = 0;
  #dsClosedBy: Partial<Record<DownstreamCloseReason, number>> = {};
  #requests = 0;
  #maxPerConn = 0;
  #statuses: Record<string, number> = {};
  #totals = new UpstreamCounters();
  #origins = new Map<string, UpstreamCounters>();
  #tunnels = { opened: 0, closedCount: 0, bytesIn: 0, bytesOut: 0, closed: {} as Record<string, number> };

  #origin(origin: string): UpstreamCounters {
    let c = this.#origins.get(origin);
    if (c === undefined) {
      c = new UpstreamCounters();
      this.#origins.set(origin, c);
    }
    return c;
  }

  /** Apply one telemetry event. Both the origin's counters and the totals are updated. */
  record(e: TelemetryEvent): void {
    switch (e.type) {
      case 'downstream.open':
        this.#accepted++;
        return;
      case 'downstream.close':
        this.#dsClosed++;
        bump(this.#dsClosedBy, e.reason);
        return;
      case 'request': {
        this.#requests++;
        if (e.record.connReq > this.#maxPerConn) this.#maxPerConn = e.record.connReq;
        bump(this.#statuses, String(e.record.status));
        return;
      }
      case 'upstream.open':
        for (const c of [this.#totals, this.#origin(e.origin)]) {
          c.socketsCreated++;
          c.connect.add(e.connectMs);
        }
        return;
      case 'upstream.close':
        for (const c of [this.#totals, this.#origin(e.origin)]) {
          c.socketsClosed++;
          bump(c.closedBy, e.reason);
          if (e.requests > c.maxRequestsPerSocket) c.maxRequestsPerSocket = e.requests;
        }
        return;
      case 'upstream.request':
        for (const c of [this.#totals, this.#origin(e.origin)]) {
          c.requests++;
          c.socketsBusy++;
          if (e.reused) c.reusedRequests++;
        }
        return;
      case 'upstream.request-done':
        for (const c of [this.#totals, this.#origin(e.origin)]) c.socketsBusy = Math.max(0, c.socketsBusy - 1);
        return;
      case 'upstream.retry':
        for (const c of [this.#totals, this.#origin(e.origin)]) c.staleRetries++;
        return;
      case 'upstream.error':
      case 'upstream.connect-error':
        for (const c of [this.#totals, this.#origin(e.origin)]) {
          bump(c.errors, e.code);
          if (e.type === 'upstream.connect-error') c.connectErrors++;
        }
        return;
      case 'tunnel.open':
        this.#tunnels.opened++;
        return;
      case 'tunnel.close':
        this.#tunnels.closedCount++;
        this.#tunnels.bytesIn += e.bytesIn;
        this.#tunnels.bytesOut += e.bytesOut;
        bump(this.#tunnels.closed, e.reason);
        return;
    }
  }

  /** A fresh, deep-frozen snapshot (SPEC §8.3: served as JSON and Prometheus). */
  snapshot(): StatsSnapshot {
    const origins: Record<string, UpstreamStats> = {};
    for (const [k, v] of this.#origins) origins[k] = v.snapshot();
    const closedConns = this.#dsClosed;
    return deepFreeze({
      startedAt: new Date(this.#started).toISOString(),
      uptimeSeconds: round((Date.now() - this.#started) / 1000),
      downstream: {
        connectionsAccepted: this.#accepted,
        connectionsActive: this.#accepted - closedConns,
        connectionsClosed: { ...this.#dsClosedBy },
        requests: this.#requests,
        requestsPerConnection: {
          mean: this.#accepted === 0 ? 0 : round(this.#requests / this.#accepted),
          max: this.#maxPerConn,
        },
        statuses: { ...this.#statuses },
      },
      upstream: { totals: this.#totals.snapshot(), origins },
      tunnels: {
        opened: this.#tunnels.opened,
        active: this.#tunnels.opened - this.#tunnels.closedCount,
        bytesIn: this.#tunnels.bytesIn,
        bytesOut: this.#tunnels.bytesOut,
        closed: { ...this.#tunnels.closed },
      },
    });
  }
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
