/**
 * HTTP/1.1 response parsing for the upstream leg (issue 12): Node's native llhttp binding (`_http_common`'s
 * `HTTPParser`, what node:http uses), or http-parser-js when the built-in is missing or has changed shape (a one-line
 * warning at start-up). Never a hand-written parser: this module adds only the policy both engines must share.
 *
 * What hopwise requires, enforced here for both engines (the contract suite and the differential fuzz check it):
 * - Strict framing (no lenient flags): bad chunk sizes, CL+TE, invalid CL, obs-fold, bare LF are errors.
 * - Identical duplicate Content-Length lines are one valid length (RFC 9112 §6.3 rule 5). llhttp rejects every
 *   duplicate, so the wrapper re-parses such a head with the later copies renamed, then checks they were identical
 *   and restores their names (response-parser-heads.ts).
 * - Status 100–599 and `HTTP/1.0` or `HTTP/1.1` only (llhttp accepts `000`–`999`, `HTTP/0.9`, `HTTP/2.0`, and
 *   `ICE/` and `RTSP/` status lines): anything else is `HPE_INVALID_STATUS` / `HPE_INVALID_VERSION` /
 *   `HPE_INVALID_CONSTANT`.
 * - More than `maxHeaderCount` fields in a head or a trailer section is `HPE_HEADER_OVERFLOW_COUNT`; never truncated.
 * - A head whose status text, names and values add up to more than `maxHeaderSize` bytes is `HPE_HEADER_OVERFLOW`
 *   (the same for trailers). The engines themselves stop at that limit plus `ENGINE_HEADER_SLACK`, which bounds
 *   memory while a head is still arriving.
 * - 1xx heads other than 101 are interim: reported with `onHead`, then parsing continues with the next head (an
 *   unsolicited `100` included); `onComplete` comes only for final responses. 101 — or a 2xx to CONNECT — is an
 *   upgrade: `onHead`, `onComplete([])`, and `execute` returns the length of the head; later calls consume nothing.
 * - No body for 1xx, 204, 304 (even with a Content-Length) or the response to HEAD (`expect('HEAD')`).
 * - `shouldKeepAlive` is computed here, the same for both engines, after the body decision: HTTP/1.1 without
 *   `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`, and a message that does not need EOF to end
 *   (so a bodiless response to HEAD without a length stays reusable, which llhttp's own verdict misses).
 * - Data after a message that is not persistent is `HPE_CLOSED_CONNECTION` (empty lines aside), as llhttp has it.
 * - After an error the parser is dead: every later `execute`/`finish` returns the same error, no callback fires.
 * - Handlers may call `destroy()` from a callback; the native parser is released once `execute` returns.
 */
import { ENGINE_HEADER_SLACK, llhttpShapeProblem, openJsEngine, openLlhttp, transferEncodingChunked } from './parser-engines.js';
import type { RawCallbacks, RawEngine, RawError } from './parser-engines.js';
import { HeadTracker } from './response-parser-heads.js';

export type ParserEngine = 'llhttp' | 'http-parser-js';

export interface ParsedHead {
  readonly statusCode: number;
  readonly statusText: string;
  readonly versionMajor: number;
  readonly versionMinor: number;
  /** Flat [name, value, ...]: original case, order and duplicates (latin1 strings). */
  readonly rawHeaders: string[];
  /** The parser's own persistence verdict for this message (RFC 9112 §9.3). */
  readonly shouldKeepAlive: boolean;
  /** 101, or 2xx to CONNECT: the bytes after this head belong to the new protocol. */
  readonly upgrade: boolean;
}

export interface ResponseHandlers {
  /** Every head: interim 1xx (more heads follow) and final. */
  onHead(head: ParsedHead): void;
  /** A body chunk (a view into the input buffer: copy it if kept beyond the call). */
  onBody(chunk: Buffer): void;
  /** The message is complete; trailers as a flat list (empty when none). */
  onComplete(trailers: string[]): void;
}

