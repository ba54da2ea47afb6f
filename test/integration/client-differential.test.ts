/**
 * Differential fuzz of hopwise's upstream client (issue 12, "Bad input and failure"): random and adversarial response
 * byte streams, written by the origin in pieces cut at random points, go through the proxy; what the client receives
 * is checked against what the response parser makes of the same bytes whole. A final response the parser completes
 * (and the framing policy accepts) is relayed with exactly its status and body; one it rejects before its head is a
 * `502`; one it rejects after its head is never a completed message (the client connection is cut).
 *
 * Seeded and bounded (fast-check): CI runs a fixed seed; elsewhere each run draws a new one, printed first.
 * Reproduce: HOPWISE_FUZZ_SEED=<seed> HOPWISE_FUZZ_RUNS=<n> npx vitest run test/integration/client-differential.test.ts
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vetResponseFraming } from '../../src/policy/index.js';
import { parserEngine } from '../../src/upstream/response-parser.js';
import { feed } from '../helpers/parse-responses.js';
import type { ParsedMessage } from '../helpers/parse-responses.js';
import { startProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, within } from '../helpers/raw.js';

const CI_SEED = 20261207;
const SEED = Number(process.env.HOPWISE_FUZZ_SEED ?? (process.env.CI === 'true' ? CI_SEED : Math.floor(Math.random() * 2 ** 31)));
const RUNS = Number(process.env.HOPWISE_FUZZ_RUNS ?? 400);

const FIELDS = ['X-A: 1', 'Server: s', 'Set-Cookie: a=b', 'Link: </a>; rel=preload', 'Connection: close', 'Keep-Alive: timeout=5',
  'Transfer-Encoding: gzip, chunked', 'Content-Length: 2, 2', 'Trailer: T', '__proto__: x', 'NoColon', ' folded', 'X : y'];
const STATUSES = ['200', '200', '204', '304', '404', '500', '599', '099', '000', '600', '2x0', '20'];
const BODIES = ['', 'a', 'hello', 'HTTP/1.1 200 OK\r\n\r\n', '0\r\n\r\n', 'x'.repeat(3000)];

const message = fc.record({
  interim: fc.constantFrom('', '', '', 'HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n', 'HTTP/1.1 102 Processing\r\n\r\n'),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0'),
  status: fc.constantFrom(...STATUSES),
  fields: fc.array(fc.constantFrom(...FIELDS), { maxLength: 3 }),
  framing: fc.constantFrom('length', 'length', 'chunked', 'chunked', 'close', 'dup-length', 'length+te'),
  body: fc.constantFrom(...BODIES),
  skew: fc.integer({ min: -2, max: 2 }),
});

type Drawn = typeof message extends fc.Arbitrary<infer T> ? T : never;

/** One response (after an optional interim one), framed as drawn — or not quite. */
function render(m: Drawn): string {
  const n = Math.max(0, m.body.length + m.skew);
  let head = `${m.version} ${m.status} X\r\n${m.fields.map((f) => `${f}\r\n`).join('')}`;
  if (m.framing === 'length' || m.framing === 'length+te') head += `Content-Length: ${n}\r\n`;
  if (m.framing === 'dup-length') head += `Content-Length: ${n}\r\ncontent-length: ${m.skew === 0 ? n : n + 1}\r\n`;
  const chunked = m.framing === 'chunked' || m.framing === 'length+te';
  if (chunked) head += 'Transfer-Encoding: chunked\r\n';
  const body = chunked ? (m.body === '' ? '' : `${(m.body.length + Math.min(0, m.skew)).toString(16)}\r\n${m.body}\r\n`) + (m.skew > 0 ? '' : '0\r\n\r\n') : m.body;
  return `${m.interim}${head}\r\n${body}`;
}

const mutation = fc.tuple(fc.constantFrom('none', 'none', 'none', 'insert', 'delete', 'truncate'), fc.nat(), fc.constantFrom('\r', '\n', ' ', ':', '\0', '0'));

function mutate(s: string, [kind, at, byte]: [string, number, string]): string {
  if (s.length === 0 || kind === 'none') return s;
  const i = at % s.length;
  if (kind === 'insert') return s.slice(0, i) + byte + s.slice(i);
  if (kind === 'delete') return s.slice(0, i) + s.slice(i + 1);
  return s.slice(0, i);
}

