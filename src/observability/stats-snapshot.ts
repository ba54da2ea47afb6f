/**
 * The shape of a statistics snapshot (SPEC §8.1): what `GET /stats` serves, what `hopwise stats --json` prints, and
 * what the summaries and Prometheus metrics are read from. docs/statistics.md documents every field.
 */
import type { DownstreamCloseReason, UpstreamCloseReason } from './events.js';

/** The origin key under which origins beyond `stats.maxOrigins` are counted together (label `origin="(other)"`). */
export const OTHER_ORIGINS = '(other)';

/** Mean and maximum of requests served per connection (downstream) or per socket (upstream). */
export interface PerConnection {
  /** Requests divided by connections (or sockets) ever opened, open ones included. */
  readonly mean: number;
  /** The most requests any single connection (or socket) has carried so far, open ones included. */
  readonly max: number;
}

/** Upstream counters for one origin, or for all of them (`upstream.totals`). */
export interface UpstreamStats {
  /** TCP connections opened to the origin (successful connects). */
  readonly socketsCreated: number;
  /** Open now: created minus closed. */
  readonly socketsActive: number;
  /** Open and carrying a request now. */
  readonly socketsBusy: number;
  /** Open and waiting in the pool for the next request: active minus busy. */
  readonly socketsIdle: number;
  /** Closed sockets, by reason (SPEC §4; see UpstreamCloseReason). */
  readonly socketsClosed: Readonly<Partial<Record<UpstreamCloseReason, number>>>;
  /** Requests written to a socket (a stale retry counts twice: once per attempt). */
  readonly requests: number;
  /** Requests written to a socket that had already carried a request. */
  readonly reusedRequests: number;
  /** reusedRequests / requests, 0 when there were no requests (3 decimals). */
  readonly reuseRatio: number;
  /** Stale-socket retries (SPEC §4.3). */
  readonly staleRetries: number;
  /** Requests that cannot be replayed sent on a fresh connection because every idle one was idle too long. */
  readonly freshForUnsafe: number;
  /** Failed exchanges by stable ProxyError code (UPSTREAM_RESET, UPSTREAM_RESPONSE_TIMEOUT, ...). */
  readonly errors: Readonly<Record<string, number>>;
  /** Connection attempts that failed (refused, DNS, timeout); they never became sockets. */
  readonly connectErrors: number;
  readonly requestsPerSocket: PerConnection;
  /** TCP (and TLS) connect time in milliseconds: mean over all connects, p99 over the last 1024. */
  readonly connectMs: { readonly mean: number; readonly p99: number };
}

/** Client-side counters (SPEC §3, §8.1). */
export interface DownstreamStats {
  /** TCP connections accepted from clients. */
  readonly connectionsAccepted: number;
  /** Accepted minus closed (a connection handed to a tunnel counts as closed, reason `tunnel`). */
  readonly connectionsActive: number;
  /** Closed connections by reason (see DownstreamCloseReason). */
  readonly connectionsClosed: Readonly<Partial<Record<DownstreamCloseReason, number>>>;
  /** Requests answered (relayed or answered by the proxy itself), counted when the response ends. */
  readonly requests: number;
  readonly requestsPerConnection: PerConnection;
  /** Responses by status code; 499 means the client went away first. */
  readonly statuses: Readonly<Record<string, number>>;
}

/** CONNECT tunnels and upgraded connections (SPEC §6), as reported by `tunnel.open` / `tunnel.close` events. */
export interface TunnelStats {
  readonly opened: number;
  /** Opened minus closed. */
  readonly active: number;
  /** Bytes relayed from the client towards the target, summed over closed tunnels. */
  readonly bytesIn: number;
  /** Bytes relayed from the target back to the client, summed over closed tunnels. */
  readonly bytesOut: number;
  /** Closed tunnels by the reason the tunnel module gave. */
  readonly closed: Readonly<Record<string, number>>;
}

export interface StatsSnapshot {
  /** When the proxy was created (ISO 8601). */
  readonly startedAt: string;
  /** Seconds since then (3 decimals). */
  readonly uptimeSeconds: number;
  readonly downstream: DownstreamStats;
  readonly upstream: {
    readonly totals: UpstreamStats;
    /**
     * Keyed by origin, `scheme://host:port` (e.g. `http://127.0.0.1:9000`): at most `stats.maxOrigins` of them, plus
     * `(other)` for the origins counted together beyond that.
     */
    readonly origins: Readonly<Record<string, UpstreamStats>>;
  };
  readonly tunnels: TunnelStats;
}
