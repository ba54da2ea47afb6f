/**
 * One upstream HTTP/1.1 connection (SPEC §4): owns its socket and its response parser, carries one request at a time
 * (no pipelining), and knows why it closes. The pool (pools.ts) creates it from a dialled socket and is told when it
 * is idle again or gone; the exchange that holds it talks to it through {@link ResponseSink} and a few methods.
 *
 * A single cohesive state machine, longer than the usual file budget (STYLE rule 10):
 *   idle → send() → busy: head written, body streamed → 1xx* → head → body* → complete → idle (or closed)
 * Exits while busy: a parse error, a timeout, the origin closing or resetting (→ the sink's onError, socket destroyed),
 * or the exchange aborting (client gone: destroyed, never pooled, SPEC §4.5). One timer per connection serves the
 * response-head, body-idle and idle timeouts in turn, each an inactivity limit like Node's socket timeout (reset by
 * any read or write). A phase change only stores its limit and the time: the timer, armed for the shortest limit
 * seen, checks on firing whether the current limit has passed and re-arms for what is left. Node's socket timeout
 * would cost three timer re-insertions and two allocations per request plus a refresh per read and write (issue 12).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ProxyError } from '../errors/index.js';
import type { Telemetry, UpstreamCloseReason } from '../observability/events.js';
import type { ParsedHead, ResponseParser } from './response-parser.js';
import { createResponseParser, ResponseParseError } from './response-parser.js';
import { requestHead } from './request-head.js';
import type { DialPhases } from './connector.js';

/** The request as the exchange prepared it. */
export interface OutgoingRequest {
  readonly method: string;
  /** The request-target as sent: origin-form, `*` (OPTIONS), or absolute-form towards a parent proxy. */
  readonly target: string;
  /** Flat `[name, value, ...]`, hop-by-hop fields already removed. */
  readonly headers: readonly string[];
  readonly body: Readable | null;
}

/** Implemented by the exchange waiting for a response. */
export interface ResponseSink {
  /** The connection that carries the request; `reused` when it served an earlier request. */
  onSocket(conn: UpstreamConnection, reused: boolean): void;
  /** An interim (1xx) head; the final head follows. */
  onInterim(head: ParsedHead): void;
  onHead(head: ParsedHead): void;
  /** False pauses the response until {@link UpstreamConnection.resume}. */
  onBody(chunk: Buffer): boolean;
  onEnd(): void;
  /** The exchange failed; `anyResponseByte` tells the stale-retry rule whether the origin had answered at all. */
  onError(err: Error, anyResponseByte: boolean): void;
}

/** What the connection needs from its pool. */
export interface ConnectionOwner {
  readonly origin: string;
  readonly telemetry: Telemetry;
  readonly limits: { readonly maxRequests: number; readonly idleTimeout: number };
  readonly timeouts: { readonly response: number; readonly body: number; readonly hintMargin: number };
  readonly maxHeaderCount?: number;
  /** The connection finished a response and may be reused (the owner decides: a waiter, the idle stack, or close). */
  released(conn: UpstreamConnection): void;
  /** The socket closed (the owner forgets it). */
  closed(conn: UpstreamConnection): void;
}

const KEEP_ALIVE_TIMEOUT = /(?:^|[\s,])timeout\s*=\s*(\d+)/gi;
const CONTENT_LENGTH = 'content-length';

type State = 'idle' | 'busy' | 'closed';

/** An origin that went away mid-exchange (classified as a reset, or as truncation once the head is relayed). */
function closedError(what: string): Error {
  return Object.assign(new Error(what), { code: 'ECONNRESET' });
}

export class UpstreamConnection {
  readonly id: number;
  readonly createdAt = performance.now();
  readonly #owner: ConnectionOwner;
  readonly #socket: Socket;
  readonly #parser: ResponseParser;
  #state: State = 'idle';
  #requests = 0;
  /** When the connection last became idle (performance.now()). */
  #idleSince = performance.now();
  #sink: ResponseSink | undefined;
  #last = false;
  #headSeen = false;
  #anyByte = false;
  #paused = false;
  #saidClose = false;
  #hintMs: number | undefined;
  #body: Readable | null = null;
  #chunked = false;
  #bodyDone = true;
  #reason: UpstreamCloseReason | undefined;
  /** The current phase's inactivity limit in ms (0: none), and the last activity (performance.now()). */
  #limitMs = 0;
  #activeAt = 0;
  /** The inactivity timer (unref'd), when it fires, and the shortest delay it has been armed with. */
  #timer: NodeJS.Timeout | undefined;
  #dueAt = 0;
  #period = Infinity;

