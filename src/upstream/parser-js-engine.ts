/**
 * The fallback engine: http-parser-js (pure JS, the drop-in for Node's old binding), tightened to llhttp's strict
 * verdicts. Imported only through `parser-engines.ts`.
 *
 * http-parser-js 0.5 is lenient on purpose (it parses what browsers parse). `StrictJsParser` overrides the few methods
 * where it differs from llhttp with `kLenientNone`, and nothing else:
 * - line ends: CRLF only (no bare LF, no CR inside a line), Latin-1 decoding (it decodes ASCII by default);
 * - status line: `HTTP/d.d ddd[ reason]` (it accepted any text after the code without a space);
 * - field lines: a token, `:` with no whitespace before it, a value without CTLs (HTAB allowed); a line starting with
 *   whitespace (obs-fold, RFC 9112 §5.2) is an error, as is a head or trailer section over the size limit;
 * - framing (checked when the head ends, before the wrapper sees it): Content-Length values are digits, differing
 *   values are an error (identical ones are one length, RFC 9112 §6.3 rule 5), Transfer-Encoding with
 *   Content-Length is an error, and the body is chunked only when `chunked` is the final coding (otherwise the body
 *   runs to EOF, RFC 9112 §6.3 rule 4) — it used to say "chunked wins";
 * - chunk-size lines: hex digits then `;ext[=value]` extensions, nothing else (it used `parseInt`, so `zz` was 0);
 * - EOF inside a status line is an error (it ended silently); stray CR and LF bytes between messages are skipped.
 */
import { createRequire } from 'node:module';
import { transferEncodingChunked } from './parser-engines.js';
import type { RawCallbacks, RawEngine, RawError } from './parser-engines.js';

interface JsParserBase {
  state: string;
  line: string;
  chunk: Buffer | null;
  offset: number;
  end: number;
  isChunked: boolean;
  body_bytes: number | null;
  maxHeaderSize: number;
  hadError: boolean;
  trailers: string[];
  info: { headers: string[] };
  initialize(type: string): void;
  execute(chunk: Buffer): number | Error;
  finish(): Error | undefined;
  [key: number]: unknown;
}
interface JsParserClass {
  new (type?: string): JsParserBase;
  readonly RESPONSE: string;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
}

const requireCjs = createRequire(import.meta.url);
const Base = (requireCjs('http-parser-js') as { HTTPParser: JsParserClass }).HTTPParser;

function parseError(code: string, reason: string): Error & { code: string } {
  return Object.assign(new Error(reason), { code });
}

