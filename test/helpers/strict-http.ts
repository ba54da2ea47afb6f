/**
 * A deliberately strict, independent HTTP/1.1 request parser for the fuzz origin (issue 7): it does not share code
 * with Node's llhttp or with hopwise, so it can judge what the proxy let through. Anything SPEC §5.3 forbids, or a
 * hop-by-hop field that should have been stripped (SPEC §1.1), is reported as a violation.
 */

export interface StrictRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly bodyLength: number;
}

export type StrictStep =
  | { readonly kind: 'message'; readonly request: StrictRequest; readonly consumed: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly problem: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const TARGET = /^[\x21-\x7e\x80-\xff]+$/;
const HEX = /^[0-9a-fA-F]{1,16}$/;
/** Fields that must never cross the upstream hop (SPEC §1.1); `connection` is checked separately. */
const HOP = new Set(['proxy-authorization', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'upgrade']);

function invalid(problem: string): StrictStep {
  return { kind: 'invalid', problem };
}

/** Lines of a head (without the final empty line); a lone CR or LF anywhere is a violation. */
function headLines(head: string): string[] | string {
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c === 0x0d && head.charCodeAt(i + 1) !== 0x0a) return 'bare CR';
    if (c === 0x0a && head.charCodeAt(i - 1) !== 0x0d) return 'bare LF';
  }
  return head.split('\r\n');
}

function parseHead(head: string): { method: string; target: string; headers: [string, string][] } | string {
  const lines = headLines(head);
  if (typeof lines === 'string') return lines;
  const [method = '', target = '', version = '', ...extra] = lines[0]!.split(' ');
  if (extra.length > 0 || !TOKEN.test(method) || !TARGET.test(target) || version !== 'HTTP/1.1') {
    return `bad request line ${JSON.stringify(lines[0]!.slice(0, 80))}`;
  }
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith(' ') || line.startsWith('\t')) return 'obs-fold';
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!TOKEN.test(name)) return `bad field name ${JSON.stringify(name.slice(0, 40))}`;
    if (!VALUE.test(value)) return `bad field value for ${name}`;
    headers.push([name, value]);
  }
  return { method, target, headers };
}

/** The framing problems SPEC §5.3 names, plus hop-by-hop leaks; undefined when the head is clean. */
function framingProblem(headers: readonly (readonly [string, string])[]): string | undefined {
  const all = (n: string): string[] => headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
  const cl = all('content-length');
  const te = all('transfer-encoding');
  const hosts = all('host');
  if (cl.length > 1) return 'several Content-Length';
  if (cl.length === 1 && !/^\d+$/.test(cl[0]!)) return 'non-numeric Content-Length';
  if (te.length > 0 && cl.length > 0) return 'Content-Length with Transfer-Encoding';
  if (te.length > 1 || (te.length === 1 && te[0]!.toLowerCase() !== 'chunked')) return `Transfer-Encoding ${JSON.stringify(te.join(', '))}`;
  if (hosts.length !== 1) return `${hosts.length} Host fields`;
  for (const [k] of headers) if (HOP.has(k.toLowerCase())) return `hop-by-hop field ${k} forwarded`;
  for (const v of all('connection')) if (!/^(keep-alive|close)$/i.test(v)) return `Connection: ${v} forwarded`;
  return undefined;
}

/** Strict chunked body at `start`: the end offset and decoded length, or 'incomplete', or a problem text. */
function chunkedEnd(buf: Buffer, start: number): { end: number; length: number } | string {
  let at = start;
  let length = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol === -1) return buf.length - at > 64 ? 'chunk size line too long' : 'incomplete';
    const size = buf.subarray(at, eol).toString('latin1');
    if (!HEX.test(size)) return `bad chunk size ${JSON.stringify(size.slice(0, 20))}`;
    const n = parseInt(size, 16);
    if (n === 0) {
      // Trailers are not expected from the proxy (it re-frames and drops them): only the final CRLF.
      if (buf.length < eol + 4) return 'incomplete';
      return buf.subarray(eol + 2, eol + 4).toString('latin1') === '\r\n' ? { end: eol + 4, length } : 'trailer section forwarded';
    }
    if (buf.length < eol + 2 + n + 2) return 'incomplete';
    if (buf.subarray(eol + 2 + n, eol + 4 + n).toString('latin1') !== '\r\n') return 'chunk data not followed by CRLF';
    length += n;
    at = eol + 4 + n;
  }
}

/** Parse the first request in `buf`. */
export function parseStrictRequest(buf: Buffer): StrictStep {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd === -1) return buf.length > 65536 ? invalid('head too long') : { kind: 'incomplete' };
  const head = parseHead(buf.subarray(0, headEnd).toString('latin1'));
  if (typeof head === 'string') return invalid(head);
  const problem = framingProblem(head.headers);
  if (problem !== undefined) return invalid(problem);
  const bodyStart = headEnd + 4;
  const cl = head.headers.find(([k]) => k.toLowerCase() === 'content-length');
  const chunked = head.headers.some(([k]) => k.toLowerCase() === 'transfer-encoding');
  let consumed = bodyStart;
  let bodyLength = 0;
  if (chunked) {
    const r = chunkedEnd(buf, bodyStart);
    if (r === 'incomplete') return { kind: 'incomplete' };
    if (typeof r === 'string') return invalid(r);
    consumed = r.end;
    bodyLength = r.length;
  } else if (cl !== undefined) {
    bodyLength = Number(cl[1]);
    if (buf.length < bodyStart + bodyLength) return { kind: 'incomplete' };
    consumed = bodyStart + bodyLength;
  }
  return { kind: 'message', request: { method: head.method, target: head.target, headers: head.headers, bodyLength }, consumed };
}
