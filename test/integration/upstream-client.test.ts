/**
 * hopwise's own upstream client (issue 12) and the client-side hardening of issue 17: the `*` request-target, interim
 * responses, bodiless 304s, unsolicited 100s, duplicate identical Content-Length, invalid status codes, too many
 * response fields, no non-replayable request on a long-idle socket, and a bounded wait for a socket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import { RawClient, header, within } from '../helpers/raw.js';
import { HANG, okResponse, startScriptedOrigin } from '../helpers/scripted-origin.js';
import { selfSignedCert } from '../helpers/tunnel.js';

const { track, defer } = useCleanup();

/** Resolves after `ms` (only where the passing of idle time is itself the condition under test). */
const idleFor = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('request-target', () => {
  it('OPTIONS http://host:port (empty path) reaches the origin as OPTIONS * (RFC 9112 §3.2.4)', async () => {
    const origin = track(await startScriptedOrigin(() => okResponse('opts')));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`OPTIONS http://127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    expect(origin.requests[0]!.head.split('\r\n')[0]).toBe('OPTIONS * HTTP/1.1');
  });
});

describe('interim responses (RFC 9110 §15.2)', () => {
  const hints = async (): Promise<number> => {
    const origin = track(await startOrigin((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'Content-Length': 2 });
      res.end('ok');
    }));
    return origin.port;
  };

  it('a 103 with Link reaches an HTTP/1.1 client before the 200, stripped and with Via', async () => {
    const port = await hints();
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: x\r\n\r\n`);
    const early = await client.readResponse();
    expect(early.status).toBe(103);
    expect(header(early, 'link')).toEqual(['</style.css>; rel=preload; as=style']);
    expect(header(early, 'via')).toHaveLength(1);
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
  });

  it('an HTTP/1.0 client gets only the 200', async () => {
    const port = await hints();
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET http://127.0.0.1:${port}/ HTTP/1.0\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
  });

  it('an unsolicited 100 Continue before the final response: the final response is relayed (issue 17, 6)', async () => {
    const origin = track(await startScriptedOrigin(() => `HTTP/1.1 100 Continue\r\n\r\n${okResponse('final')}`));
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `${origin.origin}/x`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('final');
  });
});

describe('response framing edge cases', () => {
  it('a 304 with Content-Length: 5 and no body is complete; the connection stays usable (issue 17, 5)', async () => {
    const origin = track(await startScriptedOrigin((r) => (r.path === '/304' ? 'HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\nETag: "a"\r\n\r\n' : okResponse('next'))));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.origin}/304 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(res.status).toBe(304);
    client.write(`GET ${origin.origin}/next HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await client.readResponse()).body.toString()).toBe('next');
    expect(origin.connections()).toBe(1);
  });

  it('two identical Content-Length: 2 lines are one valid length (issue 17, 13)', async () => {
    const origin = track(await startScriptedOrigin(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok'));
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `${origin.origin}/x`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
    expect(header(res, 'content-length')).toEqual(['2']);
  });

  it.each(['099', '000'])('status %s → 502 whose body names no internal assertion (issue 17, 13)', async (status) => {
    const origin = track(await startScriptedOrigin(() => `HTTP/1.1 ${status} Odd\r\nContent-Length: 0\r\n\r\n`));
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `${origin.origin}/x`);
    expect(res.status).toBe(502);
    expect(res.body.toString()).not.toContain('ERR_ASSERTION');
    expect(res.body.toString()).toContain('invalid response');
  });

  it('a response with more header fields than the limit → 502, never a truncated head (issue 17, 1)', async () => {
    const fields = Array.from({ length: 150 }, (_, i) => `X-F${i}: v\r\n`).join('');
    const origin = track(await startScriptedOrigin(() => `HTTP/1.1 200 OK\r\n${fields}Content-Length: 2\r\n\r\nok`));
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `${origin.origin}/x`);
    expect(res.status).toBe(502);
    expect(proxy.stats().upstream.totals.errors).toEqual({ UPSTREAM_BAD_RESPONSE: 1 });
  });
});

describe('no request that cannot be replayed on a long-idle socket (issue 17, B)', () => {
  it('a POST after more than 1 s idle goes out on a new connection, counted in freshForUnsafe; a GET still reuses', async () => {
    const origin = track(await startScriptedOrigin(() => okResponse('ok')));
    const proxy = track(await startProxy());
    expect((await viaProxy(proxy.port, `${origin.origin}/a`)).status).toBe(200);
    await idleFor(1200);
    const post = await viaProxy(proxy.port, `${origin.origin}/p`, { method: 'POST', body: 'abc' });
    expect(post.status).toBe(200);
    expect(origin.requests[1]!.conn).toBe(2);
    expect(origin.requests[1]!.body.toString()).toBe('abc');
    expect(proxy.stats().upstream.totals.freshForUnsafe).toBe(1);
    // Just used: a POST right away may reuse it; the GET reuses as before.
    expect((await viaProxy(proxy.port, `${origin.origin}/p2`, { method: 'POST', body: 'x' })).status).toBe(200);
    expect(origin.requests[2]!.conn).toBe(2);
    expect((await viaProxy(proxy.port, `${origin.origin}/g`)).status).toBe(200);
    expect(origin.connections()).toBe(2);
    expect(proxy.stats().upstream.totals.freshForUnsafe).toBe(1);
  });
});

describe('upstream.queueTimeout (issue 17, C)', () => {
  it('a request waiting for a socket longer than queueTimeout gets 503 UPSTREAM_QUEUE_TIMEOUT', async () => {
    const origin = track(await startScriptedOrigin((r) => (r.path === '/hang' ? HANG : okResponse())));
    const proxy = track(await startProxy({ upstream: { maxSockets: 1, queueTimeout: 300, responseTimeout: 10_000 } }));
    const hung = track(await RawClient.connect(proxy.port));
    hung.write(`GET ${origin.origin}/hang HTTP/1.1\r\nHost: x\r\n\r\n`);
    const started = performance.now();
    const res = await within(5000, viaProxy(proxy.port, `${origin.origin}/queued`), 'the queued request');
    expect(res.status).toBe(503);
    expect(res.body.toString()).toContain('no upstream connection free within 300 ms');
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(proxy.stats().upstream.totals.errors.UPSTREAM_QUEUE_TIMEOUT).toBe(1);
  });
});

describe('https origins (TLS on the connector)', () => {
  async function httpsOrigin(): Promise<{ port: number; certFile: string }> {
    const { key, cert } = selfSignedCert();
    const server = https.createServer({ key, cert }, (_req, res) => {
      res.writeHead(200, { 'Content-Length': 3 });
      res.end('tls');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    defer(() => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }));
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-ca-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const certFile = join(dir, 'ca.pem');
    writeFileSync(certFile, cert);
    return { port: (server.address() as AddressInfo).port, certFile };
  }

  it('an origin whose certificate is not trusted → 502 (certificates are verified)', async () => {
    const { port } = await httpsOrigin();
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `https://127.0.0.1:${port}/x`);
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain('TLS failure');
  });

  it('upstream.ca adds a trusted CA: the same origin is reached over TLS', async () => {
    const { port, certFile } = await httpsOrigin();
    const proxy = track(await startProxy({ upstream: { ca: certFile } }));
    const res = await viaProxy(proxy.port, `https://127.0.0.1:${port}/x`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('tls');
  });
});