const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/s;
const FIELD_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*)$/s;
/** Field values: HTAB, SP..~, obs-text; no other CTL, no DEL. */
function badValueChar(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const CHUNK_LINE = new RegExp(`^([0-9A-Fa-f]+)((?:;${TOKEN}(?:=(?:${TOKEN}|"(?:[^"\\\\\\x00-\\x08\\x0a-\\x1f\\x7f]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*"))?)*)$`);

interface Framing {
  readonly chunked: boolean;
  readonly length: number | null;
  readonly error?: Error;
}

/** llhttp's strict framing verdict for a response head (see the module header). */
function framingOf(fields: readonly string[]): Framing {
  let length: number | null = null;
  let te = false;
  let chunked = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!.toLowerCase();
    const value = fields[i + 1]!;
    if (name === 'content-length') {
      if (!/^\d+$/.test(value)) return { chunked, length, error: parseError('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length') };
      const n = Number(value);
      if (!Number.isSafeInteger(n)) return { chunked, length, error: parseError('HPE_INVALID_CONTENT_LENGTH', 'Content-Length overflow') };
      if (length !== null && length !== n) return { chunked, length, error: parseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length') };
      length = n;
    } else if (name === 'transfer-encoding') {
      const last = transferEncodingChunked(value);
      if (last !== undefined) {
        te = true;
        chunked = last;
      }
    }
  }
  if (te && length !== null) {
    return { chunked, length, error: parseError('HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length") };
  }
  return { chunked: te && chunked, length: te ? null : length };
}

class StrictJsParser extends (Base as unknown as new (type?: string) => JsParserBase) {
  /** Field bytes (names, values, status text) in the current head or trailer section. */
  fieldBytes = 0;
  limit = Number.MAX_SAFE_INTEGER;
  pending: Error | undefined;

  consumeLine(): string | undefined {
    const chunk = this.chunk!;
    const lf = chunk.indexOf(0x0a, this.offset);
    if (lf === -1 || lf >= this.end) {
      this.line += chunk.toString('latin1', this.offset, this.end);
      this.offset = this.end;
      if (this.line.length > this.limit) throw parseError('HPE_HEADER_OVERFLOW', 'Header overflow');
      return undefined;
    }
    const line = this.line + chunk.toString('latin1', this.offset, lf);
    this.line = '';
    this.offset = lf + 1;
    if (!line.endsWith('\r')) throw parseError('HPE_CR_EXPECTED', 'Missing expected CR');
    const body = line.slice(0, -1);
    if (body.includes('\r')) throw parseError('HPE_LF_EXPECTED', 'Missing expected LF after CR');
    return body;
  }

  count(n: number): void {
    this.fieldBytes += n;
    if (this.fieldBytes > this.limit) throw parseError('HPE_HEADER_OVERFLOW', 'Header overflow');
  }

  RESPONSE_LINE(): void {
    // llhttp skips any CR and LF bytes before a status line (between messages); http-parser-js wants whole lines.
    const chunk = this.chunk!;
    while (this.line === '' && this.offset < this.end && (chunk[this.offset] === 0x0d || chunk[this.offset] === 0x0a)) this.offset++;
    if (this.offset >= this.end) return;
    const line = this.consumeLine();
    if (line === undefined || line === '') return;
    const m = STATUS_LINE.exec(line);
    if (m === null) throw parseError('HPE_INVALID_CONSTANT', 'Expected HTTP/');
    const info = this.info as unknown as Record<string, unknown>;
    info.versionMajor = Number(m[1]);
    info.versionMinor = Number(m[2]);
    info.statusCode = Number(m[3]);
    info.statusMessage = m[4] ?? '';
    this.fieldBytes = 0;
    this.count((m[4] ?? '').length);
    this.state = 'HEADER';
  }

  parseHeader(line: string, fields: string[]): void {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      throw parseError('HPE_INVALID_HEADER_TOKEN', 'Unexpected whitespace after header value');
    }
    const m = FIELD_LINE.exec(line);
    if (m === null) throw parseError('HPE_INVALID_HEADER_TOKEN', 'Invalid header token');
    const raw = m[2]!;
    if (badValueChar(raw)) throw parseError('HPE_INVALID_HEADER_TOKEN', 'Invalid header value char');
    this.count(m[1]!.length + raw.length);
    fields.push(m[1]!, raw.replace(/[ \t]+$/, ''));
  }

  BODY_CHUNKHEAD(): void {
    const line = this.consumeLine();
    if (line === undefined) return;
    const m = CHUNK_LINE.exec(line);
    if (m === null || m[1]!.length > 13) throw parseError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size');
    this.body_bytes = parseInt(m[1]!, 16);
    if (this.body_bytes === 0) {
      this.fieldBytes = 0;
      this.state = 'BODY_CHUNKTRAILERS';
    } else {
      this.state = 'BODY_CHUNK';
    }
  }

  BODY_CHUNKEMPTYLINE(): void {
    const line = this.consumeLine();
    if (line === undefined) return;
    if (line !== '') throw parseError('HPE_STRICT', 'Expected LF after chunk data');
    this.state = 'BODY_CHUNKHEAD';
  }

  override finish(): Error | undefined {
    if (this.hadError) return undefined;
    if (this.state === 'RESPONSE_LINE' && this.line !== '') return parseError('HPE_INVALID_EOF_STATE', 'Invalid EOF state');
    const r = super.finish();
    return r === undefined ? undefined : Object.assign(r, { code: 'HPE_INVALID_EOF_STATE' });
  }
}

/** http-parser-js, strict (see the module header), RESPONSE mode. */
export function openJsEngine(cb: RawCallbacks, maxHeaderSize: number): RawEngine {
  const p = new StrictJsParser();
  p.initialize(Base.RESPONSE);
  p.maxHeaderSize = Number.POSITIVE_INFINITY;
  p.limit = maxHeaderSize;
  p[Base.kOnHeaders] = (fields: string[]) => cb.headers(fields);
  p[Base.kOnHeadersComplete] = (...args: unknown[]): number => {
    // http-parser-js calls with one info object unless something read HTTPParser.kOnExecute (compat switch).
    const info = (typeof args[0] === 'object' ? args[0] : {
      versionMajor: args[0], versionMinor: args[1], headers: args[2], statusCode: args[5], statusMessage: args[6],
    }) as { versionMajor: number; versionMinor: number; headers: string[]; statusCode: number; statusMessage: string };
    const framing = framingOf(info.headers);
    if (framing.error !== undefined) {
      p.pending = framing.error;
      return 2;
    }
    const r = cb.headersComplete(info.versionMajor, info.versionMinor, info.headers, info.statusCode, info.statusMessage);
    if (r === -1) {
      p.pending = parseError('HPE_CB_HEADERS_COMPLETE', 'User callback error');
      return 2;
    }
    p.fieldBytes = 0;
    if (r === 0) {
      p.isChunked = framing.chunked;
      p.body_bytes = framing.length;
    }
    return r;
  };
  p[Base.kOnBody] = (chunk: Buffer) => {
    if (p.pending === undefined) cb.body(chunk);
  };
  p[Base.kOnMessageComplete] = () => {
    if (p.pending === undefined) cb.messageComplete();
  };
  return {
    execute(chunk): number | RawError {
      if (p.pending !== undefined) return toRaw(p.pending, 0);
      const r = p.execute(chunk);
      if (p.pending !== undefined) {
        p.hadError = true;
        return toRaw(p.pending, typeof r === 'number' ? r : 0);
      }
      return typeof r === 'number' ? r : toRaw(r, 0);
    },
    finish() {
      if (p.pending !== undefined) return undefined;
      const r = p.finish();
      return r === undefined ? undefined : toRaw(r, 0);
    },
    close() {
      /* nothing native to release */
    },
  };
}

function toRaw(err: Error & { code?: string }, bytesParsed: number): RawError {
  const code = typeof err.code === 'string' ? err.code : err.message === 'max header size exceeded' ? 'HPE_HEADER_OVERFLOW' : 'HPE_STRICT';
  return { code, bytesParsed, reason: err.message };
}
