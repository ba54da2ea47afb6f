/**
 * The flow record (issue 14, SPEC §8.4): one exchange's connection story, filled by the exchange with plain field
 * stores as it goes and handed to telemetry once, as a `flow` event, when it ends. Pure core: no I/O.
 *
 * Cheap on purpose: header arrays are kept by reference (the arrays the hot path already has, never copied), times
 * are `performance.now()` stamps relative to nothing (views subtract `t0`), and nothing is formatted until a record is
 * read (flow-view.ts). A record is complete, and never written again, once it is emitted.
 */

/** How a flow ended. */
export type FlowOutcome = 'ok' | 'error' | 'client-aborted' | 'truncated';

/** What kind of exchange a flow is: a proxied request, a CONNECT tunnel, or a WebSocket upgrade. */
export type FlowKind = 'http' | 'connect' | 'upgrade';

/** Unknown time stamp. */
export const NO_TIME = -1;

/**
 * One flow. Fields are public and mutable until the record is emitted; a class so every record has one shape (the
 * exchange allocates one per request when flows are on, none when they are off).
 */
export class FlowRecord {
  /** Ring sequence number, assigned when the ring stores it. */
  id = 0;
  readonly kind: FlowKind;
  /** `performance.now()` when the request head was handed to the proxy. */
  readonly t0: number;
  /** Wall-clock start, ms since the epoch. */
  readonly startedAt: number;
  // Downstream: which client connection, from where, which request on it.
  conn = 0;
  remote = '';
  httpVersion = '1.1';
  connReq = 0;
  // The request line as received and as forwarded.
  method = '';
  target = '';
  forwardedTarget: string | undefined = undefined;
  /** Received request fields (Node's rawHeaders, by reference). */
  requestHeaders: readonly string[] = [];
  /** Forwarded request fields (the array handed upstream, by reference). */
  forwardedHeaders: readonly string[] | undefined = undefined;
  // Upstream: pool (origin, or parent proxy), socket and its reuse.
  origin: string | undefined = undefined;
  pool: string | undefined = undefined;
  socket: number | undefined = undefined;
  reused = false;
  socketReq: number | undefined = undefined;
  /** How long the socket sat idle in its pool before this request, ms. */
  idleMs: number | undefined = undefined;
  /** The origin's `Keep-Alive` value on this socket (e.g. `timeout=5`), if it sent one. */
  keepAliveHint: string | undefined = undefined;
  retried = false;
  // Response.
  status = 0;
  /** Received response fields (by reference). */
  responseHeaders: readonly string[] | undefined = undefined;
  /** Relayed response fields (the array written downstream, by reference). */
  relayedHeaders: readonly string[] | undefined = undefined;
  /** Body bytes client → origin and origin → client. */
  bytesUp = 0;
  bytesDown = 0;
  // Phase stamps (`performance.now()`; NO_TIME when the phase did not happen).
  /** Asked the pool for a socket. */
  tQueued: number = NO_TIME;
  /** Started dialling a new socket (DNS lookup start). */
  tConnect: number = NO_TIME;
  /** DNS done (or not needed). */
  tDns: number = NO_TIME;
  /** TCP connected. */
  tTcp: number = NO_TIME;
  /** TLS handshake done (https origins). */
  tTls: number = NO_TIME;
  /** The socket was handed to this request (new or from the idle pool). */
  tSocket: number = NO_TIME;
  /** Request head (and body) written upstream. */
  tSent: number = NO_TIME;
  /** Response head received. */
  tHead: number = NO_TIME;
  /** Response finished (or the exchange failed). */
  tEnd: number = NO_TIME;
  outcome: FlowOutcome = 'ok';
  /** Stable ProxyError code on `error`/`truncated`. */
  error: string | undefined = undefined;
  /** Tunnels and upgrades: why it closed. */
  closeReason: string | undefined = undefined;

  constructor(kind: FlowKind, t0: number = performance.now()) {
    this.kind = kind;
    this.t0 = t0;
    this.startedAt = performance.timeOrigin + t0;
  }
}
