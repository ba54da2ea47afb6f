/**
 * The pool of one origin (SPEC §4.1–4.3): idle connections on a LIFO stack (the most recently used is the least
 * likely to have been closed by the origin), at most `maxSockets` connections, and a FIFO wait queue bounded by
 * `upstream.queueTimeout` (issue 17 C: a request never waits for a socket without limit; one timer per pool).
 *
 * A request that cannot be replayed — one with a body or a non-idempotent method — never goes out on a connection
 * idle longer than {@link SAFE_IDLE_MS} (issue 17 B): the origin may have closed it in the meantime, and such a
 * request cannot be retried (RFC 9112 §9.3.1). A fresh connection is opened instead (counted as `freshForUnsafe`).
 */
import { ProxyError } from '../errors/index.js';
import type { Telemetry, UpstreamCloseReason } from '../observability/events.js';
import { isIdempotent } from '../policy/retry.js';
import type { Connector, DialTarget, Dialed } from './connector.js';
import type { ConnectionOwner, OutgoingRequest, ResponseSink } from './connection.js';
import { UpstreamConnection } from './connection.js';

/**
 * How long a connection may have been idle and still carry a request that cannot be retried. Node's HTTP server, the
 * most common origin behind hopwise, closes an idle connection at its `keepAliveTimeout` plus a fixed 1 s grace, so
 * with `keepAliveTimeout` as low as 1 s a connection idle under 1 s is still open at the origin. Squid likewise never
 * sends a non-retriable request on an idle pooled connection.
 */
export const SAFE_IDLE_MS = 1000;

export interface PoolSettings {
  readonly origin: string;
  readonly telemetry: Telemetry;
  readonly maxSockets: number;
  readonly limits: { readonly maxRequests: number; readonly idleTimeout: number };
  readonly timeouts: { readonly response: number; readonly body: number; readonly hintMargin: number };
  /** Milliseconds a request may wait for a socket; 0 = unbounded. */
  readonly queueTimeout: number;
}

interface Waiter {
  readonly req: OutgoingRequest;
  readonly sink: ResponseSink;
  readonly since: number;
}

export class OriginPool implements ConnectionOwner {
  readonly origin: string;
  readonly telemetry: Telemetry;
  readonly limits: PoolSettings['limits'];
  readonly timeouts: PoolSettings['timeouts'];
  readonly #s: PoolSettings;
  readonly #target: DialTarget;
  readonly #connector: Connector;
  /** LIFO: the top (end) is the most recently idle. */
  readonly #idle: UpstreamConnection[] = [];
  readonly #all = new Set<UpstreamConnection>();
  /** One-shot connections (the stale retry): tracked for shutdown, outside `maxSockets`. */
  readonly #oneShots = new Set<UpstreamConnection>();
  #dialing = 0;
  #queue: Waiter[] = [];
  #queueTimer: NodeJS.Timeout | undefined;
  #closing: UpstreamCloseReason | undefined;
  readonly #whenEmpty: (() => void)[] = [];

  constructor(s: PoolSettings, target: DialTarget, connector: Connector, closing: boolean) {
    this.#s = s;
    this.origin = s.origin;
    this.telemetry = s.telemetry;
    this.limits = s.limits;
    this.timeouts = s.timeouts;
    this.#target = target;
    this.#connector = connector;
    if (closing) this.#closing = 'shutdown';
  }

  /** Nothing in flight, queued or being dialled: the pool can be evicted without aborting work. */
  get quiet(): boolean {
    return this.#dialing === 0 && this.#queue.length === 0 && this.#all.size === this.#idle.length && this.#oneShots.size === 0;
  }

  request(req: OutgoingRequest, sink: ResponseSink): void {
    if (this.#closing !== undefined) {
      sink.onError(new ProxyError('SHUTTING_DOWN', 'the proxy is shutting down', { leg: 'upstream', phase: 'connect', origin: this.origin }), false);
      return;
    }
    const conn = this.#idleFor(req);
    if (conn !== undefined) {
      conn.send(req, sink);
      return;
    }
    this.#queue.push({ req, sink, since: performance.now() });
    if (this.#queue.length === 1) this.#armQueueTimer();
    this.#dialIfRoom();
  }

  /** A brand-new connection for one request, then closed (SPEC §4.3: the stale retry). */
  requestFresh(req: OutgoingRequest, sink: ResponseSink): void {
    this.#connector.dial(this.#target).then(
      (d) => {
        const conn = this.#adopt(d, true);
        conn.send(req, sink, true);
      },
      (err: Error) => sink.onError(err, false),
    );
  }

  cancel(sink: ResponseSink): void {
    const i = this.#queue.findIndex((w) => w.sink === sink);
    if (i >= 0) this.#queue.splice(i, 1);
  }

