/**
 * SPEC §1.2 abuse cases: a peer that lists end-to-end or proxy-owned headers in `Connection`.
 *
 * Decided behaviour (RFC 9110 §7.6.1: an intermediary MUST remove every field named by a connection option):
 * - headers the proxy adds (`Via`) are added after stripping, so listing them only removes the peer's own copies;
 * - `Host` and `Content-Length` are owned by the proxy (routing and framing) and stay: the body is framed right;
 * - `Authorization`, `Cookie`, `X-Forwarded-For`, `Forwarded` sent by the client are its own end-to-end fields that it
 *   declared hop-by-hop: they are removed, as the RFC requires (a client that lists its credentials does not send them
 *   past the first hop). hopwise adds no X-Forwarded-For/Forwarded of its own in forward mode (`forwarded: auto`);
 *   where it does (gateway mode), its own fields are added after stripping and survive.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, header, startRawOrigin } from '../helpers/raw.js';

const { track } = useCleanup();

const LISTED = 'Via, X-Forwarded-For, Forwarded, Authorization, Cookie, Host, Content-Length, Transfer-Encoding';
const CLIENT_OWN = 'Via: 1.1 client-side\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\nAuthorization: Basic c2VjcmV0\r\nCookie: sid=1\r\n';

describe('a client listing end-to-end and proxy-owned headers in Connection', () => {
  it.each([
    { framing: 'Content-Length', body: (b: string) => `Content-Length: ${b.length}\r\n\r\n${b}` },
    { framing: 'chunked', body: (b: string) => `Transfer-Encoding: chunked\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n` },
  ])('$framing body: proxy headers survive, listed client headers go, framing holds for a pipelined follower', async ({ body }) => {
    const origin = track(await startOrigin((req, res, b) => {
      res.writeHead(200, { 'Content-Length': String(b.length) });
      res.end(b);
    }));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    const first = 'first-body-0123456789';
    const second = 'second';
    client.write(
      `POST ${origin.url}/one HTTP/1.1\r\nHost: evil.example\r\nConnection: ${LISTED}\r\n${CLIENT_OWN}${body(first)}` +
        `POST ${origin.url}/two HTTP/1.1\r\nHost: evil.example\r\nContent-Length: ${second.length}\r\n\r\n${second}`,
    );
    const one = await client.readResponse();
    const two = await client.readResponse();
    expect([one.status, one.body.toString(), two.status, two.body.toString()]).toEqual([200, first, 200, second]);
    expect(origin.seen.map((s) => [s.url, s.bodyLength])).toEqual([
      ['/one', first.length],
      ['/two', second.length],
    ]);
    const seen = origin.seen[0]!;
    expect(header(seen, 'via')).toEqual([`1.1 hopwise (${proxy.proxy.instanceId})`]);
    expect(header(seen, 'host')).toEqual([`127.0.0.1:${origin.port}`]);
    for (const gone of ['x-forwarded-for', 'forwarded', 'authorization', 'cookie', 'connection', 'transfer-encoding']) {
      expect(header(seen, gone)).toEqual(gone === 'connection' ? ['keep-alive'] : []);
    }
  });
});

describe('a client listing X-Forwarded-For / Forwarded in Connection, where the proxy adds them (gateway mode)', () => {
  it.each([
    { forwarded: 'x-forwarded' as const, name: 'x-forwarded-for', expected: ['127.0.0.1'] },
    { forwarded: 'rfc7239' as const, name: 'forwarded', expected: ['for=127.0.0.1;proto=http;host=svc.example'] },
  ])('$forwarded: the client copy goes, the proxy-added field survives', async ({ forwarded, name, expected }) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ mode: 'gateway', target: origin.url, forwarded, preserveHost: true }));
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET /g HTTP/1.1\r\nHost: svc.example\r\nConnection: X-Forwarded-For, Forwarded, Via\r\n${CLIENT_OWN}Content-Length: 0\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(200);
    const seen = origin.seen[0]!;
    expect(header(seen, name)).toEqual(expected);
    expect(header(seen, 'via')).toEqual([`1.1 hopwise (${proxy.proxy.instanceId})`]);
  });
});

describe('an origin listing headers in Connection', () => {
  it('cannot remove the proxy Via or break the framing of the relayed response', async () => {
    const raw = track(await startRawOrigin((socket, all) => {
      const requests = all.toString('latin1').split('\r\n\r\n').length - 1;
      if (requests === 1) {
        socket.write('HTTP/1.1 200 OK\r\nConnection: Via, Content-Length, Set-Cookie\r\nVia: 1.1 origin-side\r\nSet-Cookie: a=1\r\nContent-Length: 5\r\n\r\nhello');
      } else if (requests === 2) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye');
      }
    }));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${raw.origin}/a HTTP/1.1\r\nHost: x\r\n\r\n`);
    const a = await client.readResponse();
    expect(a.body.toString()).toBe('hello');
    expect(header(a, 'via')).toEqual(['1.1 hopwise']);
    expect(header(a, 'set-cookie')).toEqual([]);
    expect(header(a, 'content-length')).toEqual(['5']);
    client.write(`GET ${raw.origin}/b HTTP/1.1\r\nHost: x\r\n\r\n`);
    const b = await client.readResponse();
    expect(b.body.toString()).toBe('bye');
    expect(client.closed).toBe(false);
  });
});
