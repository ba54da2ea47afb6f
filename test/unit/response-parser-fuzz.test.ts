/**
 * Differential fuzz of src/upstream/response-parser.ts (issue 12): random and adversarial response byte streams,
 * cut at random points, through both engines (llhttp and the http-parser-js fallback). They must agree on accept or
 * reject and on every head and body they report; and each engine must parse a stream cut into pieces exactly as it
 * parses it whole.
 *
 * Seeded and bounded (fast-check): CI runs a fixed seed; elsewhere each run draws a new one, printed first.
 * Reproduce: HOPWISE_FUZZ_SEED=<seed> HOPWISE_FUZZ_RUNS=<n> npx vitest run test/unit/response-parser-fuzz.test.ts
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { feed } from '../helpers/parse-responses.js';
import type { FeedOptions, ParseOutcome } from '../helpers/parse-responses.js';

const CI_SEED = 20261207;
const SEED = Number(process.env.HOPWISE_FUZZ_SEED ?? (process.env.CI === 'true' ? CI_SEED : Math.floor(Math.random() * 2 ** 31)));
const RUNS = Number(process.env.HOPWISE_FUZZ_RUNS ?? 1500);

const NAMES = ['Content-Length', 'content-length', 'Transfer-Encoding', 'transfer-encoding', 'Connection', 'Upgrade', 'Link',
  'X-A', 'Server', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'Trailer', 'Keep-Alive', 'Set-Cookie'];
const VALUES = ['0', '1', '2', '5', '02', ' 2 ', '2, 2', '+2', '-1', '0x2', '', 'chunked', 'CHUNKED', 'gzip, chunked',
  'chunked, gzip', 'identity', 'xchunked', 'chunked, chunked', ' chunked ', 'close', 'keep-alive', 'upgrade', 'websocket',
  'x, close', 'caf\xe9', 'a\tb', 'v\x01', 'v\x7f', '</a>; rel=preload', 'HTTP/1.1 200 OK', '99999999999999999999'];
const STATUSES = ['100', '101', '102', '103', '200', '204', '206', '304', '400', '404', '500', '599', '099', '000', '600', '2x0'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.2', 'ICE/1.1', 'RTSP/1.0', 'http/1.1'];
const REASONS = ['OK', '', 'Not Found', 'Ol\xe9', 'a\tb', 'HTTP/1.1 200 OK', 'x\x01y'];
const BAD_LINES = [' folded', '\tfolded', 'X : y', 'X:y\n', 'NoColon', ':empty-name', 'X\x00: y', 'X: y\r'];
const BODY_BYTES = ['', 'a', 'hello', 'HTTP/', 'HTTP/1.1 200 OK\r\n\r\n', '\r\n', '0\r\n\r\n', '\x81\x05hello', 'xyz\r\nHTTP/1.1'];

const field = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom(...VALUES), fc.constantFrom('', ' ', '  ', '\t')).map(([n, v, ows]) => `${n}:${ows}${v}\r\n`) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_LINES).map((l) => `${l}\r\n`) },
);

const chunkedBody = fc.tuple(
  fc.array(fc.tuple(fc.constantFrom(...BODY_BYTES.filter((b) => b !== '')), fc.constantFrom('', ';a=b', ';x', ';q="s p"', ' ;bad', ';a=b c')), { maxLength: 3 }),
  fc.constantFrom('0', '00', '0;last'),
  fc.array(fc.constantFrom('T: 1', 'Trailer-X: y', 'bad trailer', ' fold'), { maxLength: 3 }),
  fc.constantFrom('', '', '', 'zz\r\n', 'A\r\n'),
).map(([chunks, last, trailers, junk]) =>
  junk + chunks.map(([d, ext]) => `${d.length.toString(16)}${ext}\r\n${d}\r\n`).join('') + `${last}\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`);

/** One response: a status line, fields (some of them framing), a body shaped by them — or not. */
const message = fc.tuple(
  fc.constantFrom(...VERSIONS),
  fc.constantFrom(...STATUSES),
  fc.constantFrom(...REASONS),
  fc.array(field, { maxLength: 6 }),
  fc.constantFrom('length', 'length', 'chunked', 'chunked', 'none', 'dup-length', 'length+te'),
  fc.constantFrom(...BODY_BYTES),
  fc.integer({ min: -2, max: 2 }),
  chunkedBody,
  fc.integer({ min: 0, max: 14 }),
).map(([version, status, reason, fields, framing, body, skew, chunked, padding]) => {
  let head = `${version} ${status}${reason === '' ? '' : ` ${reason}`}\r\n${fields.join('')}${'Pad: p\r\n'.repeat(padding)}`;
  const n = Math.max(0, body.length + skew);
  if (framing === 'length') head += `Content-Length: ${n}\r\n`;
  if (framing === 'dup-length') head += `Content-Length: ${n}\r\ncontent-length: ${skew === 0 ? n : n + 1}\r\n`;
  if (framing === 'chunked' || framing === 'length+te') head += 'Transfer-Encoding: chunked\r\n';
  if (framing === 'length+te') head += `Content-Length: ${n}\r\n`;
  return `${head}\r\n${framing === 'chunked' || framing === 'length+te' ? chunked : body}`;
});

