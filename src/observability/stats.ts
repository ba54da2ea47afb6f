/**
 * Connection-reuse statistics (SPEC §8.1): counters owned in one place and fed only by telemetry events (issue 4: no
 * module reaches into another's sockets to count). `snapshot()` returns a fresh, deep-frozen object (undici's
 * lib/util/stats.js style): readers never see live state, and /stats, /metrics and the log summaries all read it.
 *
 * Per-origin counters are kept for at most `maxOrigins` origins (`stats.maxOrigins`; issue 17: 40,000 refused ports
 * made /metrics 41 MB). When a new origin needs an entry and the table is full, the least recently active origin with
 * no open socket is folded into one aggregate entry, {@link OTHER_ORIGINS}; if every entry has open sockets, the new
 * origin is counted there directly. A socket's events always go to the entry that counted its opening, so every entry
 * stays consistent (active = created − closed) and the entries always sum to the totals.
 */
import type { DownstreamCloseReason, TelemetryEvent, UpstreamCloseReason } from './events.js';
import { Samples, round } from './samples.js';
import type { StatsSnapshot, UpstreamStats } from './stats-snapshot.js';

import { OTHER_ORIGINS } from './stats-snapshot.js';

export type { DownstreamStats, PerConnection, StatsSnapshot, TunnelStats, UpstreamStats } from './stats-snapshot.js';
export { OTHER_ORIGINS } from './stats-snapshot.js';

