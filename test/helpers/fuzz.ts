/**
 * Seeded request fuzzing for test/integration/fuzz.test.ts (issue 7): a tiny PRNG, a corpus of valid requests and
 * mutations aimed at HTTP/1.1 framing (SPEC §5.3). Everything is a pure function of the seed, so a failing case is
 * reproduced by its seed and index.
 */

/** mulberry32: small, fast, good enough to drive mutations; `next()` is uniform in [0, 1). */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Valid requests through a forward proxy to `authority` (host:port), as latin1 text. */
export function corpus(authority: string): string[] {
  const h = `Host: ${authority}\r\n`;
  const u = `http://${authority}`;
  return [
    `GET ${u}/a?b=c HTTP/1.1\r\n${h}Accept: */*\r\nUser-Agent: fuzz\r\n\r\n`,
    `POST ${u}/cl HTTP/1.1\r\n${h}Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world`,
    `POST ${u}/chunked HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
    `GET ${u}/1 HTTP/1.1\r\n${h}\r\nGET ${u}/2 HTTP/1.1\r\n${h}Connection: close\r\n\r\n`,
    `PUT ${u}/p HTTP/1.1\r\n${h}Content-Length: 3\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\r\nabc`,
    `GET ${u}/old HTTP/1.0\r\n${h}Connection: keep-alive\r\n\r\n`,
    `DELETE ${u}/d HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n`,
    `OPTIONS ${u}/o HTTP/1.1\r\n${h}Max-Forwards: 2\r\nVia: 1.1 other\r\n\r\n`,
  ];
}

const NASTY_BYTES = ['\r', '\n', '\r\n', '\0', ' ', '\t', ':', ',', '\x7f', '\xff', '\x0b', '"', '\r\n ', '\r\n\r\n'];
const SMUGGLE = [
  'Transfer-Encoding: chunked',
  'Transfer-Encoding: xchunked',
  'Transfer-Encoding:  chunked',
  'Transfer-Encoding: chunked, identity',
  'Transfer-Encoding: identity',
  'Transfer-Encoding: gzip, chunked',
  'Transfer-Encoding\t: chunked',
  ' Transfer-Encoding: chunked',
  'Content-Length: 0',
  'Content-Length: 5',
  'Content-Length: 5, 5',
  'Content-Length: -1',
  'Content-Length: 0x10',
  'Content-Length: 99999999999999999999',
  'Content-Length : 3',
  'Host: evil.example',
  'Connection: Content-Length, Transfer-Encoding, Host',
  'Expect: 100-continue',
  'Upgrade: h2c',
  'X-Folded: a\r\n b',
];

/** One mutation of `text`; the name says which, for the failure report. */
function mutateOnce(rng: Prng, text: string): [string, string] {
  const at = rng.int(text.length + 1);
  const lines = text.split('\r\n');
  const line = rng.int(Math.max(1, lines.indexOf('') === -1 ? lines.length : lines.indexOf('')));
  switch (rng.int(9)) {
    case 0:
      return ['insert-byte', text.slice(0, at) + rng.pick(NASTY_BYTES) + text.slice(at)];
    case 1: {
      const n = 1 + rng.int(4);
      return ['delete-bytes', text.slice(0, at) + text.slice(at + n)];
    }
    case 2: {
      const l = Math.max(1, line);
      lines.splice(l, 0, lines[l] ?? '');
      return ['duplicate-line', lines.join('\r\n')];
    }
    case 3:
      lines.splice(Math.max(1, line), 0, rng.pick(SMUGGLE));
      return ['insert-header', lines.join('\r\n')];
    case 4: {
      const l = Math.max(1, line);
      return ['bare-lf', [...lines.slice(0, l), `${lines[l] ?? ''}\n${lines[l + 1] ?? ''}`, ...lines.slice(l + 2)].join('\r\n')];
    }
    case 5: {
      const l = Math.max(1, line);
      const s = lines[l] ?? '';
      const c = s.indexOf(':');
      lines[l] = c === -1 ? s : `${s.slice(0, c).toUpperCase()}${s.slice(c)}`;
      return ['name-case', lines.join('\r\n')];
    }
    case 6:
      return ['truncate', text.slice(0, at)];
    case 7: {
      const l = Math.max(1, line);
      lines[l] = `${lines[l] ?? ''}\r\n\t${rng.pick(['x', 'chunked', '5'])}`;
      return ['obs-fold', lines.join('\r\n')];
    }
    default:
      return ['replace-byte', text.slice(0, at) + String.fromCharCode(rng.int(256)) + text.slice(at + 1)];
  }
}

export interface FuzzCase {
  readonly bytes: Buffer;
  readonly mutations: readonly string[];
  /** Write boundaries: the bytes are sent in these pieces, to exercise incremental parsing. */
  readonly cuts: readonly number[];
}

/** The `index`-th case of a run: a corpus entry with 1–3 mutations (or none, one time in eight). */
export function fuzzCase(seed: number, index: number, authority: string): FuzzCase {
  const rng = new Prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  let text = rng.pick(corpus(authority));
  const mutations: string[] = [];
  const count = rng.int(8) === 0 ? 0 : 1 + rng.int(3);
  for (let i = 0; i < count; i++) {
    const [name, next] = mutateOnce(rng, text);
    mutations.push(name);
    text = next;
  }
  const bytes = Buffer.from(text, 'latin1');
  const cuts: number[] = [];
  const pieces = rng.int(4);
  for (let i = 0; i < pieces; i++) cuts.push(rng.int(bytes.length + 1));
  return { bytes, mutations, cuts: cuts.sort((a, b) => a - b) };
}

// ---- issue 17 generators: header counts around the limit, pipelined upgrade offers ----------------------------------

/** The field a header-count case puts last, where a count cut would fall, and what it must lead to under the limit. */
const LATE_FIELDS = [
  { name: 'connection-listed', fields: ['Connection: X-Fuzz-Hop', 'X-Fuzz-Hop: secret'], body: '', under: 200 },
  { name: 'content-length', fields: ['Content-Length: 5'], body: 'hello', under: 200 },
  { name: 'te-gzip', fields: ['Transfer-Encoding: gzip'], body: '', under: 400 },
  { name: 'own-via', fields: ['Via: 1.1 hopwise (hw-fuzz17)'], body: '', under: 508 },
] as const;

export interface CountCase {
  readonly bytes: Buffer;
  readonly cuts: readonly number[];
  /** Header fields in the request head. */
  readonly fields: number;
  /** What must come back: 431 over the limit, else the late field's status. */
  readonly status: number;
  readonly description: string;
}

/**
 * A request with `limit - 2` … `limit + 2` header fields whose last field matters (a Connection option, a
 * Content-Length, a Transfer-Encoding, this proxy's own Via): over the limit it must be refused whole (431), never
 * acted on with the late field cut off; at or under it the late field must take effect.
 */
export function headerCountCase(seed: number, index: number, authority: string, limit: number): CountCase {
  const rng = new Prng((seed ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const late = rng.pick(LATE_FIELDS);
  const fields = limit - 2 + rng.int(5);
  const junk = fields - 1 - late.fields.length;
  const method = late.body === '' ? rng.pick(['GET', 'DELETE', 'OPTIONS']) : 'POST';
  let head = `${method} http://${authority}/count-${index} HTTP/1.1\r\nHost: ${authority}\r\n`;
  for (let i = 0; i < junk; i++) head += `X-J${i}: ${rng.pick(['v', 'a, b', ''])}\r\n`;
  head += late.fields.map((f) => `${f}\r\n`).join('');
  const bytes = Buffer.from(`${head}\r\n${late.body}`, 'latin1');
  const cuts = Array.from({ length: rng.int(4) }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
  const status = fields > limit ? 431 : late.under;
  return { bytes, cuts, fields, status, description: `case ${index}: ${fields} fields, last ${late.name}, expect ${status}` };
}

export interface PipelineCase {
  readonly bytes: Buffer;
  readonly cuts: readonly number[];
  /** The paths the responses must echo, in order. */
  readonly paths: readonly string[];
  readonly description: string;
}

/**
 * 2–5 pipelined requests in one buffer, each a plain request or an upgrade offer hopwise declines (`h2c`, or a
 * WebSocket offer that is not a GET), some with bodies: every one must be answered, in order (SPEC §3.3).
 */
export function pipelinedOffersCase(seed: number, index: number, authority: string): PipelineCase {
  const rng = new Prng((seed ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
  const n = 2 + rng.int(4);
  const paths: string[] = [];
  const kinds: string[] = [];
  let text = '';
  for (let i = 0; i < n; i++) {
    const path = `/p${index}-${i}`;
    const kind = rng.pick(['plain', 'h2c', 'h2c-body', 'ws-post']);
    const body = kind === 'h2c-body' || kind === 'ws-post' ? rng.pick(['cl', 'chunked']) : 'none';
    const method = body === 'none' ? 'GET' : 'POST';
    let head = `${method} http://${authority}${path} HTTP/1.1\r\nHost: ${authority}\r\n`;
    if (kind === 'h2c' || kind === 'h2c-body') head += 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n';
    if (kind === 'ws-post') head += 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    if (body === 'cl') head += 'Content-Length: 4\r\n\r\nbody';
    else if (body === 'chunked') head += 'Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n';
    else head += '\r\n';
    text += head;
    paths.push(path);
    kinds.push(`${kind}/${body}`);
  }
  const bytes = Buffer.from(text, 'latin1');
  const cuts = Array.from({ length: rng.int(5) }, () => rng.int(bytes.length + 1)).sort((a, b) => a - b);
  return { bytes, cuts, paths, description: `case ${index}: ${kinds.join(' → ')}` };
}
