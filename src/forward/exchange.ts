/**
 * One proxied request/response exchange: the {@link ResponseSink} of hopwise's own upstream client for it (heads as
 * raw name/value lists, preserving order, case and duplicates — SPEC §1.3).
 *
 * A single cohesive state machine, longer than the usual file budget (STYLE rule 10):
 *   requested (queued for a socket) → onSocket: socket attributed → onInterim* (1xx relayed) → onHead: head relayed →
 *   onBody* (back-pressure) → onEnd
 * with three exits: onError before the head (one stale retry, else the one error writer), onError after the head
 * (abort downstream: truncation is never masked, SPEC §5.2), and the client going away (abort upstream; the socket is
 * destroyed, never pooled, SPEC §4.5).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { DownstreamConnection, ConnectionTracker } from '../downstream/connections.js';
import { ProxyError, classifyUpstreamError } from '../errors/index.js';
import type { Telemetry } from '../observability/events.js';
import { elapsedMs } from '../observability/events.js';
import { hopByHopPass, shouldRetryStale, vetResponseFraming } from '../policy/index.js';
import type { HopPassOptions } from '../policy/index.js';
import type { UpstreamPools } from '../upstream/pools.js';
import type { ResponseSink, UpstreamConnection } from '../upstream/connection.js';
import type { ParsedHead } from '../upstream/response-parser.js';
import { writeProxyError } from './respond.js';
import { writeInterim } from './interim.js';
import type { FlowRecord } from '../observability/flow-record.js';
import { beginFlow, endFlow, flowHead, flowQueued, flowSocket, serverTiming } from './flow-fill.js';

/** Shared, per-proxy collaborators of every exchange. */
export interface ExchangeDeps {
  readonly telemetry: Telemetry;
  readonly tracker: ConnectionTracker;
  readonly pools: UpstreamPools;
  readonly retryStale: boolean;
  /** The Via member added to responses, e.g. `1.1 hopwise`. */
  readonly responseVia: string;
  /** The response-head pass options built from `responseVia` once per engine ({@link responsePass}). */
  readonly responsePass?: HopPassOptions;
  /** `flows.serverTiming`: add the proxy's phases to each relayed response head (issue 14). */
  readonly serverTiming?: boolean;
}

/** The upstream half of the request, fully prepared by the engine. */
export interface UpstreamRequest {
  readonly origin: string;
  readonly path: string;
  readonly method: string;
  readonly headers: string[];
  readonly body: IncomingMessage | Readable | null;
  /** Issue 13: the parent proxy (`http://host:port`) this attempt goes through: its pool key; absent = direct. */
  readonly route?: string | undefined;
  /**
   * Issue 13: called when this attempt's parent failed before anything was sent (no socket): the attempt on the next
   * parent of the failover list, or undefined when there is none (or the failure is not a connect failure).
   */
  readonly failover?: ((err: ProxyError) => UpstreamRequest | undefined) | undefined;
}

/** The pool an attempt uses: its parent's, or its origin's (SPEC §4.1, §4.7). */
function poolKey(up: UpstreamRequest): string {
  return up.route ?? up.origin;
}

/** Response heads are stripped and get this proxy's Via in the same pass (SPEC §1.2, §1.4). */
export function responsePass(via: string): HopPassOptions {
  return { direction: 'response', append: ['Via', via] };
}

/** Characters Node's writeHead refuses in a reason phrase (RFC 9112 §4: HTAB, SP, VCHAR, obs-text only). */
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/;

export class Exchange implements ResponseSink {
  readonly #deps: ExchangeDeps;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #conn: DownstreamConnection;
  readonly #connReq: number;
  #up: UpstreamRequest | undefined;
  readonly #started = performance.now();
  #attempt = 1;
  /** The upstream connection while it carries this exchange. */
  #upstream: UpstreamConnection | undefined;
  #socketId: number | undefined;
  #socketReq: number | undefined;
  #reused = false;
  #queued = false;
  #responseStarted = false;
  #upstreamDone = false;
  #clientGone = false;
  #drainWatched = false;
  #bytes = 0;
  #status = 0;
  #error: ProxyError | undefined;
  readonly #unwatch: (() => void) | undefined;
  #finished = false;
  /** The flow record (issue 14), only while a flow ring listens or Server-Timing is on: else no allocation. */
  readonly #flow: FlowRecord | undefined;