/** Byte-level damage to an otherwise generated stream. */
const mutation = fc.tuple(fc.constantFrom('none', 'none', 'none', 'insert', 'delete', 'replace', 'truncate'), fc.nat(), fc.constantFrom('\r', '\n', ' ', '\t', ':', '\0', 'H', '0', '\xff'));

function mutate(s: string, [kind, at, byte]: [string, number, string]): string {
  if (s.length === 0 || kind === 'none') return s;
  const i = at % s.length;
  if (kind === 'insert') return s.slice(0, i) + byte + s.slice(i);
  if (kind === 'delete') return s.slice(0, i) + s.slice(i + 1);
  if (kind === 'replace') return s.slice(0, i) + byte + s.slice(i + 1);
  return s.slice(0, i);
}

const stream = fc.record({
  messages: fc.array(message, { minLength: 1, maxLength: 4 }),
  methods: fc.array(fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'CONNECT', 'POST'), { maxLength: 4 }),
  mutation,
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
  maxHeaderCount: fc.constantFrom(100, 4, 6, 8),
  maxHeaderSize: fc.constantFrom(16 * 1024, 60, 120, 400),
  eof: fc.boolean(),
});

function cutsFor(length: number, raw: readonly number[]): number[] {
  return [...new Set(raw.map((c) => 1 + (c % Math.max(1, length - 1))))].filter((c) => c < length).sort((a, b) => a - b);
}

/** What both engines must agree on: accept or reject, and every head and body reported before the end. */
function comparable(o: ParseOutcome): unknown {
  return { accepted: o.error === undefined, messages: o.messages, rest: o.rest };
}

describe(`response parser differential fuzz: seed ${SEED}`, () => {
  it('llhttp and http-parser-js agree; a stream in pieces parses as the whole', () => {
    console.log(`response-parser fuzz: seed=${SEED} runs=${RUNS} (reproduce: HOPWISE_FUZZ_SEED=${SEED} HOPWISE_FUZZ_RUNS=${RUNS})`);
    fc.assert(
      fc.property(stream, (s) => {
        const input = mutate(s.messages.join(''), s.mutation);
        const cuts = cutsFor(input.length, s.cuts);
        const base = { methods: s.methods, eof: s.eof, maxHeaderCount: s.maxHeaderCount, maxHeaderSize: s.maxHeaderSize };
        const opts = (engine: FeedOptions['engine']): FeedOptions => ({ ...base, engine });
        const native = feed(input, [], opts('llhttp'));
        const js = feed(input, [], opts('http-parser-js'));
        if (s.eof || (native.error === undefined) === (js.error === undefined)) {
          expect(comparable(js), JSON.stringify(input)).toEqual(comparable(native));
        } else {
          // Without EOF an engine may still be waiting where the other has already rejected (llhttp judges byte by
          // byte, http-parser-js line by line): at EOF they must agree.
          const atEof = (engine: FeedOptions['engine']) => comparable(feed(input, [], { ...base, eof: true, engine }));
          expect(atEof('http-parser-js'), JSON.stringify(input)).toEqual(atEof('llhttp'));
        }
        expect(feed(input, cuts, opts('llhttp')), JSON.stringify({ input, cuts })).toEqual(native);
        expect(feed(input, cuts, opts('http-parser-js')), JSON.stringify({ input, cuts })).toEqual(js);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