  /** How this connection was dialled (flow records, issue 14). */
  readonly dial: DialPhases | undefined;

  /** When it last became idle (`performance.now()`): a request's idle time before reuse is its socket time less this. */
  get idleSince(): number {
    return this.#idleSince;
  }

  constructor(owner: ConnectionOwner, socket: Socket, id: number, dial?: DialPhases) {
    this.dial = dial;
    this.#owner = owner;
    this.#socket = socket;
    this.id = id;
    this.#parser = createResponseParser(this, owner.maxHeaderCount === undefined ? {} : { maxHeaderCount: owner.maxHeaderCount });
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    socket.on('drain', this.#onDrain);
  }

  get requests(): number {
    return this.#requests;
  }

  get idle(): boolean {
    return this.#state === 'idle';
  }

  /** Milliseconds since this connection last finished a response (0 while busy). */
  idleFor(now: number): number {
    return this.#state === 'idle' ? now - this.#idleSince : 0;
  }

  /** Put an idle connection to rest with its idle timeout (the owner calls this when it keeps it). */
  rest(): void {
    this.#idleSince = performance.now();
    const l = this.#owner.limits;
    const t = this.#owner.timeouts;
    // SPEC §4.2: an origin's Keep-Alive: timeout=N, less the margin, bounds our own idle timeout.
    const ms = this.#hintMs === undefined ? l.idleTimeout : Math.min(this.#hintMs - t.hintMargin, l.idleTimeout);
    this.#limit(Math.max(1, ms), this.#idleSince);
  }

  /** True when the last response allows another request on this connection. */
  get reusable(): boolean {
    if (this.#last || this.#saidClose || !this.#bodyDone || this.#state !== 'busy') return false;
    return this.#hintMs === undefined || this.#hintMs - this.#owner.timeouts.hintMargin > 0;
  }

  /** Send one request; the response goes to `sink`. `last` makes it the connection's last (Connection: close). */
  send(req: OutgoingRequest, sink: ResponseSink, last = false): void {
    const reused = this.#requests > 0;
    this.#requests++;
    this.#state = 'busy';
    this.#sink = sink;
    this.#headSeen = false;
    this.#anyByte = false;
    this.#paused = false;
    this.#saidClose = false;
    this.#hintMs = undefined;
    const max = this.#owner.limits.maxRequests;
    this.#last = last || (max > 0 && this.#requests >= max);
    this.#parser.expect(req.method);
    this.#owner.telemetry.emit({ type: 'upstream.request', origin: this.#owner.origin, socket: this.id, reused });
    sink.onSocket(this, reused);
    if (this.#sink !== sink) return; // aborted from onSocket
    const socket = this.#socket;
    this.#limit(this.#owner.timeouts.response, performance.now());
    let body = req.body;
    this.#chunked = body !== null && !hasField(req.headers, CONTENT_LENGTH);
    // A body of unknown length that has already arrived in full (a small one, or one that waited for a connection)
    // goes out with its Content-Length, in the same write as the head, as undici does.
    const whole = this.#chunked ? bufferedBody(body!) : undefined;
    if (whole !== undefined) {
      this.#chunked = false;
      body = null;
      socket.cork();
      socket.write(requestHead(req.method, req.target, req.headers, this.#last, false, whole.length), 'latin1');
      socket.write(whole);
      socket.uncork();
    } else {
      socket.write(requestHead(req.method, req.target, req.headers, this.#last, this.#chunked), 'latin1');
    }
    this.#body = body;
    this.#bodyDone = body === null;
    if (body !== null) {
      body.on('data', this.#onBodyData);
      body.once('end', this.#onBodyEnd);
      body.once('error', this.#onBodyError);
    }
  }

  /** Resume a response paused by back-pressure (the downstream drained). */
  resume(): void {
    if (!this.#paused || this.#state !== 'busy') return;
    this.#paused = false;
    this.#limit(this.#owner.timeouts.body, performance.now());
    this.#socket.resume();
  }

  /** The origin said what it wants for this connection (Connection: close, Keep-Alive: timeout=N; SPEC §4.2, §4.6). */
  noteOriginPolicy(close: boolean, keepAlive: string | undefined): void {
    if (close) this.#saidClose = true;
    if (keepAlive === undefined) return;
    // The last timeout=N wins, as when each Keep-Alive line is read in turn.
    const re = KEEP_ALIVE_TIMEOUT;
    re.lastIndex = 0;
    for (let m = re.exec(keepAlive); m !== null; m = re.exec(keepAlive)) this.#hintMs = Number(m[1]) * 1000;
  }

  /** Fail the current exchange with `err` (e.g. the exchange refused the head): the socket is never reused. */
  reject(err: Error): void {
    this.#fail(err, 'error');
  }

  /** The client went away (SPEC §4.5): destroy, never pool; the sink hears nothing more. */
  abort(): void {
    if (this.#state === 'closed') return;
    this.#sink = undefined;
    this.close('client-aborted', true);
  }

  /** Close for `reason` (the first reason given wins); `now` destroys, else the socket is ended gracefully. */
  close(reason: UpstreamCloseReason, now = true): void {
    this.#reason ??= reason;
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#detachBody();
    if (now) this.#socket.destroy();
    else this.#socket.end();
  }

  // ---- parser handlers (ResponseHandlers) -------------------------------------------------------------------------

  onHead(head: ParsedHead): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    if (head.statusCode < 200 && !head.upgrade) {
      sink.onInterim(head);
      return;
    }
    if (head.upgrade) {
      // A 101 to a request that did not ask to switch: nothing after it can be relayed as HTTP (RFC 9110 §15.2.2).
      this.#fail(new ProxyError('UPSTREAM_BAD_RESPONSE', `${this.#owner.origin}: invalid response (unsolicited ${head.statusCode})`, this.#where()), 'error');
      return;
    }
    this.#headSeen = true;
    if (!head.shouldKeepAlive) this.#saidClose = true;
    this.#limit(this.#owner.timeouts.body, this.#activeAt);
    sink.onHead(head);
  }

  onBody(chunk: Buffer): void {
    const sink = this.#sink;
    if (sink !== undefined && !sink.onBody(chunk)) this.#paused = true;
  }

  onComplete(_trailers: string[]): void {
    // Trailers are dropped: the response is re-framed (RFC 9110 §6.5).
    const sink = this.#sink;
    if (sink === undefined) return;
    this.#sink = undefined;
    this.#paused = false;
    this.#owner.telemetry.emit({ type: 'upstream.request-done', origin: this.#owner.origin, socket: this.id });
    const reusable = this.reusable;
    if (!reusable) this.close(this.#closeReason());
    sink.onEnd();
    if (reusable) {
      this.#state = 'idle';
      this.#owner.released(this);
    }
  }

  // ---- socket events -----------------------------------------------------------------------------------------------

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state !== 'busy') {
      // Bytes on an idle connection answer no request: the connection cannot be trusted any more.
      if (this.#state === 'idle') this.close('error');
      return;
    }
    this.#anyByte = true;
    this.#activeAt = performance.now();
    const r = this.#parser.execute(chunk);
    if (r instanceof ResponseParseError) {
      this.#fail(r, 'error');
      return;
    }
    if (this.#paused && this.#state === 'busy') {
      this.#limitMs = 0;
      this.#socket.pause();
    }
  };

  readonly #onEnd = (): void => {
    if (this.#state === 'busy') {
      // finish() completes a close-delimited body (onComplete runs); anything else in progress was cut short.
      this.#parser.finish();
      if (this.#state === 'busy') this.#fail(closedError('the origin closed the connection'), 'error');
      return;
    }
    this.close(this.#state === 'idle' ? 'origin-closed' : (this.#reason ?? 'origin-closed'));
  };

  readonly #onError = (err: Error): void => {
    if (this.#state === 'busy') this.#fail(err, 'error');
    else this.close('error');
  };

  readonly #onClose = (): void => {
    if (this.#state === 'busy') this.#fail(closedError('the origin closed the connection'), 'error');
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#detachBody();
    this.#parser.destroy();
    const o = this.#owner;
    o.telemetry.emit({ type: 'upstream.close', origin: o.origin, socket: this.id, reason: this.#reason ?? 'origin-closed', requests: this.#requests });
    o.closed(this);
  };

  /** The timer fired: a timeout when the current limit has passed since the last activity, else re-armed. */
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#state === 'closed' || this.#limitMs === 0) return;
    const left = this.#activeAt + this.#limitMs - performance.now();
    if (left > 0) {
      this.#arm(Math.min(left, this.#period));
      return;
    }
    this.#onTimeout();
  };

  #onTimeout(): void {
    if (this.#state === 'idle') {
      const hint = this.#hintMs;
      this.close(hint !== undefined && hint < this.#owner.limits.idleTimeout ? 'keep-alive-hint' : 'idle-timeout');
      return;
    }
    if (this.#state !== 'busy' || this.#paused) return;
    const o = this.#owner;
    const err = this.#headSeen
      ? new ProxyError('UPSTREAM_BODY_TIMEOUT', `${o.origin}: response body stalled for ${o.timeouts.body} ms`, this.#where('response-body'))
      : new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', `${o.origin}: no response head in time (${o.timeouts.response} ms)`, this.#where());
    this.#fail(err, 'error');
  }

  // ---- request body (re-framed: Content-Length as declared, else chunked; back-pressure both ways) -----------------

  readonly #onBodyData = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    const socket = this.#socket;
    this.#activeAt = performance.now();
    let ok: boolean;
    if (this.#chunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) this.#body?.pause();
  };

  readonly #onDrain = (): void => {
    if (this.#body !== null && !this.#bodyDone) this.#body.resume();
  };

  readonly #onBodyEnd = (): void => {
    if (this.#chunked) this.#socket.write('0\r\n\r\n', 'latin1');
    this.#bodyDone = true;
    this.#detachBody();
  };

  readonly #onBodyError = (err: Error): void => {
    this.#fail(err, 'error');
  };

  #detachBody(): void {
    const body = this.#body;
    if (body === null) return;
    this.#body = null;
    body.off('data', this.#onBodyData);
    body.off('end', this.#onBodyEnd);
    body.off('error', this.#onBodyError);
  }

  // ---- internals ---------------------------------------------------------------------------------------------------

  /** Enter a phase with inactivity limit `ms` (0: none), counted from `since`; re-arms only to fire earlier. */
  #limit(ms: number, since: number): void {
    this.#limitMs = ms;
    this.#activeAt = since;
    if (ms === 0) return;
    const due = since + ms;
    if (this.#timer !== undefined && this.#dueAt <= due) return;
    clearTimeout(this.#timer);
    if (ms < this.#period) this.#period = ms;
    this.#arm(Math.max(1, due - performance.now()));
  }

  #arm(delay: number): void {
    // Whole milliseconds: Node keeps one timer list per distinct delay.
    const ms = Math.ceil(delay);
    this.#dueAt = performance.now() + ms;
    this.#timer = setTimeout(this.#onTimer, ms);
    this.#timer.unref();
  }

  #closeReason(): UpstreamCloseReason {
    // At the limit our own last request said Connection: close, so an origin's close is only the echo of it.
    if (this.#last) return 'max-requests';
    if (this.#saidClose) return 'origin-asked';
    if (this.#hintMs !== undefined) return 'keep-alive-hint';
    return 'error';
  }

  #where(phase: 'response-head' | 'response-body' = 'response-head'): { leg: 'upstream'; phase: typeof phase; origin: string } {
    return { leg: 'upstream', phase, origin: this.#owner.origin };
  }

  #fail(err: Error, reason: UpstreamCloseReason): void {
    const sink = this.#sink;
    this.#sink = undefined;
    const anyByte = this.#anyByte;
    if (sink !== undefined) this.#owner.telemetry.emit({ type: 'upstream.request-done', origin: this.#owner.origin, socket: this.id });
    this.close(reason, true);
    sink?.onError(err, anyByte);
  }
}

/**
 * The whole body when the stream has already ended and holds every byte in its buffer (undici's `bodyLength` test on
 * the stream's state), else undefined. `read(0)` first lets a stream that has seen its end say so.
 */
function bufferedBody(body: Readable): Buffer | undefined {
  body.read(0);
  const state = (body as unknown as { _readableState?: { ended?: boolean; objectMode?: boolean } })._readableState;
  if (state?.ended !== true || state.objectMode === true || body.readableFlowing === true) return undefined;
  const chunks: Buffer[] = [];
  for (let c = body.read() as Buffer | null; c !== null; c = body.read() as Buffer | null) chunks.push(c);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** True when `headers` has a field named `name` (lowercase); the length test spares most lowercasing. */
function hasField(headers: readonly string[], name: string): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i]!;
    if (n.length === name.length && n.toLowerCase() === name) return true;
  }
  return false;
}
