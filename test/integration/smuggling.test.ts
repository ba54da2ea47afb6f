/**
 * SPEC §5.3 over raw sockets: malformed and ambiguous requests are answered 400 (501, 505 where RFC 9112 says so)
 * and never reach the origin; malformed upstream responses become 502 without poisoning the client connection.
 * Each vector was checked against Node's parser: most are refused by llhttp itself (never insecureHTTPParser), the
 * rest by the request gate (policy/framing.ts).
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, header, startRawOrigin } from '../helpers/raw.js';
import type { RawOrigin } from '../helpers/raw.js';

const { track } = useCleanup();

async function connect(port: number): Promise<RawClient> {
  return track(await RawClient.connect(port));
}

/** A raw origin that answers every complete head with a small 200 (records every byte it got). */
async function recordingOrigin(): Promise<RawOrigin> {
  return startRawOrigin((socket, all) => {
    if (all.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  });
}

/** Head-level vectors: the whole head is refused before anything is dispatched. `%O` is the origin authority. */
const HEAD_VECTORS: { name: string; status: number; request: string }[] = [
  { name: 'CL + TE', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
  { name: 'TE + CL (order swapped)', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n' },
  { name: 'TE xchunked', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n' },
  { name: 'TE "chunked, identity"', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n' },
  { name: 'TE identity', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding: identity\r\n\r\nhello' },
  { name: 'TE chunked twice', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
  { name: 'TE "chunked, chunked"', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n' },
  { name: 'TE with a space before the colon', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n' },
  { name: 'TE with a vertical tab', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n' },
  { name: 'TE folded in as the first line (leading space)', status: 400, request: 'POST http://%O/ HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: %O\r\n\r\n0\r\n\r\n' },
  { name: 'TE in an HTTP/1.0 request', status: 400, request: 'POST http://%O/ HTTP/1.0\r\nHost: %O\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
  { name: 'TE "gzip, chunked" (501)', status: 501, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n' },
  { name: 'duplicate Content-Length, same value', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello' },
  { name: 'duplicate Content-Length, different values', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!' },
  { name: 'Content-Length list "5, 5"', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: 5, 5\r\n\r\nhello' },
  { name: 'Content-Length +5', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: +5\r\n\r\nhello' },
  { name: 'Content-Length -1', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: -1\r\n\r\nhello' },
  { name: 'Content-Length 0x5', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: 0x5\r\n\r\nhello' },
  { name: 'Content-Length empty', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: \r\n\r\nhello' },
  { name: 'Content-Length overflow', status: 400, request: 'POST http://%O/ HTTP/1.1\r\nHost: %O\r\nContent-Length: 99999999999999999999999\r\n\r\nhello' },
  { name: 'obs-fold (space)', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX-A: one\r\n two\r\n\r\n' },
  { name: 'obs-fold (tab)', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX-A: one\r\n\ttwo\r\n\r\n' },
  { name: 'bare CR in a value', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX-A: one\rtwo\r\n\r\n' },
  { name: 'bare LF ending a header line', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\nX-A: one\r\n\r\n' },
  { name: 'bare LF everywhere', status: 400, request: 'GET http://%O/ HTTP/1.1\nHost: %O\n\n' },
  { name: 'NUL in a value', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX-A: on\x00e\r\n\r\n' },
  { name: 'NUL in a name', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX-\x00A: one\r\n\r\n' },
  { name: 'control character in a value', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX-A: o\x01ne\r\n\r\n' },
  { name: 'DEL in a value', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX-A: o\x7fne\r\n\r\n' },
  { name: 'invalid name (parenthesis)', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX(A): one\r\n\r\n' },
  { name: 'invalid name (space inside)', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nX A: one\r\n\r\n' },
  { name: 'empty name', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\n: one\r\n\r\n' },
  { name: 'two Host fields', status: 400, request: 'GET http://%O/ HTTP/1.1\r\nHost: %O\r\nHost: evil.example\r\n\r\n' },
  { name: 'no Host in HTTP/1.1', status: 400, request: 'GET http://%O/ HTTP/1.1\r\n\r\n' },
  { name: 'lowercase method', status: 400, request: 'get http://%O/ HTTP/1.1\r\nHost: %O\r\n\r\n' },
  { name: 'HTTP/1.2', status: 400, request: 'GET http://%O/ HTTP/1.2\r\nHost: %O\r\n\r\n' },
  { name: 'HTTP/2.0 request line (505)', status: 505, request: 'GET http://%O/ HTTP/2.0\r\nHost: %O\r\n\r\n' },
  { name: 'space in the target', status: 400, request: 'GET http://%O/a b HTTP/1.1\r\nHost: %O\r\n\r\n' },
  { name: 'NUL in the target', status: 400, request: 'GET http://%O/a\x00b HTTP/1.1\r\nHost: %O\r\n\r\n' },
];

describe('malformed requests → 4xx/5xx, never forwarded (SPEC §5.3)', () => {
  it.each(HEAD_VECTORS)('$name → $status', async ({ status, request }) => {
    const raw = track(await recordingOrigin());
    const proxy = track(await startProxy());
    const authority = `127.0.0.1:${raw.port}`;
    const client = await connect(proxy.port);
    client.write(Buffer.from(request.replaceAll('%O', authority), 'latin1'));
    const res = await client.readResponse();
    expect(res.status).toBe(status);
    expect(header(res, 'connection')).toEqual(['close']);
    await client.waitClosed();
    // Nothing reached the origin: not a byte, not even a connection.
    expect(raw.sockets).toHaveLength(0);
    // The proxy keeps serving other connections.
    const next = await connect(proxy.port);
    next.write(`GET http://${authority}/after HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    expect((await next.readResponse()).status).toBe(200);
    expect(raw.received.map((b) => b.toString('latin1').split('\r\n')[0])).toEqual(['GET /after HTTP/1.1']);
  });
});

/**
 * Body-level vectors: the head is valid, so it may already be on its way upstream when the body turns out broken.
 * What must hold: the client never gets a success, the origin never sees a complete request, the client connection is
 * closed (its framing is lost), and the proxy keeps serving.
 */
const BODY_VECTORS: { name: string; body: string }[] = [
  { name: 'chunk size overflow', body: 'fffffffffffffffffff\r\nabc\r\n0\r\n\r\n' },
  { name: 'negative chunk size', body: '-3\r\nabc\r\n0\r\n\r\n' },
  { name: 'chunk size with trailing space', body: '3 \r\nabc\r\n0\r\n\r\n' },
  { name: 'chunk size line ended by bare LF', body: '3\nabc\n0\n\n' },
  { name: 'chunk data longer than its size', body: '3\r\nabcX0\r\n\r\n' },
  { name: 'obs-fold in a trailer', body: '3\r\nabc\r\n0\r\nX-T: 1\r\n 2\r\n\r\n' },
];

describe('malformed chunked bodies → no success, nothing complete upstream', () => {
  it.each(BODY_VECTORS)('$name', async ({ body }) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const client = await connect(proxy.port);
    client.write(`POST ${origin.url}/victim HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    const outcome = await client.readResponse().then(
      (r) => r.status,
      () => 'closed' as const,
    );
    expect(outcome === 'closed' || outcome === 400).toBe(true);
    await client.waitClosed();
    expect(origin.seen).toHaveLength(0);
    const next = await connect(proxy.port);
    next.write(`GET ${origin.url}/after HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await next.readResponse()).status).toBe(200);
    expect(origin.seen.map((s) => s.url)).toEqual(['/after']);
  });
});

/**
 * The same defects in upstream responses. A malformed head gets a 502 and the client connection stays usable
 * (`502`). A valid head with a malformed chunked body may already be relayed, so the only honest signal left is to cut
 * the client connection without completing the message (`cut`, SPEC §5.2). Either way nothing malformed is relayed
 * and the proxy keeps serving.
 */
const RESPONSE_VECTORS: { name: string; outcome: '502' | 'cut'; response: string }[] = [
  { name: 'CL + TE', outcome: '502', response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' },
  { name: 'TE xchunked', outcome: '502', response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' },
  { name: 'TE "chunked, identity"', outcome: '502', response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\nok\r\n0\r\n\r\n' },
  { name: 'TE identity', outcome: '502', response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok' },
  { name: 'TE "gzip, chunked"', outcome: '502', response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' },
  { name: 'TE chunked twice', outcome: '502', response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' },
  // Identical repeated Content-Length lines are one valid length (RFC 9112 §6.3 rule 5; issue 17, 13): no longer a
  // malformed vector, relayed as one line (test/integration/upstream-client.test.ts).
  { name: 'duplicate Content-Length, different values', outcome: '502', response: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!' },
  { name: 'Content-Length list "2, 2"', outcome: '502', response: 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok' },
  { name: 'Content-Length +2', outcome: '502', response: 'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok' },
  { name: 'Content-Length abc', outcome: '502', response: 'HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nok' },
  { name: 'obs-fold', outcome: '502', response: 'HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok' },
  { name: 'bare CR in a value', outcome: '502', response: 'HTTP/1.1 200 OK\r\nX-A: one\rtwo\r\nContent-Length: 2\r\n\r\nok' },
  { name: 'bare LF line endings', outcome: '502', response: 'HTTP/1.1 200 OK\nX-A: one\nContent-Length: 2\n\nok' },
  { name: 'NUL in a value', outcome: '502', response: 'HTTP/1.1 200 OK\r\nX-A: o\x00ne\r\nContent-Length: 2\r\n\r\nok' },
  { name: 'invalid header name', outcome: '502', response: 'HTTP/1.1 200 OK\r\nX(A): one\r\nContent-Length: 2\r\n\r\nok' },
  { name: 'space before the colon', outcome: '502', response: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok' },
  { name: 'two-digit status', outcome: '502', response: 'HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok' },
  { name: 'not HTTP at all', outcome: '502', response: 'hello world\r\n\r\n' },
  { name: 'chunk size overflow', outcome: 'cut', response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nok\r\n0\r\n\r\n' },
  { name: 'invalid chunk size', outcome: 'cut', response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n' },
  { name: 'chunk data longer than its size', outcome: 'cut', response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX0\r\n\r\n' },
];

describe('malformed upstream responses → 502, or a cut client connection; never a completed message', () => {
  it.each(RESPONSE_VECTORS)('$name → $outcome', async ({ outcome, response }) => {
    const raw = track(await startRawOrigin((socket, all) => {
      if (all.includes('\r\n\r\n')) socket.end(Buffer.from(response, 'latin1'));
    }));
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const client = await connect(proxy.port);
    client.write(`GET ${raw.origin}/bad HTTP/1.1\r\nHost: x\r\n\r\n`);
    if (outcome === '502') {
      const bad = await client.readResponse();
      expect(bad.status).toBe(502);
      expect(bad.body.toString()).toMatch(/invalid response|connection closed|upstream error|response truncated/);
    } else {
      const got = await client.readResponse().then(
        (r) => (r.complete ? `complete ${r.status}` : 'truncated'),
        () => 'closed before a head',
      );
      expect(['truncated', 'closed before a head']).toContain(got);
      await client.waitClosed();
    }
    // The proxy keeps serving: on the same connection after a 502 (not poisoned), on a new one after a cut.
    const next = outcome === '502' ? client : await connect(proxy.port);
    next.write(`GET ${origin.url}/good HTTP/1.1\r\nHost: x\r\n\r\n`);
    const good = await next.readResponse();
    expect(good.status).toBe(200);
    expect(good.body.toString()).toBe('hello GET /good\n');
    expect(next.closed).toBe(false);
  });
});
