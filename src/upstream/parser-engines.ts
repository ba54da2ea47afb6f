/**
 * The two HTTP/1.1 response parsers behind `response-parser.ts`, adapted to one low-level shape (`RawEngine`). Only
 * `response-parser.ts` imports this file; together they are "the parser module" of issue 12: nothing else in src/
 * touches `_http_common` or `http-parser-js`.
 *
 * - `llhttp`: Node's native binding, `HTTPParser` from the `_http_common` built-in (the parser node:http itself uses;
 *   see nodejs/node lib/_http_client.js). Strict: no lenient flags. Undocumented, and nodejs/node#58534 proposes to
 *   deprecate the `_http_*` modules, so its shape is checked once at start-up (`llhttpShapeProblem`).
 * - `http-parser-js`: the pure-JS drop-in for Node's old binding, used when the built-in is missing or has changed
 *   shape. It is lenient where llhttp is strict (bare LF, obs-fold, `parseInt` chunk sizes, any `\d{3}` status,
 *   "chunked wins" over Content-Length), so `StrictJsParser` tightens exactly those points to llhttp's verdicts: the
 *   contract suite and the differential fuzz (test/unit/response-parser*.test.ts) hold the two to the same answers.
 *
 * Callback contract (both engines): `headers(fields)` delivers field pairs early (llhttp flushes every 32 pairs) or
 * trailers; `headersComplete` returns 0 (body follows the framing), 1 (no body), 2 (upgrade: stop, the rest is not
 * HTTP) or -1 (abort: the wrapper has recorded why); `body` gets a chunk; `messageComplete` ends a message.
 */
import { createRequire } from 'node:module';

export interface RawCallbacks {
  headers(fields: string[]): void;
  headersComplete(
    versionMajor: number,
    versionMinor: number,
    fields: string[] | undefined,
    statusCode: number,
    statusText: string,
  ): number;
  body(chunk: Buffer): void;
  messageComplete(): void;
  /** The first byte of a message (llhttp only: the JS engine has no such event). */
  messageBegin(): void;
}

export interface RawError {
  readonly code: string;
  readonly bytesParsed: number;
  readonly reason: string;
}

export interface RawEngine {
  /** Bytes consumed (an upgrade head stops early), or the parser's error. */
  execute(chunk: Buffer): number | RawError;
  finish(): RawError | undefined;
  close(): void;
}

/**
 * llhttp's reading of one Transfer-Encoding line: undefined when the value is empty (llhttp ignores the line), else
 * whether `chunked` is its final coding — `chunked,` and `chunked;q=1` are not (then the body runs to EOF).
 */
export function transferEncodingChunked(value: string): boolean | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  return /(?:^|,)[ \t]*chunked$/i.test(v);
}

/** Slack between the wrapper's own head-size limit and the engine's internal one (see response-parser.ts). */
export const ENGINE_HEADER_SLACK = 256;

const requireCjs = createRequire(import.meta.url);

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(chunk: Buffer): number | (Error & { code?: string; bytesParsed?: number; reason?: string });
  finish(): undefined | (Error & { code?: string; bytesParsed?: number; reason?: string });
  remove?(): void;
  free(): void;
  close(): void;
  [key: number]: unknown;
}
interface NativeParserClass {
  new (): NativeParser;
  readonly RESPONSE: number;
  readonly kOnMessageBegin: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kLenientNone?: number;
}

function loadNative(): { cls?: NativeParserClass; problem?: string } {
  let mod: { HTTPParser?: unknown };
  try {
    mod = requireCjs('_http_common') as { HTTPParser?: unknown };
  } catch (err) {
    return { problem: `_http_common cannot be loaded (${(err as Error).message})` };
  }
  const cls = mod.HTTPParser as NativeParserClass | undefined;
  if (typeof cls !== 'function') return { problem: '_http_common exports no HTTPParser' };
  for (const k of ['RESPONSE', 'kOnMessageBegin', 'kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete'] as const) {
    if (typeof cls[k] !== 'number') return { problem: `HTTPParser.${k} is missing` };
  }
  for (const m of ['initialize', 'execute', 'finish', 'free', 'close']) {
    if (typeof (cls.prototype as Record<string, unknown>)[m] !== 'function') return { problem: `HTTPParser#${m} is missing` };
  }
  return { cls };
}

const native = loadNative();
/** Why the native binding is unusable in this process, or undefined when it is fine. */
export const llhttpShapeProblem: string | undefined = native.problem;

function rawError(err: { code?: string; bytesParsed?: number; reason?: string; message?: string }): RawError {
  return {
    code: typeof err.code === 'string' ? err.code : 'HPE_UNKNOWN',
    bytesParsed: typeof err.bytesParsed === 'number' ? err.bytesParsed : 0,
    reason: err.reason ?? err.message ?? 'parse error',
  };
}

/** llhttp through Node's binding, strict (kLenientNone), RESPONSE mode. */
export function openLlhttp(cb: RawCallbacks, maxHeaderSize: number): RawEngine {
  const cls = native.cls;
  if (cls === undefined) throw new Error(`llhttp unavailable: ${native.problem ?? 'unknown'}`);
  const p = new cls();
  p.initialize(cls.RESPONSE, {}, maxHeaderSize, cls.kLenientNone ?? 0);
  p[cls.kOnMessageBegin] = () => cb.messageBegin();
  p[cls.kOnHeaders] = (fields: string[]) => cb.headers(fields);
  p[cls.kOnHeadersComplete] = (
    major: number,
    minor: number,
    fields: string[] | undefined,
    _method: unknown,
    _url: unknown,
    status: number,
    text: string,
  ) => cb.headersComplete(major, minor, fields, status, text);
  p[cls.kOnBody] = (chunk: Buffer) => cb.body(chunk);
  p[cls.kOnMessageComplete] = () => cb.messageComplete();
  let closed = false;
  return {
    execute(chunk) {
      const r = p.execute(chunk);
      return typeof r === 'number' ? r : rawError(r);
    },
    finish() {
      const r = p.finish();
      return r === undefined ? undefined : rawError(r);
    },
    close() {
      if (closed) return;
      closed = true;
      p.remove?.();
      p.free();
      p.close();
    },
  };
}

export { openJsEngine } from './parser-js-engine.js';
