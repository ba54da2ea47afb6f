/**
 * SPEC §1 over real sockets: what crosses each hop, byte for byte (raw client → hopwise → raw or real origin).
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, header, startRawOrigin } from '../helpers/raw.js';

const { track } = useCleanup();

function names(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) out.push(rawHeaders[i]!.toLowerCase());
  return out;
}

const REQUEST_HOP_HEADERS = ['x-listed', 'x-also-listed', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'upgrade'];

describe('request direction', () => {
  it('strips Connection, every listed header and the fixed list; keeps end-to-end headers in order and case', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(
      `GET ${origin.url}/a HTTP/1.1\r\n` +
        `Host: ${`127.0.0.1:${origin.port}`}\r\n` +
        'X-First: 1\r\n' +
        'Connection: keep-alive, X-Listed\r\n' +
        'connection: x-ALSO-listed ,, \r\n' +
        'X-Listed: secret\r\n' +
        'X-Also-Listed: secret2\r\n' +
        'Proxy-Connection: keep-alive\r\n' +
        'Keep-Alive: timeout=5\r\n' +
        'TE: trailers\r\n' +
        'Trailer: X-Checksum\r\n' +
        'Upgrade: h2c\r\n' +
        'Proxy-Authorization: Basic dXNlcjpwYXNz\r\n' +
        'Cookie: a=1\r\n' +
        'X-MiXeD-Case: Value With  Spaces\r\n' +
        'Cookie: b=2\r\n' +
        'Via: 1.0 upstream-corp\r\n' +
        '\r\n',
    );
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    const seen = origin.seen[0]!;
    for (const h of REQUEST_HOP_HEADERS) expect(names(seen.rawHeaders)).not.toContain(h);
    // The only Connection header upstream is the proxy's own for its pooled hop (SPEC §1.5), not the client's.
    expect(header(seen, 'connection')).toEqual(['keep-alive']);
    // End-to-end headers: same values, same relative order, name case preserved, duplicates kept.
    const e2e = seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.startsWith('X-') || seen.rawHeaders[i] === 'Cookie');
    expect(e2e).toEqual(['X-First', 'Cookie', 'X-MiXeD-Case', 'Cookie']);
    expect(header(seen, 'cookie')).toEqual(['a=1', 'b=2']);
    expect(header(seen, 'x-mixed-case')).toEqual(['Value With  Spaces']);
    // Via: the existing value stays first, ours is appended (SPEC §1.4).
    expect(header(seen, 'via')).toEqual(['1.0 upstream-corp', `1.1 hopwise (${proxy.proxy.instanceId})`]);
  });

  it('does not let a client strip Via by listing it in Connection (SPEC §1.2), and keeps framing intact', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    const body = 'abcdefghij';
    client.write(
      `POST ${origin.url}/p HTTP/1.1\r\nHost: x\r\nConnection: Via, Content-Length, Host\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    const seen = origin.seen[0]!;
    expect(header(seen, 'via')).toEqual([`1.1 hopwise (${proxy.proxy.instanceId})`]);
    expect(seen.bodyLength).toBe(body.length);
    expect(header(seen, 'host')).toEqual([`127.0.0.1:${origin.port}`]);
  });

  it('replaces Host with the absolute URI authority (SPEC §2.1)', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.url}/h HTTP/1.1\r\nHost: evil.example\r\n\r\n`);
    await client.readResponse();
    expect(header(origin.seen[0]!, 'host')).toEqual([`127.0.0.1:${origin.port}`]);
    expect(origin.seen[0]!.url).toBe('/h');
  });
});

describe('response direction', () => {
  it('strips the response-side hop-by-hop headers and adds Via; Set-Cookie duplicates stay', async () => {
    const raw = track(await startRawOrigin((socket, all) => {
      if (!all.includes('\r\n\r\n')) return;
      socket.end(
        'HTTP/1.1 200 OK\r\n' +
          'X-One: 1\r\n' +
          'Connection: close, X-Hop\r\n' +
          'X-Hop: internal\r\n' +
          'Keep-Alive: timeout=30\r\n' +
          'Proxy-Authenticate: Basic realm="origin"\r\n' +
          'Proxy-Connection: close\r\n' +
          'Trailer: X-Sum\r\n' +
          'Upgrade: h2c\r\n' +
          'Set-Cookie: a=1\r\n' +
          'Set-Cookie: b=2\r\n' +
          'Via: 1.1 origin-cache\r\n' +
          'Content-Length: 5\r\n' +
          '\r\nhello',
      );
    }));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${raw.origin}/r HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
    const n = names(res.rawHeaders);
    for (const h of ['x-hop', 'proxy-authenticate', 'proxy-connection', 'trailer', 'upgrade']) expect(n).not.toContain(h);
    // The only Connection/Keep-Alive headers downstream are hopwise's own (SPEC §1.5): keep-alive, not the origin's close.
    expect(header(res, 'connection')).toEqual(['keep-alive']);
    expect(header(res, 'keep-alive')).toEqual(['timeout=5']);
    expect(header(res, 'set-cookie')).toEqual(['a=1', 'b=2']);
    expect(header(res, 'via')).toEqual(['1.1 origin-cache', '1.1 hopwise']);
    expect(header(res, 'x-one')).toEqual(['1']);
    // An origin's Connection: close does not close the client connection (SPEC §4.6).
    client.write(`GET ${raw.origin}/r2 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const again = await client.readResponse();
    expect(again.status).toBe(200);
    expect(client.closed).toBe(false);
  });
});