/** An invalid stream: `code` is the parser's (HPE_*), or HPE_HEADER_OVERFLOW_COUNT for too many header fields. */
export class ResponseParseError extends Error {
  readonly code: string;
  readonly bytesParsed: number;
  constructor(code: string, reason: string, bytesParsed: number) {
    super(`${code}: ${reason}`);
    this.name = 'ResponseParseError';
    this.code = code;
    this.bytesParsed = bytesParsed;
  }
}

export interface ResponseParser {
  readonly engine: ParserEngine;
  /** Before each request's response on this socket: the response to HEAD (and to CONNECT) has no body. Calls queue
   *  up (pipelining): each final response takes the oldest method; with none queued it is read as the answer to GET. */
  expect(method: string): void;
  /** Feed bytes. Returns the number of bytes consumed (less than chunk.length only after an upgrade head: the rest
   *  belongs to the new protocol), or a ResponseParseError. */
  execute(chunk: Buffer): number | ResponseParseError;
  /** The peer closed (EOF): completes a close-delimited body; a message in progress is an error (truncated). */
  finish(): ResponseParseError | undefined;
  /** Release native resources. Idempotent. */
  destroy(): void;
}

export interface ResponseParserOptions {
  /** More header fields than this in one head (or trailer section) → ResponseParseError HPE_HEADER_OVERFLOW_COUNT;
   *  never silently truncated. Default 100 (nginx/Squid practice). */
  readonly maxHeaderCount?: number;
  /** Bytes in one head; default 16 KiB (Node's default max header size). */
  readonly maxHeaderSize?: number;
  /** Force an engine (tests run the contract suite against both). */
  readonly engine?: ParserEngine;
}

/** Which engine this process uses (llhttp unless the fallback kicked in). */
export const parserEngine: ParserEngine = llhttpShapeProblem === undefined ? 'llhttp' : 'http-parser-js';
if (llhttpShapeProblem !== undefined) {
  process.emitWarning(`hopwise: Node's built-in HTTP parser is unusable (${llhttpShapeProblem}); using http-parser-js`, {
    code: 'HOPWISE_PARSER_FALLBACK',
  });
}

export const DEFAULT_MAX_HEADER_COUNT = 100;
export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

export function createResponseParser(handlers: ResponseHandlers, options: ResponseParserOptions = {}): ResponseParser {
  return new Parser(handlers, options);
}

const enum State {
  Head,
  Body,
  Upgraded,
  Failed,
  Destroyed,
}

/** Does a comma-separated field value list `token` (lowercase)? Allocation-free for the usual one-token value (e.g.
 *  `keep-alive` tested for `close`: a length test after trimming whitespace, without lowercasing or splitting). */
function listsToken(value: string, token: string): boolean {
  if (value.length === token.length) return value.toLowerCase() === token;
  if (value.indexOf(',') === -1) {
    let from = 0;
    let to = value.length;
    while (from < to && isOws(value.charCodeAt(from))) from++;
    while (to > from && isOws(value.charCodeAt(to - 1))) to--;
    return to - from === token.length && value.slice(from, to).toLowerCase() === token;
  }
  for (const t of value.split(',')) if (t.trim().toLowerCase() === token) return true;
  return false;
}

/** What String#trim removes, for latin1 text (the previous `split(',')`/`trim()` reading, unchanged): HTAB to CR,
 *  SP, NBSP. Header values are latin1 strings. */
function isOws(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}

/**
 * The persistence verdict (RFC 9112 §9.3) in one pass over the fields: HTTP/1.1 without `Connection: close`, or
 * HTTP/1.0 with `Connection: keep-alive`; and, unless the message has no body, a length or a final `chunked`, since a
 * body that runs to EOF ends the connection (RFC 9112 §6.3 rules 4 and 8).
 */