  /** Close every connection: idle ones now; busy ones after their response, or now when `force`. */
  close(reason: UpstreamCloseReason, force: boolean): Promise<void> {
    this.#closing = reason;
    clearTimeout(this.#queueTimer);
    const queued = this.#queue;
    this.#queue = [];
    const err = new ProxyError('SHUTTING_DOWN', 'the proxy is shutting down', { leg: 'upstream', phase: 'connect', origin: this.origin });
    for (const w of queued) w.sink.onError(err, false);
    for (const c of [...this.#all, ...this.#oneShots]) if (force || c.idle) c.close(reason);
    this.#idle.length = 0;
    if (this.#all.size === 0 && this.#oneShots.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#whenEmpty.push(resolve);
    });
  }

  // ---- ConnectionOwner ---------------------------------------------------------------------------------------------

  released(conn: UpstreamConnection): void {
    if (this.#oneShots.has(conn) || this.#closing !== undefined) {
      conn.close(this.#oneShots.has(conn) ? 'max-requests' : this.#closing!);
      return;
    }
    // Just finished a response: fresh for any request, so the first waiter gets it.
    const w = this.#queue.shift();
    if (w !== undefined) {
      if (this.#queue.length === 0) clearTimeout(this.#queueTimer);
      conn.send(w.req, w.sink);
      return;
    }
    conn.rest();
    this.#idle.push(conn);
  }

  closed(conn: UpstreamConnection): void {
    this.#all.delete(conn);
    this.#oneShots.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    if (this.#all.size === 0 && this.#oneShots.size === 0 && this.#whenEmpty.length > 0) {
      for (const resolve of this.#whenEmpty.splice(0)) resolve();
      return;
    }
    this.#dialIfRoom();
  }

  // ---- internals ---------------------------------------------------------------------------------------------------

  /** The idle connection for `req`, if any may carry it (LIFO; issue 17 B for requests that cannot be replayed). */
  #idleFor(req: OutgoingRequest): UpstreamConnection | undefined {
    const idle = this.#idle;
    if (idle.length === 0) return undefined;
    if (req.body !== null || !isIdempotent(req.method)) {
      const top = idle[idle.length - 1]!;
      if (top.idleFor(performance.now()) > SAFE_IDLE_MS) {
        this.telemetry.emit({ type: 'upstream.fresh-for-unsafe', origin: this.origin });
        // All idle connections are at least this old: make room for a new one if the pool is full.
        if (this.#all.size + this.#dialing >= this.#s.maxSockets) idle.shift()!.close('idle-timeout');
        return undefined;
      }
    }
    return idle.pop();
  }

  #dialIfRoom(): void {
    if (this.#closing !== undefined) return;
    while (this.#queue.length > this.#dialing && this.#all.size + this.#dialing < this.#s.maxSockets) {
      this.#dialing++;
      this.#connector.dial(this.#target).then(
        (d) => {
          this.#dialing--;
          const conn = this.#adopt(d, false);
          if (this.#closing !== undefined) conn.close(this.#closing);
          else this.released(conn);
        },
        (err: Error) => {
          this.#dialing--;
          this.#failWaiters(err);
        },
      );
    }
  }

  /** A dial failed: the first waiter gets the error; with no connection alive or coming, every waiter does. */
  #failWaiters(err: Error): void {
    const hopeless = this.#all.size === 0 && this.#dialing === 0;
    const failed = hopeless ? this.#queue : this.#queue.splice(0, 1);
    if (hopeless) this.#queue = [];
    if (this.#queue.length === 0) clearTimeout(this.#queueTimer);
    for (const w of failed) w.sink.onError(err, false);
    this.#dialIfRoom();
  }

  #adopt(d: Dialed, oneShot: boolean): UpstreamConnection {
    const { socket, id, connectMs } = d;
    const conn = new UpstreamConnection(this, socket, id, d.phases);
    (oneShot ? this.#oneShots : this.#all).add(conn);
    this.telemetry.emit({ type: 'upstream.open', origin: this.origin, socket: id, connectMs });
    return conn;
  }

  /** One timer per pool, armed for the oldest waiter's deadline (issue 17 C). */
  #armQueueTimer(): void {
    const ms = this.#s.queueTimeout;
    const first = this.#queue[0];
    if (ms <= 0 || first === undefined) return;
    const wait = Math.max(0, first.since + ms - performance.now());
    if (this.#queueTimer === undefined) this.#queueTimer = setTimeout(this.#onQueueTimeout, wait);
    else {
      clearTimeout(this.#queueTimer);
      this.#queueTimer = setTimeout(this.#onQueueTimeout, wait);
    }
  }

  readonly #onQueueTimeout = (): void => {
    const ms = this.#s.queueTimeout;
    const now = performance.now();
    const where = { leg: 'upstream', phase: 'connect', origin: this.origin } as const;
    while (this.#queue.length > 0 && now - this.#queue[0]!.since >= ms) {
      const w = this.#queue.shift()!;
      w.sink.onError(new ProxyError('UPSTREAM_QUEUE_TIMEOUT', `${this.origin}: no upstream connection free within ${ms} ms`, where), false);
    }
    this.#armQueueTimer();
  };
}
