/** The dumb proxy's pure head handling (SPEC §9.1): target splitting, rejections, loopback check, framing helpers. */
import { describe, expect, it } from 'vitest';
import {
  findHeadEnd,
  isLoopbackHost,
  parseRequestHead,
  parseResponseHead,
  plainResponse,
} from '../../src/workshop/dumb-head.js';

const head = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('parseRequestHead: accepted requests', () => {
  it.each([
    ['GET http://a.example/p?q=1 HTTP/1.0', 'a.example', 80, 'GET /p?q=1 HTTP/1.0'],
    ['GET http://a.example HTTP/1.0', 'a.example', 80, 'GET / HTTP/1.0'],
    ['GET http://a.example?x=1 HTTP/1.1', 'a.example', 80, 'GET /?x=1 HTTP/1.1'],
    ['GET http://a.example:8080/x#frag HTTP/1.0', 'a.example', 8080, 'GET /x HTTP/1.0'],
    ['HEAD HTTP://A.Example:81/ HTTP/1.0', 'a.example', 81, 'HEAD / HTTP/1.0'],
    ['GET http://[::1]:9000/v6 HTTP/1.0', '::1', 9000, 'GET /v6 HTTP/1.0'],
    ['GET http://127.0.0.1/%7Euser HTTP/1.0', '127.0.0.1', 80, 'GET /%7Euser HTTP/1.0'],
  ])('%s → %s:%i, %s', (line, host, port, originLine) => {
    const verdict = parseRequestHead(head(`${line}\r\nHost: h\r\n\r\n`));
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.request).toMatchObject({ originHost: host, originPort: port, originRequestLine: originLine });
  });

  it('keeps the header block byte-for-byte and reports header pairs as received', () => {
    const block = 'connection: Keep-Alive, X-A\r\nX-A:  v  \r\nX-Fold: one\r\n two\r\n\r\n';
    const verdict = parseRequestHead(head(`GET http://h/ HTTP/1.0\r\n${block}`));
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.request.headerBlock.toString('latin1')).toBe(block);
    expect(verdict.request.headers).toEqual([
      ['connection', 'Keep-Alive, X-A'],
      ['X-A', 'v'],
      ['X-Fold', 'one two'],
    ]);
  });

  it.each([
    ['', 0],
    ['Content-Length: 11\r\n', 11],
    ['Content-Length: 5, 5\r\nContent-Length: 5\r\n', 5],
  ])('Content-Length from %j is %i', (lines, expected) => {
    const verdict = parseRequestHead(head(`POST http://h/ HTTP/1.0\r\n${lines}\r\n`));
    expect(verdict.ok && verdict.request.contentLength).toBe(expected);
  });
});

describe('parseRequestHead: rejections', () => {
  it.each([
    ['origin-form', 'GET /x HTTP/1.0\r\n\r\n', 400, /absolute URI/],
    ['asterisk-form', 'OPTIONS * HTTP/1.0\r\n\r\n', 400, /absolute URI/],
    ['authority-form without CONNECT', 'GET h:80 HTTP/1.0\r\n\r\n', 400, /absolute URI/],
    ['CONNECT', 'CONNECT h:443 HTTP/1.1\r\n\r\n', 501, /CONNECT/],
    ['https scheme', 'GET https://h/ HTTP/1.1\r\n\r\n', 501, /http:\/\//],
    ['two spaces', 'GET  http://h/ HTTP/1.0\r\n\r\n', 400, /request line/],
    ['HTTP/0.9 style', 'GET http://h/\r\n\r\n', 400, /request line/],
    ['bad version', 'GET http://h/ HTTP/1\r\n\r\n', 400, /request line/],
    ['userinfo', 'GET http://u:p@h/ HTTP/1.0\r\n\r\n', 400, /authority/],
    ['empty host', 'GET http:///x HTTP/1.0\r\n\r\n', 400, /authority/],
    ['bad port', 'GET http://h:99999/ HTTP/1.0\r\n\r\n', 400, /authority/],
    ['space before colon', 'GET http://h/ HTTP/1.0\r\nHost : h\r\n\r\n', 400, /header line/],
    ['bare LF', 'GET http://h/ HTTP/1.0\nHost: h\r\n\r\n', 400, /bare CR or LF/],
    ['chunked', 'POST http://h/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 501, /Transfer-Encoding/],
    ['negative length', 'POST http://h/ HTTP/1.0\r\nContent-Length: -1\r\n\r\n', 400, /Content-Length/],
    ['conflicting lengths', 'POST http://h/ HTTP/1.0\r\nContent-Length: 1, 2\r\n\r\n', 400, /Content-Length/],
  ])('%s → %i', (_name, text, status, message) => {
    const verdict = parseRequestHead(head(text));
    expect(verdict).toMatchObject({ ok: false, status });
    expect(!verdict.ok && verdict.message).toMatch(message);
  });
});

describe('findHeadEnd', () => {
  it.each([
    ['GET / HTTP/1.0\r\n\r\nbody', 0, 18],
    ['GET / HTTP/1.0\r\n', 0, -1],
    // A terminator split across chunks: the caller resumes 3 bytes before the previous end ('abc\r' was seen).
    ['abc\r\n\r\n', 1, 7],
    ['abc\r\n\r\n', 4, -1],
    ['\r\n\r\n', -3, 4],
    ['\n\n\r\n', 0, -1],
  ])('%j from %i → %i', (text, from, expected) => {
    expect(findHeadEnd(head(text), from)).toBe(expected);
  });
});

describe('parseResponseHead', () => {
  it.each([
    ['HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n', 200, [['Connection', 'keep-alive']]],
    ['HTTP/1.0 204\r\n\r\n', 204, []],
    ['ICY 200 OK\r\nX: y\r\n\r\n', null, [['X', 'y']]],
  ])('%j → %s', (text, status, headers) => {
    const observed = parseResponseHead(head(text));
    expect(observed.status).toBe(status);
    expect(observed.headers).toEqual(headers);
    expect(observed.statusLine).toBe(text.slice(0, text.indexOf('\r\n')));
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['127.0.0.1.example.com', false],
    ['example.com', false],
    ['', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('plainResponse', () => {
  it.each([
    [400, 'Bad Request'],
    [501, 'Not Implemented'],
    [502, 'Bad Gateway'],
  ] as const)('%i is an HTTP/1.0 plain-text answer framed by Content-Length', (status, reason) => {
    const text = plainResponse(status, 'why ✓').toString('utf8');
    const body = 'why ✓\n';
    expect(text).toBe(
      `HTTP/1.0 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
});