function persistent(fields: readonly string[], minor: number, bodiless: boolean): boolean {
  let close = false;
  let keepAlive = false;
  let te = false;
  let chunked = false;
  let length = false;
  for (let i = 0; i < fields.length; i += 2) {
    const n = fields[i]!;
    if (n.length === 10) {
      if (n.toLowerCase() !== 'connection') continue;
      const v = fields[i + 1]!;
      close ||= listsToken(v, 'close');
      keepAlive ||= listsToken(v, 'keep-alive');
    } else if (n.length === 14) {
      length ||= n.toLowerCase() === 'content-length';
    } else if (n.length === 17 && n.toLowerCase() === 'transfer-encoding') {
      const last = transferEncodingChunked(fields[i + 1]!);
      if (last !== undefined) {
        te = true;
        chunked = last;
      }
    }
  }
  if (minor === 1 ? close : !keepAlive) return false;
  return bodiless || (te ? chunked : length);
}

class Parser implements ResponseParser, RawCallbacks {
  readonly engine: ParserEngine;
  readonly #handlers: ResponseHandlers;
  readonly #maxCount: number;
  readonly #maxSize: number;
  readonly #raw: RawEngine;
  #state = State.Head;
  #fields: string[] = [];
  #expected: string[] = [];
  #interim = false;
  #closed = false;
  #error: ResponseParseError | undefined;
  #pending: ResponseParseError | undefined;
  #executing = false;

  constructor(handlers: ResponseHandlers, options: ResponseParserOptions) {
    this.engine = options.engine ?? parserEngine;
    this.#handlers = handlers;
    this.#maxCount = options.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT;
    this.#maxSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    const engineLimit = this.#maxSize + ENGINE_HEADER_SLACK;
    this.#raw = this.engine === 'llhttp' ? new HeadTracker((cb) => openLlhttp(cb, engineLimit), this) : openJsEngine(this, engineLimit);
  }

  expect(method: string): void {
    this.#expected.push(method);
  }