  constructor(deps: ExchangeDeps, req: IncomingMessage, res: ServerResponse, conn: DownstreamConnection, connReq: number) {
    this.#deps = deps;
    this.#req = req;
    this.#res = res;
    this.#conn = conn;
    this.#connReq = connReq;
    this.#flow = deps.telemetry.flows || deps.serverTiming === true ? beginFlow(req, conn, connReq, this.#started) : undefined;
    // A response emits 'close' once, and #onDownstreamClose runs once anyway: `on` spares the once-wrapper (issue 8).
    res.on('close', this.#onDownstreamClose);
    // A pipelined response still queued behind another gets no 'close' when the connection dies (Node emits it only
    // for the response attached to the socket), so the connection is watched too; else its upstream request would
    // stay paused on back-pressure for ever (found by the soak run, issue 7). A response attached from the start (the
    // usual case: Node attaches it before 'request' unless another is still being written) needs no watch.
    this.#unwatch = res.socket === null ? deps.tracker.watch(conn, this.#onDownstreamClose) : undefined;
  }

  /** Send the prepared upstream request through its origin's pool. */
  start(up: UpstreamRequest): void {
    this.#up = up;
    // A body that fails while the request still waits for a socket (over downstream.maxBodySize, the client gone)
    // fails the exchange; once a connection carries it, the connection hears the error too.
    up.body?.on('error', this.#onBodyError);
    if (this.#flow !== undefined) flowQueued(this.#flow, up.origin, poolKey(up), up.path, up.headers);
    this.#send(false);
  }

  /** Answer without going upstream: the one error writer (400 target, 508 loop, 403, 407 with `extra` headers, ...). */
  reject(err: ProxyError, extra: readonly string[] = []): void {
    this.#upstreamDone = true;
    this.#error = err;
    this.#status = err.status;
    this.#bytes = writeProxyError(this.#res, err, extra);
  }

  /** True once the client went away before the exchange finished (nothing more may be written). */
  get clientGone(): boolean {
    return this.#clientGone;
  }

  /** Answer without going upstream with a non-error response the proxy generates (Max-Forwards: 0). */
  answer(status: number, write: () => number): void {
    this.#upstreamDone = true;
    this.#status = status;
    this.#bytes = write();
  }

  #send(fresh: boolean): void {
    const up = this.#up!;
    this.#queued = true;
    this.#deps.pools.request(poolKey(up), { method: up.method, target: up.path, headers: up.headers, body: up.body }, this, fresh);
  }

  // ---- ResponseSink ------------------------------------------------------------------------------------------------

  onSocket(conn: UpstreamConnection, reused: boolean): void {
    this.#queued = false;
    if (this.#clientGone) {
      // Nothing written yet: the connection is not spoiled, but it is simplest and safe to close it as aborted.
      conn.abort();
      return;
    }
    this.#upstream = conn;
    this.#socketId = conn.id;
    this.#socketReq = conn.requests;
    this.#reused = reused;
    if (this.#flow !== undefined) flowSocket(this.#flow, conn, reused);
  }

  onInterim(head: ParsedHead): void {
    // RFC 9110 §15.2: 1xx go to HTTP/1.1 clients, never to HTTP/1.0 ones. `100 Continue` is this hop's own business:
    // the client's Expect is answered by our server, so an origin's (solicited or not) is dropped.
    const req = this.#req;
    if (head.statusCode === 100 || this.#clientGone || this.#res.headersSent) return;
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor === 0) return;
    const pass = hopByHopPass(head.rawHeaders, this.#deps.responsePass ?? responsePass(this.#deps.responseVia));
    writeInterim(this.#res, head.statusCode, head.statusText, pass.headers);
  }

  onHead(head: ParsedHead): void {
    // Identical repeated Content-Length lines are one length; the client gets it once (RFC 9112 §6.3).
    const framing = vetResponseFraming(head.rawHeaders);
    if (typeof framing === 'string') {
      // SPEC §5.3 for responses: nothing is relayed; onError answers 502 and the upstream socket is not reused.
      const origin = this.#up!.origin;
      this.#upstream?.reject(new ProxyError('UPSTREAM_BAD_RESPONSE', `${origin}: invalid response (${framing})`, { leg: 'upstream', phase: 'response-head', origin }));
      return;
    }
    const route = this.#up!.route;
    if (head.statusCode === 407 && route !== undefined) {
      // Issue 13: the parent wants credentials from hopwise; its challenge is not for our client (SPEC §4.7).
      const why = `parent ${route} answered 407: it requires credentials hopwise did not send or it did not accept (upstream.proxyAuth)`;
      this.#upstream?.reject(new ProxyError('PARENT_AUTH_REQUIRED', why, { leg: 'upstream', phase: 'response-head', origin: route }));
      return;
    }
    this.#responseStarted = true;
    const statusCode = head.statusCode;
    const statusText = head.statusText;
    this.#status = statusCode;
    // Each field is converted once; one pass strips it, appends Via and reads Connection/Keep-Alive (issue 8).
    const raw = framing;
    const pass = hopByHopPass(raw, this.#deps.responsePass ?? responsePass(this.#deps.responseVia));
    this.#upstream?.noteOriginPolicy(pass.close, pass.keepAlive);
    const headers = pass.headers;
    const flow = this.#flow;
    if (flow !== undefined) {
      flowHead(flow, statusCode, raw, headers, pass.keepAlive);
      if (this.#deps.serverTiming === true) headers.push('Server-Timing', serverTiming(flow.t0, flow.tQueued, flow.tSocket, flow.tHead));
    }
    const res = this.#res;
    // SPEC §10.1: while draining, the connection's last response carries Connection: close (not one with pipelined
    // requests behind it, whose responses would then be lost: issue 17).
    if (this.#deps.tracker.lastResponse(this.#conn, this.#connReq)) res.shouldKeepAlive = false;
    // A reason phrase Node would refuse to write (control characters) is dropped; the status code carries the meaning.
    res.writeHead(statusCode, statusText === '' || BAD_REASON.test(statusText) ? undefined : statusText, headers);
  }

  onBody(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    const res = this.#res;
    // The parser hands a view into its input: Node's write copies or queues it before returning, so no copy here.
    if (res.write(chunk)) return true;
    // Back-pressure (SPEC §5.1): the connection pauses until resume(). The 'drain' listener is added once, if needed.
    if (!this.#drainWatched) {
      this.#drainWatched = true;
      res.on('drain', this.#onDrain);
    }
    return false;
  }

  onEnd(): void {
    this.#upstreamDone = true;
    this.#upstream = undefined;
    this.#res.end();
  }

  onError(err: Error, anyResponseByte: boolean): void {
    this.#upstreamDone = true;
    this.#queued = false;
    this.#upstream = undefined;
    if (this.#clientGone) return;
    // Through a parent, the parent is what failed (or answered): errors name it (issue 13).
    const origin = poolKey(this.#up!);
    const phase = this.#responseStarted ? 'response-body' : 'response-head';
    const perr = classifyUpstreamError(err, { origin, phase, responseStarted: this.#responseStarted });
    this.#deps.telemetry.emit({ type: 'upstream.error', origin, code: perr.code });
    if (!this.#responseStarted && (this.#failover(perr, anyResponseByte) || this.#retry(perr, anyResponseByte))) return;
    this.#error = perr;
    if (this.#responseStarted || this.#res.headersSent) {
      // The head is out: the only honest signal left is to cut the downstream connection (SPEC §5.2). A pipelined
      // response still queued behind others has no socket yet: cut when its turn comes, so the responses before it
      // are delivered first (SPEC §3.3; found by the soak run, issue 7).
      const res = this.#res;
      if (res.socket === null) res.once('socket', () => this.#deps.tracker.abort(this.#conn, 'upstream-aborted'));
      else this.#deps.tracker.abort(this.#conn, 'upstream-aborted');
      return;
    }
    this.#status = perr.status;
    this.#bytes = writeProxyError(this.#res, perr);
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  readonly #onBodyError = (err: Error): void => {
    if (!this.#queued || this.#upstreamDone) return;
    this.#deps.pools.cancel(poolKey(this.#up!), this);
    this.onError(err, false);
  };

  readonly #onDrain = (): void => {
    this.#upstream?.resume();
  };

  /** Issue 13: the parent failed before anything was sent to it: move on to the next parent of the list, if any. */
  #failover(perr: ProxyError, anyResponseByte: boolean): boolean {
    const next = this.#socketId === undefined && !anyResponseByte ? this.#up!.failover?.(perr) : undefined;
    if (next === undefined) return false;
    this.#upstreamDone = false;
    this.#up = next;
    this.#send(false);
    return true;
  }

  /** The stale-connection race (SPEC §4.3): once, on a brand-new connection, only when provably safe. */
  #retry(perr: ProxyError, anyResponseByte: boolean): boolean {
    const up = this.#up!;
    if (!this.#deps.retryStale || perr.code !== 'UPSTREAM_RESET') return false;
    const ok = shouldRetryStale({
      method: up.method,
      bodyless: up.body === null,
      reusedSocket: this.#reused,
      responseStarted: this.#responseStarted || anyResponseByte,
      attempt: this.#attempt,
    });
    if (!ok) return false;
    this.#attempt++;
    this.#upstreamDone = false;
    this.#socketId = undefined;
    this.#socketReq = undefined;
    this.#reused = false;
    this.#deps.telemetry.emit({ type: 'upstream.retry', origin: poolKey(up), method: up.method });
    this.#send(true);
    return true;
  }

  /** The response is finished or the client is gone: abort upstream if needed, then log and count once. */
  readonly #onDownstreamClose = (): void => {
    if (this.#finished) return;
    this.#finished = true;
    this.#unwatch?.();
    const res = this.#res;
    if (this.#drainWatched) res.off('drain', this.#onDrain);
    if (!this.#upstreamDone) {
      // SPEC §4.5: the client went away mid-exchange; its upstream socket is destroyed, never pooled.
      this.#clientGone = true;
      this.#error ??= new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'response-body' });
      const upstream = this.#upstream;
      this.#upstream = undefined;
      if (upstream !== undefined) upstream.abort();
      else if (this.#queued && this.#up !== undefined) this.#deps.pools.cancel(poolKey(this.#up), this);
    } else if (!res.writableFinished) {
      // Complete upstream, but the client's connection died before the response was all written to it (queued behind
      // a pipelined response, or cut mid-write): logged as not delivered, never as a plain 2xx.
      this.#error ??= new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'response-body' });
    }
    // A response that never reached the client's socket (res.socket is still null: it was queued) was not sent at all.
    const unsent = !res.writableFinished && (this.#status === 0 || res.socket === null);
    this.#deps.tracker.endRequest(this.#conn);
    const req = this.#req;
    this.#deps.telemetry.emit({
      type: 'request',
      record: {
        conn: this.#conn.id,
        connReq: this.#connReq,
        method: req.method ?? '',
        target: req.url ?? '',
        origin: this.#up?.origin,
        upstream: this.#socketId,
        reused: this.#reused,
        socketReq: this.#socketReq,
        status: unsent ? 499 : this.#status,
        bytes: this.#bytes,
        ms: elapsedMs(this.#started),
        retried: this.#attempt > 1,
        error: this.#error?.code,
        route: this.#up === undefined ? undefined : (this.#up.route ?? 'direct'),
      },
    });
    const flow = this.#flow;
    if (flow !== undefined && this.#deps.telemetry.flows) {
      endFlow(flow, unsent ? 499 : this.#status, this.#bytes, this.#error?.code, this.#clientGone, this.#responseStarted, this.#attempt > 1);
      this.#deps.telemetry.emit({ type: 'flow', flow });
    }
  };
}
