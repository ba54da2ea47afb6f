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
