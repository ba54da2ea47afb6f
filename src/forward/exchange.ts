/**
 * One proxied request/response exchange: the undici dispatch handler for it (legacy handler API, which hands us the
 * response head as raw buffers, preserving order, case and duplicates — SPEC §1.3).
 *
 * A single cohesive state machine, longer than the usual file budget (STYLE rule 10):
 *   dispatched → (onConnect: socket attributed) → onHeaders: head relayed → onData* (back-pressure) → onComplete
 * with three exits: onError before the head (one stale retry, else the one error writer), onError after the head
 * (abort downstream: truncation is never masked, SPEC §5.2), and the client going away (abort upstream; the socket is
 * destroyed, never pooled, SPEC §4.5).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { DownstreamConnection, ConnectionTracker } from '../downstream/connections.js';
import { ProxyError, classifyUpstreamError } from '../errors/index.js';
import type { Telemetry } from '../observability/events.js';
import { elapsedMs } from '../observability/events.js';
import { hopByHopPass, responseFramingIssue, shouldRetryStale } from '../policy/index.js';
import type { HopPassOptions } from '../policy/index.js';
import type { UpstreamPools } from '../upstream/pools.js';
import type { SocketClaimant, UpstreamSocket } from '../upstream/sockets.js';
import { expectSocket } from '../upstream/sockets.js';
import { writeProxyError } from './respond.js';
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
}

const KEEP_ALIVE_TIMEOUT = /(?:^|[\s,])timeout\s*=\s*(\d+)/gi;

/** Response heads are stripped and get this proxy's Via in the same pass (SPEC §1.2, §1.4). */
export function responsePass(via: string): HopPassOptions {
  return { direction: 'response', append: ['Via', via] };
}

/** Characters Node's writeHead refuses in a reason phrase (RFC 9112 §4: HTAB, SP, VCHAR, obs-text only). */
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/;

export class Exchange implements SocketClaimant, Dispatcher.DispatchHandler {
  readonly #deps: ExchangeDeps;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #conn: DownstreamConnection;
  readonly #connReq: number;
  #up: UpstreamRequest | undefined;
  readonly #started = performance.now();
  #attempt = 1;
  #retryClient: Dispatcher | undefined;
  #socket: UpstreamSocket | undefined;
  #socketReq: number | undefined;
  #reused = false;
  #abortUpstream: ((err?: Error) => void) | undefined;
  #responseStarted = false;
  #upstreamDone = false;
  #clientGone = false;
  #resume: (() => void) | undefined;
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

