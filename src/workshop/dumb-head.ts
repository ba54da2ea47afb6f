/**
 * Pure message-head handling for the workshop dumb proxy (SPEC §9.1): find the end of a head, parse a request head
 * the way a pre-HTTP/1.1 proxy would (request line + Content-Length, nothing else), observe a response head, and
 * format the proxy's own plain-text error responses. No I/O.
 *
 * Deliberately NOT here: hop-by-hop processing. A dumb proxy does not know `Connection`, so every header line is
 * relayed as the exact bytes received (HTTP: The Definitive Guide §4.5.6).
 */

/** Largest request head the dumb proxy accepts (request line + headers + CRLFCRLF); larger → `400`. */
export const MAX_HEAD_BYTES = 64 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VERSION = /^HTTP\/\d\.\d$/;

/** One header line as received: name and value with their original case (the value trimmed of OWS). */
export type HeaderPair = readonly [name: string, value: string];

/** A request head accepted by the dumb proxy, plus where to send it. */
export interface DumbRequest {
  readonly method: string;
  /** The request target exactly as received (absolute-form). */
  readonly target: string;
  readonly version: string;
  readonly headers: readonly HeaderPair[];
  /** The raw bytes after the request line's CRLF, through the final CRLFCRLF: relayed byte-for-byte. */
  readonly headerBlock: Buffer;
  /** Body length from `Content-Length`; 0 when absent (RFC 1945 §7.2: a 1.0 request body needs a length). */
  readonly contentLength: number;
  /** Origin to connect to, from the absolute URI's authority (port 80 when absent). */
  readonly originHost: string;
  readonly originPort: number;
  /** The request line rewritten to origin-form (RFC 9112 §3.2.1), without CRLF. */
  readonly originRequestLine: string;
}

/** Outcome of parsing a request head: accepted, or the status and one-line message the proxy answers with. */
export type RequestVerdict =
  | { readonly ok: true; readonly request: DumbRequest }
  | { readonly ok: false; readonly status: 400 | 501; readonly message: string };

/** A response head as observed in the relayed byte stream (never modified). */
export interface ObservedResponseHead {
  readonly statusLine: string;
  /** Status code, or null when the status line is not `HTTP/x.y NNN ...` (it is relayed regardless). */
  readonly status: number | null;
  readonly headers: readonly HeaderPair[];
}

/**
 * Index just past the first CRLFCRLF in `buf`, searching from `from` (callers pass the previous length minus 3 so
 * a terminator split across chunks is found), or -1.
 */
export function findHeadEnd(buf: Buffer, from = 0): number {
  const i = buf.indexOf(HEAD_END, Math.max(0, from));
  return i < 0 ? -1 : i + HEAD_END.length;
}

const reject = (status: 400 | 501, message: string): RequestVerdict => ({ ok: false, status, message });

/**
 * Parses a complete request head (through CRLFCRLF). Lines end in CRLF only: a bare CR or LF is a `400`. A proxy takes
 * absolute-form targets only (RFC 9112 §3.2.2), from clients and from proxies in front of it that use it as their
 * parent alike.
 */
export function parseRequestHead(head: Buffer): RequestVerdict {
  const text = head.toString('latin1');
  if (/\r(?!\n)|(?<!\r)\n/.test(text)) return reject(400, 'bare CR or LF in the request head');
  const lineEnd = text.indexOf('\r\n');
  const parts = text.slice(0, lineEnd).split(' ');
  const [method = '', target = '', version = ''] = parts;
  if (parts.length !== 3 || !TOKEN.test(method) || target === '' || !VERSION.test(version)) {
    return reject(400, 'malformed request line; expected: METHOD absolute-URI HTTP/x.y');
  }
  if (method === 'CONNECT') return reject(501, 'CONNECT is not implemented by this pre-HTTP/1.1 proxy');
  const origin = parseAbsoluteTarget(target);
  if (origin === 'scheme') return reject(501, 'only http:// URIs are supported by this proxy');
  if (typeof origin === 'string') return reject(400, origin);
  const headers = parseHeaderLines(text.slice(lineEnd + 2, -4));
  if (headers === null) return reject(400, 'malformed header line');
  if (headers.some(([name]) => name.toLowerCase() === 'transfer-encoding')) {
    // A pre-1.1 proxy knows no transfer codings; it can only frame a request body by Content-Length.
    return reject(501, 'Transfer-Encoding request bodies are not supported by this pre-HTTP/1.1 proxy');
  }
  const contentLength = readContentLength(headers);
  if (contentLength === null) return reject(400, 'invalid or conflicting Content-Length');
  return {
    ok: true,
    request: {
      method,
      target,
      version,
      headers,
      headerBlock: head.subarray(lineEnd + 2),
      contentLength,
      originHost: origin.host,
      originPort: origin.port,
      originRequestLine: `${method} ${origin.path} ${version}`,
    },
  };
}