  execute(chunk: Buffer): number | ResponseParseError {
    if (this.#state === State.Failed) return this.#error!;
    if (this.#state === State.Upgraded || this.#state === State.Destroyed) return 0;
    this.#executing = true;
    let r: number | RawError;
    try {
      r = this.#raw.execute(chunk);
    } finally {
      this.#executing = false;
    }
    if (this.#destroyed()) {
      this.#raw.close();
      return typeof r === 'number' ? r : 0;
    }
    if (this.#pending !== undefined) return this.#fail(this.#pending);
    if (typeof r !== 'number') return this.#fail(new ResponseParseError(r.code, r.reason, r.bytesParsed));
    return r;
  }

  finish(): ResponseParseError | undefined {
    if (this.#state === State.Failed) return this.#error;
    if (this.#state === State.Upgraded || this.#state === State.Destroyed) return undefined;
    this.#executing = true;
    let r: RawError | undefined;
    try {
      r = this.#raw.finish();
    } finally {
      this.#executing = false;
    }
    if (this.#destroyed()) {
      this.#raw.close();
      return undefined;
    }
    if (this.#pending !== undefined) return this.#fail(this.#pending);
    if (r !== undefined) return this.#fail(new ResponseParseError(r.code, r.reason, r.bytesParsed));
    // EOF after a complete head but in a message that needs more (a head cut short is reported by the engine).
    if (this.#state === State.Body) return this.#fail(new ResponseParseError('HPE_INVALID_EOF_STATE', 'Invalid EOF state', 0));
    return undefined;
  }

  destroy(): void {
    if (this.#state === State.Destroyed) return;
    this.#state = State.Destroyed;
    if (!this.#executing) this.#raw.close();
  }

  #fail(err: ResponseParseError): ResponseParseError {
    this.#state = State.Failed;
    this.#error = err;
    this.#raw.close();
    return err;
  }

  /** Record an error found inside a callback; the engine is told to stop where it can (headersComplete → -1). */
  #reject(code: string, reason: string): -1 {
    this.#pending ??= new ResponseParseError(code, reason, 0);
    return -1;
  }

  /** Re-read after engine calls: a handler may have destroyed the parser meanwhile. */
  #destroyed(): boolean {
    return this.#state === State.Destroyed;
  }

  #live(): boolean {
    return this.#pending === undefined && this.#state !== State.Destroyed;
  }

  // --- RawCallbacks (called by the engine during execute/finish) ---

  messageBegin(): void {
    /* the head tracker (llhttp) consumes this */
  }

  headers(fields: string[]): void {
    if (!this.#live()) return;
    for (let i = 0; i < fields.length; i++) this.#fields.push(fields[i]!);
    if (this.#fields.length > this.#maxCount * 2) this.#reject('HPE_HEADER_OVERFLOW_COUNT', 'Too many header fields');
  }

  headersComplete(major: number, minor: number, given: string[] | undefined, status: number, text: string): number {
    if (!this.#live()) return -1;
    // A message after one that was not persistent (RFC 9112 §9.6); llhttp refuses this itself.
    if (this.#closed) return this.#reject('HPE_CLOSED_CONNECTION', 'Data after `Connection: close`');
    // The usual head arrives whole in `given` (an array the engine made for this message): taken as is, not copied.
    let fields: string[];
    if (given !== undefined && given.length !== 0 && this.#fields.length === 0) {
      fields = given;
    } else {
      fields = given === undefined || given.length === 0 ? this.#fields : this.#fields.concat(given);
      this.#fields = [];
    }
    if (fields.length > this.#maxCount * 2) return this.#reject('HPE_HEADER_OVERFLOW_COUNT', 'Too many header fields');
    if (major !== 1 || minor > 1) return this.#reject('HPE_INVALID_VERSION', 'Invalid HTTP version');
    if (status < 100 || status > 599) return this.#reject('HPE_INVALID_STATUS', 'Invalid response status');
    let size = text.length;
    for (let i = 0; i < fields.length; i++) size += fields[i]!.length;
    if (size > this.#maxSize) return this.#reject('HPE_HEADER_OVERFLOW', 'Header overflow');

    this.#interim = status < 200 && status !== 101;
    const method = this.#interim ? undefined : this.#expected.shift();
    const upgrade = status === 101 || (method === 'CONNECT' && status >= 200 && status < 300);
    const bodiless = this.#interim || upgrade || status === 204 || status === 304 || method === 'HEAD';
    const head: ParsedHead = {
      statusCode: status,
      statusText: text,
      versionMajor: major,
      versionMinor: minor,
      rawHeaders: fields,
      shouldKeepAlive: !upgrade && persistent(fields, minor, bodiless),
      upgrade,
    };
    this.#state = upgrade ? State.Upgraded : State.Body;
    this.#closed = !head.shouldKeepAlive;
    this.#handlers.onHead(head);
    if (upgrade) return 2;
    return bodiless ? 1 : 0;
  }

  body(chunk: Buffer): void {
    if (this.#live()) this.#handlers.onBody(chunk);
  }

  messageComplete(): void {
    if (!this.#live()) return;
    const trailers = this.#fields;
    this.#fields = [];
    if (this.#interim) {
      this.#interim = false;
      this.#state = State.Head;
      return;
    }
    if (trailers.length > this.#maxCount * 2) {
      this.#reject('HPE_HEADER_OVERFLOW_COUNT', 'Too many trailer fields');
      return;
    }
    let size = 0;
    for (let i = 0; i < trailers.length; i++) size += trailers[i]!.length;
    if (size > this.#maxSize) {
      this.#reject('HPE_HEADER_OVERFLOW', 'Header overflow');
      return;
    }
    if (this.#state !== State.Upgraded) this.#state = State.Head;
    this.#handlers.onComplete(trailers);
  }
}
