/**
 * The contract of src/upstream/response-parser.ts (issue 12), run against both engines: Node's llhttp binding and
 * the http-parser-js fallback. Every case is also fed at every single cut point, byte by byte and in seeded random
 * pieces, and must parse exactly as the whole input does.
 */
import { describe, expect, it } from 'vitest';
import { createResponseParser, parserEngine } from '../../src/upstream/response-parser.js';
import type { ParserEngine } from '../../src/upstream/response-parser.js';
import { Prng } from '../helpers/fuzz.js';
import { feed } from '../helpers/parse-responses.js';
import type { FeedOptions, ParsedMessage, ParseOutcome } from '../helpers/parse-responses.js';

const ENGINES: ParserEngine[] = ['llhttp', 'http-parser-js'];
const OK = 'HTTP/1.1 200 OK\r\n';

interface Case {
  name: string;
  input: string;
  methods?: string[];
  eof?: boolean;
  maxHeaderCount?: number;
  maxHeaderSize?: number;
  error?: string | RegExp;
  rest?: string;
  messages?: Partial<ParsedMessage>[];
}

const done = (body: string, extra: Partial<ParsedMessage> = {}): Partial<ParsedMessage> => ({ body, trailers: [], ...extra });

const CASES: Case[] = [
  { name: 'Content-Length', input: `${OK}Content-Length: 3\r\nX-A: b\r\n\r\nabc`, messages: [done('abc', { status: 200, text: 'OK', headers: ['Content-Length', '3', 'X-A', 'b'], keepAlive: true })] },
  {
    name: 'chunked with extensions and trailers',
    input: `${OK}Transfer-Encoding: chunked\r\n\r\n3;a=b;c="d e"\r\nabc\r\n2;x\r\nde\r\n0;last=1\r\nT-One: 1\r\nt-two: 2\r\n\r\n`,
    messages: [{ body: 'abcde', trailers: ['T-One', '1', 't-two', '2'], keepAlive: true }],
  },
  { name: 'close-delimited, completed by EOF', input: `${OK}X: y\r\n\r\nabc`, messages: [done('abc', { keepAlive: false })] },
  { name: 'close-delimited without EOF is not complete', input: `${OK}X: y\r\n\r\nabc`, eof: false, messages: [{ body: 'abc', trailers: undefined }] },
  {
    name: 'HEAD: no body even with Content-Length, the next response follows',
    input: `${OK}Content-Length: 5\r\n\r\n${OK}Content-Length: 1\r\n\r\nx`,
    methods: ['HEAD', 'GET'],
    messages: [done('', { keepAlive: true }), done('x')],
  },
  { name: 'HEAD without a length stays reusable', input: `${OK}\r\n`, methods: ['HEAD'], messages: [done('', { keepAlive: true })] },
  { name: '204 with Content-Length has no body', input: `HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n${OK}Content-Length: 1\r\n\r\ny`, messages: [done('', { status: 204 }), done('y')] },
  { name: '304 with Content-Length has no body', input: `HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n`, messages: [done('', { status: 304, keepAlive: true })] },
  {
    name: '100, 103 with Link and 102, then the final response',
    input: `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n${OK}Content-Length: 2\r\n\r\nok`,
    messages: [
      { status: 100, interim: true, trailers: undefined },
      { status: 103, interim: true, headers: ['Link', '</a.css>; rel=preload'], trailers: undefined },
      { status: 102, interim: true, trailers: undefined },
      done('ok', { status: 200 }),
    ],
  },
  { name: 'an unsolicited 100 before the final response', input: `HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 1\r\n\r\nz`, methods: ['GET'], messages: [{ status: 100, interim: true }, done('z')] },
  {
    name: '101: the bytes after the head are returned unconsumed',
    input: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello',
    rest: '\x81\x05hello',
    messages: [done('', { status: 101, upgrade: true, keepAlive: false })],
  },
  { name: '101 without Upgrade fields is still an upgrade', input: 'HTTP/1.1 101 S\r\n\r\nHTTP/1.1 200 OK\r\n\r\n', rest: 'HTTP/1.1 200 OK\r\n\r\n', messages: [{ status: 101, upgrade: true }] },
  { name: '2xx to CONNECT is an upgrade', input: `${OK}\r\nTLS bytes`, methods: ['CONNECT'], rest: 'TLS bytes', messages: [{ status: 200, upgrade: true }] },
  { name: '407 to CONNECT has a body', input: `HTTP/1.1 407 No\r\nContent-Length: 2\r\n\r\nno`, methods: ['CONNECT'], messages: [done('no', { upgrade: false })] },
  {
    name: 'two identical Content-Length lines are one length (names kept)',
    input: `${OK}Content-Length: 2\r\ncontent-length: 2\r\n\r\nab`,
    messages: [done('ab', { headers: ['Content-Length', '2', 'content-length', '2'] })],
  },
  {
    name: 'three identical Content-Length lines, a 1xx before',
    input: `HTTP/1.1 100 Continue\r\n\r\n${OK}Content-Length: 2\r\nX: 1\r\nCONTENT-LENGTH:2\r\nContent-Length: 2  \r\n\r\nab`,
    messages: [{ status: 100 }, done('ab', { headers: ['Content-Length', '2', 'X', '1', 'CONTENT-LENGTH', '2', 'Content-Length', '2'] })],
  },
  { name: 'conflicting Content-Length', input: `${OK}Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc`, error: 'HPE_UNEXPECTED_CONTENT_LENGTH', messages: [] },
  { name: 'Content-Length list', input: `${OK}Content-Length: 2, 2\r\n\r\nab`, error: 'HPE_INVALID_CONTENT_LENGTH', messages: [] },
  { name: 'Content-Length not a number', input: `${OK}Content-Length: +2\r\n\r\nab`, error: 'HPE_INVALID_CONTENT_LENGTH', messages: [] },
  { name: 'Content-Length and Transfer-Encoding', input: `${OK}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, error: 'HPE_INVALID_TRANSFER_ENCODING', messages: [] },
  { name: 'Transfer-Encoding and a duplicate Content-Length', input: `${OK}Content-Length: 3\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`, error: 'HPE_INVALID_TRANSFER_ENCODING', messages: [] },
  { name: 'chunked not last: the body runs to EOF', input: `${OK}Transfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc`, messages: [done('3\r\nabc', { keepAlive: false })] },
  { name: 'gzip, chunked is chunked', input: `${OK}Transfer-Encoding: gzip, chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n`, messages: [done('q', { keepAlive: true })] },
  { name: 'a bad chunk size', input: `${OK}Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n`, error: 'HPE_INVALID_CHUNK_SIZE', messages: [{ body: '', trailers: undefined }] },
  { name: 'chunk data longer than its size', input: `${OK}Transfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n`, error: /^HPE_/, messages: [{ body: 'a', trailers: undefined }] },
  { name: 'obs-fold', input: `${OK}X: a\r\n b\r\nContent-Length: 0\r\n\r\n`, error: 'HPE_INVALID_HEADER_TOKEN', messages: [] },
  { name: 'whitespace before the colon', input: `${OK}Content-Length : 0\r\n\r\n`, error: 'HPE_INVALID_HEADER_TOKEN', messages: [] },
  { name: 'a control character in a value', input: `${OK}X: a\x01b\r\nContent-Length: 0\r\n\r\n`, error: 'HPE_INVALID_HEADER_TOKEN', messages: [] },
  { name: 'a status line ended by CR CR', input: 'HTTP/1.1 200 OK\r\rX: 0\r\nContent-Length: 0\r\n\r\n', error: /^HPE_/, messages: [] },
  { name: 'a bare LF', input: 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', error: /^HPE_/, messages: [] },
  { name: 'an invalid status line', input: 'HTTP/1.1 2x0 OK\r\n\r\n', error: /^HPE_/, messages: [] },
  { name: 'not HTTP', input: 'SSH-2.0-OpenSSH_9.6\r\n', error: /^HPE_/, messages: [] },
  { name: 'an ICE status line', input: 'ICE/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', error: 'HPE_INVALID_CONSTANT', messages: [] },
  { name: 'an RTSP status line after a response', input: `${OK}Content-Length: 0\r\n\r\nRTSP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n`, error: 'HPE_INVALID_CONSTANT', messages: [done('')] },
  ...['099', '000', '600', '999'].map((s) => ({ name: `status ${s}`, input: `HTTP/1.1 ${s} X\r\nContent-Length: 0\r\n\r\n`, error: 'HPE_INVALID_STATUS', messages: [] })),
  ...['0.9', '2.0'].map((v) => ({ name: `HTTP/${v}`, input: `HTTP/${v} 200 OK\r\nContent-Length: 0\r\n\r\n`, error: 'HPE_INVALID_VERSION', messages: [] })),
  { name: 'HTTP/1.0 without keep-alive is not persistent', input: 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na', messages: [done('a', { version: '1.0', keepAlive: false })] },
  { name: 'HTTP/1.0 with keep-alive is', input: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\na', messages: [done('a', { keepAlive: true })] },
  { name: 'Connection: close', input: `${OK}Connection: x, close\r\nContent-Length: 1\r\n\r\na`, messages: [done('a', { keepAlive: false })] },
  { name: 'a response after Connection: close', input: `${OK}Connection: close\r\nContent-Length: 0\r\n\r\n${OK}Content-Length: 0\r\n\r\n`, error: 'HPE_CLOSED_CONNECTION', messages: [done('', { keepAlive: false })] },
  { name: 'empty lines after Connection: close', input: `${OK}Connection: close\r\nContent-Length: 0\r\n\r\n\r\n`, messages: [done('', { keepAlive: false })] },
  { name: 'chunked, (a trailing comma) runs to EOF', input: `${OK}Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n`, messages: [done('0\r\n\r\n', { keepAlive: false })] },
  { name: 'an empty Transfer-Encoding line is ignored', input: `${OK}Transfer-Encoding:\r\nContent-Length: 1\r\n\r\nq`, messages: [done('q', { keepAlive: true })] },
  { name: 'a status without reason', input: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n', messages: [done('', { text: '' })] },
  {
    name: 'header count at the limit',
    maxHeaderCount: 10,
    input: `${OK}${'A: b\r\n'.repeat(9)}Content-Length: 0\r\n\r\n`,
    messages: [done('')],
  },
  { name: 'header count above the limit is an error, never a truncation', maxHeaderCount: 10, input: `${OK}${'A: b\r\n'.repeat(10)}Content-Length: 0\r\n\r\n`, error: 'HPE_HEADER_OVERFLOW_COUNT', messages: [] },
  { name: 'header count above the default of 100', input: `${OK}${'A: b\r\n'.repeat(100)}Content-Length: 0\r\n\r\n`, error: 'HPE_HEADER_OVERFLOW_COUNT', messages: [] },
  {
    name: 'trailer count above the limit',
    maxHeaderCount: 3,
    input: `${OK}Transfer-Encoding: chunked\r\n\r\n0\r\n${'T: 1\r\n'.repeat(4)}\r\n`,
    error: 'HPE_HEADER_OVERFLOW_COUNT',
    messages: [{ trailers: undefined }],
  },
  { name: 'head above maxHeaderSize', maxHeaderSize: 1000, input: `${OK}X: ${'a'.repeat(1000)}\r\nContent-Length: 0\r\n\r\n`, error: 'HPE_HEADER_OVERFLOW', messages: [] },
  { name: 'head at maxHeaderSize', maxHeaderSize: 1000, input: `${OK}X: ${'a'.repeat(980)}\r\nContent-Length: 0\r\n\r\n`, messages: [done('')] },
  { name: 'an endless head is cut at the limit', maxHeaderSize: 1000, input: `${OK}X: ${'a'.repeat(5000)}`, error: 'HPE_HEADER_OVERFLOW', messages: [] },
  { name: 'truncated body (EOF mid-body)', input: `${OK}Content-Length: 10\r\n\r\nhello`, error: 'HPE_INVALID_EOF_STATE', messages: [{ body: 'hello', trailers: undefined }] },
  { name: 'truncated chunked body', input: `${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nhel`, error: 'HPE_INVALID_EOF_STATE', messages: [{ body: 'hel', trailers: undefined }] },
  { name: 'truncated head', input: `${OK}Content-Le`, error: 'HPE_INVALID_EOF_STATE', messages: [] },
  { name: 'truncated status line', input: 'HTTP/1.1 2', error: 'HPE_INVALID_EOF_STATE', messages: [] },
  { name: 'stray CR and LF between responses are skipped', input: `${OK}Content-Length: 0\r\n\r\n\n\r\r\n${OK}Content-Length: 0\r\n\r\n`, messages: [done(''), done('')] },
  { name: 'EOF between responses is clean', input: `${OK}Content-Length: 1\r\n\r\na`, messages: [done('a')] },
  {
    name: 'several responses on one stream (keep-alive), bodies containing HTTP/',
    input: `${OK}Content-Length: 9\r\n\r\nHTTP/1.1 ${OK}Transfer-Encoding: chunked\r\n\r\n5\r\nHTTP/\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n`,
    messages: [done('HTTP/1.1 '), done('HTTP/'), done('', { status: 404, text: 'Not Found' })],
  },
  { name: 'Latin-1 bytes in values and reason', input: 'HTTP/1.1 200 Ol\xe9\r\nX: caf\xe9\r\nContent-Length: 0\r\n\r\n', messages: [done('', { text: 'Ol\xe9', headers: ['X', 'caf\xe9', 'Content-Length', '0'] })] },
  { name: 'prototype-named headers are plain pairs', input: `${OK}__proto__: y\r\nconstructor: x\r\nContent-Length: 0\r\n\r\n`, messages: [done('', { headers: ['__proto__', 'y', 'constructor', 'x', 'Content-Length', '0'] })] },
];

function options(c: Case, engine: ParserEngine): FeedOptions {
  return { engine, methods: c.methods, eof: c.eof, maxHeaderCount: c.maxHeaderCount, maxHeaderSize: c.maxHeaderSize };
}

function splits(length: number, prng: Prng): number[][] {
  const out: number[][] = [];
  for (let i = 1; i < length; i++) out.push([i]);
  out.push(Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1));
  for (let n = 0; n < 20; n++) {
    const cuts = new Set<number>();
    const k = 1 + prng.int(6);
    for (let j = 0; j < k; j++) cuts.add(1 + prng.int(Math.max(1, length - 1)));
    out.push([...cuts].sort((a, b) => a - b));
  }
  return out;
}

function check(c: Case, outcome: ParseOutcome): void {
  if (c.error === undefined) expect(outcome.error).toBeUndefined();
  else if (typeof c.error === 'string') expect(outcome.error).toBe(c.error);
  else expect(outcome.error).toMatch(c.error);
  expect(outcome.rest).toBe(c.rest ?? '');
  if (c.messages !== undefined) {
    expect(outcome.messages).toHaveLength(c.messages.length);
    c.messages.forEach((m, i) => expect(outcome.messages[i]).toMatchObject(m));
  }
}

describe.each(ENGINES)('response parser on %s', (engine) => {
  it.each(CASES)('$name', (c) => {
    const whole = feed(c.input, [], options(c, engine));
    check(c, whole);
    const prng = new Prng(0x5eed + c.input.length);
    for (const cuts of splits(c.input.length, prng)) {
      expect({ cuts, outcome: feed(c.input, cuts, options(c, engine)) }).toEqual({ cuts, outcome: whole });
    }
  });

  it('stops calling handlers and releases the engine when destroyed from a callback', () => {
    let heads = 0;
    const parser = createResponseParser(
      {
        onHead: () => {
          heads++;
          parser.destroy();
        },
        onBody: () => expect.unreachable(),
        onComplete: () => expect.unreachable(),
      },
      { engine },
    );
    const r = parser.execute(Buffer.from(`${OK}Content-Length: 1\r\n\r\na${OK}Content-Length: 0\r\n\r\n`));
    expect(typeof r).toBe('number');
    expect(heads).toBe(1);
    expect(parser.execute(Buffer.from(OK))).toBe(0);
    expect(parser.finish()).toBeUndefined();
    parser.destroy();
  });

  it('stays failed after an error', () => {
    const parser = createResponseParser({ onHead: () => {}, onBody: () => {}, onComplete: () => {} }, { engine });
    const first = parser.execute(Buffer.from('HTTP/1.1 600 X\r\n\r\n'));
    expect(first).toMatchObject({ code: 'HPE_INVALID_STATUS' });
    expect(parser.execute(Buffer.from(`${OK}\r\n`))).toBe(first);
    expect(parser.finish()).toBe(first);
    parser.destroy();
  });
});

it('uses llhttp in this Node (the fallback is for a Node without the built-in)', () => {
  expect(parserEngine).toBe('llhttp');
});