/**
 * Splits header lines into pairs. An obs-fold continuation (RFC 9112 §5.2) is joined to the previous value, as a
 * 1.0 parser would; the relayed bytes keep the fold. Returns null on a line without a valid `name:`.
 */
function parseHeaderLines(block: string): HeaderPair[] | null {
  const pairs: [string, string][] = [];
  if (block === '') return pairs;
  for (const line of block.split('\r\n')) {
    const last = pairs.at(-1);
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) return null;
    pairs.push([name, line.slice(colon + 1).trim()]);
  }
  return pairs;
}

/** Content-Length from every such line (comma lists included); all values must agree (RFC 9112 §6.3). */
function readContentLength(headers: readonly HeaderPair[]): number | null {
  const values = headers
    .filter(([name]) => name.toLowerCase() === 'content-length')
    .flatMap(([, value]) => value.split(',').map((v) => v.trim()));
  if (values.length === 0) return 0;
  const first = values[0] ?? '';
  if (!/^\d{1,15}$/.test(first) || values.some((v) => v !== first)) return null;
  return Number(first);
}

/**
 * Splits an absolute-form target into host, port and origin-form path (RFC 9112 §3.2.2). Returns the message of a
 * `400`, or `'scheme'` for an absolute URI that is not http:// (a `501`).
 */
function parseAbsoluteTarget(target: string): { host: string; port: number; path: string } | string {
  if (target.startsWith('/') || target === '*') {
    return 'this is a forward proxy: the request target must be an absolute URI such as http://example.com/path';
  }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(target);
  if (!m) return 'the request target must be an absolute URI such as http://example.com/path';
  const [, scheme = '', authority = '', rest = ''] = m;
  if (scheme.toLowerCase() !== 'http') return 'scheme';
  let url: URL;
  try {
    url = new URL(`http://${authority}/`);
  } catch {
    return `invalid authority in the request target: ${authority}`;
  }
  if (url.hostname === '' || url.username !== '' || url.password !== '') {
    return `invalid authority in the request target: ${authority}`;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const path = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  return { host, port: url.port === '' ? 80 : Number(url.port), path };
}

/** Parses a response head for observation only; lenient, because the bytes are relayed whatever they say. */
export function parseResponseHead(head: Buffer): ObservedResponseHead {
  const lines = head.toString('latin1').slice(0, -4).split(/\r?\n/);
  const statusLine = lines[0] ?? '';
  const m = /^HTTP\/\d\.\d (\d{3})(?: |$)/.exec(statusLine);
  const headers: HeaderPair[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return { statusLine, status: m?.[1] === undefined ? null : Number(m[1]), headers };
}

/** The one loopback test (policy/address.ts), re-exported for the dumb proxy's loopback-only check. */
export { isLoopbackHost } from '../policy/address.js';

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 501: 'Not Implemented', 502: 'Bad Gateway' };

/** The dumb proxy's own response: HTTP/1.0, plain text, framed by Content-Length and by the close that follows. */
export function plainResponse(status: 400 | 501 | 502, message: string): Buffer {
  const body = Buffer.from(`${message}\n`, 'utf8');
  const head =
    `HTTP/1.0 ${status} ${REASONS[status]}\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
