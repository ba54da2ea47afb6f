/**
 * Named telemetry events: the only way the downstream server, the upstream pools and the tunnels report what happened.
 * Stats and logs subscribe; no module reaches into another's sockets to count (issue 4, SPEC §8).
 */

import type { FlowRecord } from './flow-record.js';

/** Why a downstream (client) connection closed (SPEC §3.1). */
export type DownstreamCloseReason =
  | 'client-closed' // the client closed or reset its side
  | 'client-asked' // the client sent Connection: close
  | 'http1.0' // HTTP/1.0 clients are never kept alive (RFC 9112 §9.3)
  | 'idle-timeout' // downstream.keepAliveTimeout
  | 'max-requests' // downstream.maxRequestsPerConnection
  | 'bad-request' // malformed request, 408, 431
  | 'upstream-aborted' // the response was truncated upstream; the downstream connection is destroyed (SPEC §5.2)
  | 'tunnel' // the connection became a CONNECT tunnel or an upgrade; counted by the tunnel from then on
  | 'tunnel-failed' // handed to a tunnel that never opened: a refused or failed CONNECT, a declined upgrade
  | 'shutdown'
  | 'access-denied' // refused at accept time: the client address is not in access.clients (issue 7)
  | 'over-limit' // refused at accept time: downstream.maxConnections or maxConnectionsPerClient (issue 7)
  | 'error';

/** Which access check refused a request or connection (issue 7). */
export type DenialKind = 'client' | 'auth' | 'loop' | 'destination';

/** Why an upstream (origin) socket closed (SPEC §4, issue 3). */
export type UpstreamCloseReason =
  | 'idle-timeout' // upstream.idleTimeout
  | 'keep-alive-hint' // retired early because of the origin's Keep-Alive: timeout=N (SPEC §4.2)
  | 'origin-closed' // the origin closed an idle or finished socket
  | 'origin-asked' // the origin said Connection: close (SPEC §4.6)
  | 'max-requests' // upstream.maxRequestsPerSocket, or the one-shot connection of a stale retry
  | 'client-aborted' // the downstream client went away mid-exchange (SPEC §4.5)
  | 'error' // reset, parse error, timeout while in use
  | 'evicted' // its pool was evicted (upstream.maxOrigins)
  | 'shutdown';

/** One completed (or failed) proxied request: the access-log entry and the stats input (SPEC §8.2). */
export interface RequestRecord {
  readonly conn: number;
  readonly connReq: number;
  readonly method: string;
  readonly target: string;
  readonly origin: string | undefined;
  readonly upstream: number | undefined;
  readonly reused: boolean;
  readonly socketReq: number | undefined;
  readonly status: number;
  readonly bytes: number;
  readonly ms: number;
  readonly retried: boolean;
  /** Stable ProxyError code when the proxy answered or aborted; undefined for a clean relay. */
  readonly error: string | undefined;
  /** Issue 13: the parent proxy (`http://host:port`) the request went through; absent when it went direct. */
  readonly route?: string | undefined;
}

/** Milliseconds since `started` (a `performance.now()` value), rounded to 0.01 ms for logs. */
export function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

/**
 * The access record of an exchange that used no pooled upstream socket (CONNECT, WebSocket upgrades): same shape as
 * a proxied request's, with the socket fields empty.
 */
export function unpooledRecord(r: {
  conn: number;
  connReq: number;
  method: string;
  target: string;
  origin: string | undefined;
  status: number;
  bytes: number;
  started: number;
  error: string | undefined;
  route?: string | undefined;
}): RequestRecord {
  return {
    conn: r.conn,
    connReq: r.connReq,
    method: r.method,
    target: r.target,
    origin: r.origin,
    upstream: undefined,
    reused: false,
    socketReq: undefined,
    status: r.status,
    bytes: r.bytes,
    ms: elapsedMs(r.started),
    retried: false,
    error: r.error,
    ...(r.route === undefined ? {} : { route: r.route }),
  };
}

export type TelemetryEvent =
  | { readonly type: 'downstream.open'; readonly conn: number; readonly remote: string }
  | { readonly type: 'downstream.close'; readonly conn: number; readonly reason: DownstreamCloseReason; readonly requests: number }
  | { readonly type: 'upstream.open'; readonly origin: string; readonly socket: number; readonly connectMs: number }
  | {
      readonly type: 'upstream.close';
      readonly origin: string;
      readonly socket: number;
      readonly reason: UpstreamCloseReason;
      readonly requests: number;
    }
  | { readonly type: 'upstream.connect-error'; readonly origin: string; readonly code: string }
  | { readonly type: 'upstream.retry'; readonly origin: string; readonly method: string }
  /** A request that cannot be replayed skipped the idle connections (idle too long to be safe) for a fresh one. */
  | { readonly type: 'upstream.fresh-for-unsafe'; readonly origin: string }
  | {
      readonly type: 'upstream.request';
      readonly origin: string;
      readonly socket: number;
      readonly reused: boolean;
    }
  | { readonly type: 'upstream.request-done'; readonly origin: string; readonly socket: number }
  | { readonly type: 'upstream.error'; readonly origin: string; readonly code: string }
  /** Issue 13: a parent's connect failed; it is marked down and `next` (if any) is tried instead. */
  | { readonly type: 'parent.failover'; readonly parent: string; readonly code: string; readonly next: string | undefined }
  | { readonly type: 'request'; readonly record: RequestRecord }
  /** A complete flow record (issue 14); emitted only while `Telemetry.flows` is true. */
  | { readonly type: 'flow'; readonly flow: FlowRecord }
  | {
      readonly type: 'access.denied';
      readonly leg: 'downstream' | 'upstream';
      readonly kind: DenialKind;
      readonly conn: number | undefined;
      readonly remote: string | undefined;
      readonly reason: string;
    }
  | {
      readonly type: 'downstream.refused';
      readonly conn: number;
      readonly remote: string;
      readonly reason: 'max-connections' | 'max-connections-per-client';
    }
  | {
      readonly type: 'tunnel.open';
      readonly tunnel: number;
      readonly conn: number;
      readonly kind: 'connect' | 'upgrade';
      readonly target: string;
    }
  | {
      readonly type: 'tunnel.close';
      readonly tunnel: number;
      readonly kind: 'connect' | 'upgrade';
      readonly target: string;
      readonly reason: string;
      readonly bytesIn: number;
      readonly bytesOut: number;
      readonly ms: number;
    };

export type TelemetryListener = (event: TelemetryEvent) => void;

/** A synchronous, typed fan-out of telemetry events. One per proxy instance. */
export class Telemetry {
  #listeners: TelemetryListener[] = [];
  /**
   * True while a flow ring listens (issue 14): exchanges, tunnels and upgrades build a FlowRecord only then, so
   * `flows.size: 0` costs one boolean test per request.
   */
  flows = false;

  /** Subscribe; returns an unsubscribe function. */
  on(listener: TelemetryListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  emit(event: TelemetryEvent): void {
    // Copy-on-write listener array: emitting never allocates.
    const ls = this.#listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(event);
  }
}