  /** Dispatch the prepared upstream request on its origin's pool. */
  start(up: UpstreamRequest): void {
    this.#up = up;
    if (this.#flow !== undefined) flowQueued(this.#flow, up.origin, up.path, up.headers);
    this.#dispatch(this.#deps.pools.get(up.origin));
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

  #dispatch(dispatcher: Dispatcher): void {
    const up = this.#up!;
    dispatcher.dispatch(
      {
        path: up.path,
        method: up.method,
        headers: up.headers,
        body: up.body,
        // undici closes a socket after every HEAD by default; its parser frames HEAD responses correctly, so we
        // keep the socket unless the pool policy says every request closes its socket.
        ...(this.#deps.pools.resetsEachRequest(up.origin) ? { reset: true } : up.method === 'HEAD' ? { reset: false } : {}),
      },
      this,
    );
  }

  // ---- undici handler ------------------------------------------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    if (this.#clientGone) {
      // Not written yet: throwing makes undici drop the request without touching the (possibly reusable) socket;
      // calling abort() here would destroy that socket and open another one for the dead request.
      throw new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'request-head' });
    }
    this.#abortUpstream = abort;
    expectSocket(this);
  }

  onUpstreamSocket(record: UpstreamSocket): void {
    this.#socket = record;
    this.#socketReq = record.requests;
    this.#reused = record.requests > 1;
    if (this.#flow !== undefined) flowSocket(this.#flow, record.id, record.requests, this.#reused);
    this.#deps.telemetry.emit({ type: 'upstream.request', origin: record.origin, socket: record.id, reused: this.#reused });
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx: we strip Expect upstream and answer 100-continue ourselves; other interim responses are not relayed.
    if (statusCode < 200) return true;
    // Each field is converted once; one pass strips it, appends Via and reads Connection/Keep-Alive (issue 8).
    const raw = new Array<string>(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) raw[i] = rawHeaders[i]!.toString('latin1');
    const framing = responseFramingIssue(raw);
    if (framing !== undefined) {
      // SPEC §5.3 for responses: nothing is relayed; onError answers 502 and the upstream socket is not reused.
      const origin = this.#up!.origin;
      this.#abortUpstream?.(new ProxyError('UPSTREAM_BAD_RESPONSE', `${origin}: invalid response (${framing})`, { leg: 'upstream', phase: 'response-head', origin }));
      return false;
    }
    this.#responseStarted = true;
    this.#status = statusCode;
    const pass = hopByHopPass(raw, this.#deps.responsePass ?? responsePass(this.#deps.responseVia));
    this.#noteOriginConnectionPolicy(pass.close, pass.keepAlive);
    const headers = pass.headers;
    const flow = this.#flow;
    if (flow !== undefined) {
      flowHead(flow, statusCode, raw, headers, pass.keepAlive);
      if (this.#deps.serverTiming === true) headers.push('Server-Timing', serverTiming(flow.t0, flow.tQueued, flow.tSocket, flow.tHead));
    }
    const res = this.#res;
    if (this.#deps.tracker.closing) {
      // SPEC §10.1: in-flight responses carry Connection: close while draining.
      res.shouldKeepAlive = false;
      this.#deps.tracker.note(this.#conn, 'shutdown');
    }
    // A reason phrase Node would refuse to write (control characters) is dropped; the status code carries the meaning.
    res.writeHead(statusCode, statusText === '' || BAD_REASON.test(statusText) ? undefined : statusText, headers);
    this.#resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#bytes += chunk.length;
    const res = this.#res;
    if (res.write(chunk)) return true;
    // Back-pressure (SPEC §5.1): undici pauses until resume(). The 'drain' listener is added only when needed, once.
    if (!this.#drainWatched) {
      this.#drainWatched = true;
      res.on('drain', this.#resume!);
    }
    return false;
  }

  onComplete(): void {
    this.#upstreamDone = true;
    this.#releaseSocket();
    // Trailers are hop-by-hop framing here: the response is re-framed and they are dropped (RFC 9110 §6.5).
    this.#res.end();
  }

  onError(err: Error): void {
    this.#upstreamDone = true;
    this.#releaseSocket();
    if (this.#clientGone) return;
    const origin = this.#up!.origin;
    const phase = this.#responseStarted ? 'response-body' : 'response-head';
    const perr = classifyUpstreamError(err, { origin, phase, responseStarted: this.#responseStarted });
    this.#deps.telemetry.emit({ type: 'upstream.error', origin, code: perr.code });
    if (!this.#responseStarted && this.#retry(perr)) return;
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

  /** The stale-connection race (SPEC §4.3): once, on a brand-new connection, only when provably safe. */
  #retry(perr: ProxyError): boolean {
    const up = this.#up!;
    if (!this.#deps.retryStale || perr.code !== 'UPSTREAM_RESET') return false;
    const ok = shouldRetryStale({
      method: up.method,
      bodyless: up.body === null,
      reusedSocket: this.#reused,
      responseStarted: this.#responseStarted,
      attempt: this.#attempt,
    });
    if (!ok) return false;
    this.#attempt++;
    this.#upstreamDone = false;
    this.#socket = undefined;
    this.#socketReq = undefined;
    this.#reused = false;
    this.#abortUpstream = undefined;
    this.#deps.telemetry.emit({ type: 'upstream.retry', origin: up.origin, method: up.method });
    this.#retryClient = this.#deps.pools.freshClient(up.origin);
    this.#dispatch(this.#retryClient);
    return true;
  }

  /** Remember what the origin said about this connection, for the socket's close reason (SPEC §4.2, §4.6). */
  #noteOriginConnectionPolicy(close: boolean, keepAlive: string | undefined): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    socket.lastSaidClose = close;
    if (keepAlive === undefined) return;
    // The last timeout=N wins, as when each Keep-Alive line is read in turn.
    const re = KEEP_ALIVE_TIMEOUT;
    re.lastIndex = 0;
    for (let m = re.exec(keepAlive); m !== null; m = re.exec(keepAlive)) socket.lastHintMs = Number(m[1]) * 1000;
  }

  #releaseSocket(): void {
    const socket = this.#socket;
    if (socket !== undefined && socket.busy) {
      socket.busy = false;
      this.#deps.telemetry.emit({ type: 'upstream.request-done', origin: socket.origin, socket: socket.id });
    }
    if (this.#retryClient !== undefined) {
      // The retry's one-shot connection is limited to one request: closing it is its request limit, not an error.
      if (socket !== undefined) socket.presetReason ??= 'max-requests';
      void this.#retryClient.close().catch(() => undefined);
    }
  }

  /** The response is finished or the client is gone: abort upstream if needed, then log and count once. */
  readonly #onDownstreamClose = (): void => {
    if (this.#finished) return;
    this.#finished = true;
    this.#unwatch?.();
    const res = this.#res;
    if (this.#drainWatched) res.off('drain', this.#resume!);
    if (!this.#upstreamDone) {
      // SPEC §4.5: the client went away mid-exchange; its upstream socket is destroyed, never pooled.
      this.#clientGone = true;
      const err = new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'response-body' });
      this.#error ??= err;
      if (this.#socket !== undefined) this.#socket.destroy('client-aborted', err);
      else this.#abortUpstream?.(err);
    }
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
        upstream: this.#socket?.id,
        reused: this.#reused,
        socketReq: this.#socketReq,
        status: this.#clientGone && this.#status === 0 ? 499 : this.#status,
        bytes: this.#bytes,
        ms: elapsedMs(this.#started),
        retried: this.#attempt > 1,
        error: this.#error?.code,
      },
    });
    const flow = this.#flow;
    if (flow !== undefined && this.#deps.telemetry.flows) {
      const status = this.#clientGone && this.#status === 0 ? 499 : this.#status;
      endFlow(flow, status, this.#bytes, this.#error?.code, this.#clientGone, this.#responseStarted, this.#attempt > 1);
      this.#deps.telemetry.emit({ type: 'flow', flow });
    }
  };
}