type Expected = { kind: 'relayed'; status: number; body: string } | { kind: '502' } | { kind: 'not-complete' };

/** What the proxy must do with `input`, from the parser's verdict on the whole stream and the framing policy. */
function expected(input: string): Expected {
  const outcome = feed(input, [], { engine: parserEngine, methods: ['GET'], eof: true });
  const final: ParsedMessage | undefined = outcome.messages.find((m) => !m.interim);
  if (final === undefined || final.upgrade) return { kind: '502' };
  if (typeof vetResponseFraming(final.headers) === 'string') return { kind: '502' };
  if (final.trailers !== undefined) return { kind: 'relayed', status: final.status, body: final.body };
  return { kind: 'not-complete' };
}

let proxy: TestProxy;
let origin: net.Server;
let originPort = 0;
/** The bytes and cut points the origin writes for the current case. */
let current = { bytes: Buffer.alloc(0), cuts: [] as number[] };

beforeAll(async () => {
  origin = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let seen = '';
    socket.on('data', (c: Buffer) => {
      seen += c.toString('latin1');
      if (!seen.includes('\r\n\r\n')) return;
      seen = '';
      void writePieces(socket, current.bytes, current.cuts);
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as AddressInfo).port;
  // One request per upstream connection: every case starts on a fresh socket, no stale retry muddles the verdict.
  proxy = await startProxy({ upstream: { maxRequestsPerSocket: 1, responseTimeout: 3000, bodyTimeout: 3000 } }, 'error');
});

afterAll(async () => {
  await proxy.close();
  await new Promise<void>((r) => origin.close(() => r()));
});

async function writePieces(socket: net.Socket, bytes: Buffer, cuts: readonly number[]): Promise<void> {
  let start = 0;
  for (const end of [...cuts, bytes.length]) {
    if (socket.destroyed) return;
    socket.write(bytes.subarray(start, end));
    start = end;
    // Let each piece travel on its own (a turn of the event loop, not a timer).
    await new Promise((r) => setImmediate(r));
  }
  socket.end();
}

/** The final response as the client sees it: status, body, complete — or 'closed' before any final head. */
async function fetchThrough(): Promise<{ status: number; body: string; complete: boolean } | 'closed'> {
  const client = await RawClient.connect(proxy.port);
  try {
    client.write(`GET http://127.0.0.1:${originPort}/f HTTP/1.1\r\nHost: x\r\n\r\n`);
    for (;;) {
      const r = await client.readResponse({ ms: 8000 }).catch(() => undefined);
      if (r === undefined) return 'closed';
      if (r.status >= 200) return { status: r.status, body: r.body.toString('latin1'), complete: r.complete };
    }
  } finally {
    client.close();
  }
}

describe(`upstream client differential fuzz: seed ${SEED}`, () => {
  it('relays what the parser completes, 502s what it rejects before the head, never completes what it rejects after', { timeout: 120_000 }, async () => {
    console.log(`client differential fuzz: seed=${SEED} runs=${RUNS} (reproduce: HOPWISE_FUZZ_SEED=${SEED} HOPWISE_FUZZ_RUNS=${RUNS})`);
    await fc.assert(
      fc.asyncProperty(message, mutation, fc.array(fc.nat(), { maxLength: 6 }), async (m, mut, rawCuts) => {
        const input = mutate(render(m), mut);
        const bytes = Buffer.from(input, 'latin1');
        const cuts = [...new Set(rawCuts.map((c) => 1 + (c % Math.max(1, bytes.length - 1))))].filter((c) => c < bytes.length).sort((a, b) => a - b);
        current = { bytes, cuts };
        const want = expected(input);
        const got = await within(15_000, fetchThrough(), 'the response');
        const why = JSON.stringify({ input, cuts, want, got });
        if (want.kind === 'relayed') {
          expect(got, why).toEqual({ status: want.status, body: want.body, complete: true });
        } else if (want.kind === '502') {
          expect(got !== 'closed' && got.status, why).toBe(502);
        } else {
          expect(got === 'closed' || !got.complete || got.status === 502, why).toBe(true);
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