function bump<K extends string>(map: Partial<Record<K, number>>, key: K, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

/** Mutable counters for one origin (or the totals); only Stats writes them. */
class UpstreamCounters {
  socketsCreated = 0;
  socketsClosed = 0;
  socketsBusy = 0;
  closedBy: Partial<Record<UpstreamCloseReason, number>> = {};
  requests = 0;
  reusedRequests = 0;
  staleRetries = 0;
  freshForUnsafe = 0;
  errors: Record<string, number> = {};
  connectErrors = 0;
  maxRequestsPerSocket = 0;
  readonly connect = new Samples();

  /** Open sockets counted here; an entry with none can be folded away. */
  get open(): number {
    return this.socketsCreated - this.socketsClosed;
  }

  /** Add `o`'s counts to these (an origin folded into the aggregate entry). */
  absorb(o: UpstreamCounters): void {
    this.socketsCreated += o.socketsCreated;
    this.socketsClosed += o.socketsClosed;
    this.socketsBusy += o.socketsBusy;
    for (const [k, v] of Object.entries(o.closedBy) as [UpstreamCloseReason, number][]) bump(this.closedBy, k, v);
    this.requests += o.requests;
    this.reusedRequests += o.reusedRequests;
    this.staleRetries += o.staleRetries;
    for (const [k, v] of Object.entries(o.errors)) bump(this.errors, k, v);
    this.connectErrors += o.connectErrors;
    this.maxRequestsPerSocket = Math.max(this.maxRequestsPerSocket, o.maxRequestsPerSocket);
    this.connect.absorb(o.connect);
  }

  snapshot(): UpstreamStats {
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
      freshForUnsafe: this.freshForUnsafe,
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

type Pair = readonly [UpstreamCounters, UpstreamCounters];

/**
 * What Stats remembers about an open upstream socket: enough to count busy sockets and the per-socket maximum, and
 * the counters that counted its opening (its origin's entry, or the aggregate one).
 */
interface OpenSocket {
  requests: number;
  busy: boolean;
  pair: Pair | undefined;
}

/** Owns every counter; `record(event)` is the only writer. */
export class Stats {
  readonly #started: number;
  readonly #now: () => number;
  #accepted = 0;
  #dsClosed = 0;
  #dsClosedBy: Partial<Record<DownstreamCloseReason, number>> = {};
  #requests = 0;
  #maxPerConn = 0;
  #statuses: Record<string, number> = {};
  readonly #totals = new UpstreamCounters();
  /**
   * Per origin, the pair every upstream event updates: [totals, origin]. Kept as a tuple so counting allocates nothing.
   * Map order is recency (an origin moves to the end when it opens a socket or fails to): the front is folded first.
   */
  readonly #origins = new Map<string, Pair>();
  readonly #maxOrigins: number;
  /** [totals, the aggregate entry], once an origin has been folded or counted there. */
  #other: Pair | undefined;
  readonly #open = new Map<number, OpenSocket>();
  #tunnels = { opened: 0, closedCount: 0, bytesIn: 0, bytesOut: 0, closed: {} as Record<string, number> };

  /** `now` (milliseconds since the epoch) is injectable so uptime is testable; `maxOrigins` = `stats.maxOrigins`. */
  constructor(now: () => number = Date.now, opts: { readonly maxOrigins?: number } = {}) {
    this.#now = now;
    this.#started = now();
    this.#maxOrigins = opts.maxOrigins ?? 100;
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
      case 'request':
        this.#requests++;
        if (e.record.connReq > this.#maxPerConn) this.#maxPerConn = e.record.connReq;
        bump(this.#statuses, String(e.record.status));
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
      default:
        this.#recordUpstream(e);
    }
  }

  #recordUpstream(e: TelemetryEvent): void {
    switch (e.type) {
      case 'upstream.open': {
        const pair = this.#both(e.origin, true);
        this.#open.set(e.socket, { requests: 0, busy: false, pair });
        for (const c of pair) {
          c.socketsCreated++;
          c.connect.add(e.connectMs);
        }
        return;
      }
      case 'upstream.request': {
        const s = this.#socket(e.socket);
        s.requests++;
        const becameBusy = !s.busy;
        s.busy = true;
        s.pair ??= this.#both(e.origin);
        for (const c of s.pair) {
          c.requests++;
          if (e.reused) c.reusedRequests++;
          if (becameBusy) c.socketsBusy++;
          if (s.requests > c.maxRequestsPerSocket) c.maxRequestsPerSocket = s.requests;
        }
        return;
      }
      case 'upstream.request-done':
        this.#idle(e.origin, e.socket);
        return;
      case 'upstream.close': {
        // A socket that dies mid-request never reports request-done: it stops being busy here.
        this.#idle(e.origin, e.socket);
        const pair = this.#open.get(e.socket)?.pair ?? this.#both(e.origin);
        this.#open.delete(e.socket);
        for (const c of pair) {
          c.socketsClosed++;
          bump(c.closedBy, e.reason);
          if (e.requests > c.maxRequestsPerSocket) c.maxRequestsPerSocket = e.requests;
        }
        return;
      }
      case 'upstream.retry':
        for (const c of this.#both(e.origin)) c.staleRetries++;
        return;
      case 'upstream.fresh-for-unsafe':
        for (const c of this.#both(e.origin)) c.freshForUnsafe++;
        return;
      case 'upstream.error':
        for (const c of this.#both(e.origin)) bump(c.errors, e.code);
        return;
      case 'upstream.connect-error':
        for (const c of this.#both(e.origin, true)) c.connectErrors++;
        return;
      default:
        return;
    }
  }

  /**
   * The totals and the origin's counters, the pair every upstream event updates. `touch` (a socket opened, or failed
   * to) makes the origin the most recent. A new origin gets an entry, folding the least recent idle one if the table
   * is full; with no idle one to fold, it is counted in the aggregate entry.
   */
  #both(origin: string, touch = false): Pair {
    let pair = this.#origins.get(origin);
    if (pair !== undefined) {
      if (touch) {
        this.#origins.delete(origin);
        this.#origins.set(origin, pair);
      }
      return pair;
    }
    if (this.#origins.size >= this.#maxOrigins && !this.#foldOne()) return this.#aggregate();
    pair = [this.#totals, new UpstreamCounters()];
    this.#origins.set(origin, pair);
    return pair;
  }

  /** Fold the least recent origin without open sockets into the aggregate entry; false when every one has some. */
  #foldOne(): boolean {
    for (const [origin, pair] of this.#origins) {
      if (pair[1].open !== 0) continue;
      this.#aggregate()[1].absorb(pair[1]);
      this.#origins.delete(origin);
      return true;
    }
    return false;
  }

  #aggregate(): Pair {
    this.#other ??= [this.#totals, new UpstreamCounters()];
    return this.#other;
  }

  #socket(id: number): OpenSocket {
    let s = this.#open.get(id);
    if (s === undefined) {
      s = { requests: 0, busy: false, pair: undefined };
      this.#open.set(id, s);
    }
    return s;
  }

  #idle(origin: string, id: number): void {
    const s = this.#open.get(id);
    if (s === undefined || !s.busy) return;
    s.busy = false;
    for (const c of s.pair ?? this.#both(origin)) c.socketsBusy--;
  }

  /** A fresh, deep-frozen snapshot (SPEC §8.3: the same numbers are logged, served as JSON and as Prometheus text). */
  snapshot(): StatsSnapshot {
    const origins: Record<string, UpstreamStats> = {};
    for (const [k, [, v]] of this.#origins) origins[k] = v.snapshot();
    if (this.#other !== undefined) origins[OTHER_ORIGINS] = this.#other[1].snapshot();
    const now = this.#now();
    return deepFreeze({
      startedAt: new Date(this.#started).toISOString(),
      uptimeSeconds: round((now - this.#started) / 1000),
      downstream: {
        connectionsAccepted: this.#accepted,
        connectionsActive: this.#accepted - this.#dsClosed,
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
