/**
 * SPEC §4.4 and §2: the proxy answers errors itself with the right status and a one-line body naming the target and
 * cause, and keeps working afterwards.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import { RawClient, header, startRawOrigin } from '../helpers/raw.js';
import { refusedPort } from '../helpers/ports.js';

const { track } = useCleanup();

describe('upstream errors', () => {
  it('connection refused → 502 naming the origin and cause; the next request succeeds', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const port = await refusedPort();
    const res = await viaProxy(proxy.port, `http://127.0.0.1:${port}/x`);
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body.toString()).toContain(`http://127.0.0.1:${port}`);
    expect(res.body.toString()).toContain('connection refused');
    const ok = await viaProxy(proxy.port, `${origin.url}/y`);
    expect(ok.status).toBe(200);
  });

  it('unresolvable host → 502', async () => {
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, 'http://no-such-host.invalid/x');
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain('name not resolved');
  });

  it('no response head within upstream.responseTimeout → 504; the next request succeeds', async () => {
    // The origin reads the request and never answers the first one.
    const raw = track(await startRawOrigin((socket, all, index) => {
      if (index > 0 && all.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }));
    const proxy = track(await startProxy({ upstream: { responseTimeout: 300 } }));
    const t0 = performance.now();
    const res = await viaProxy(proxy.port, `${raw.origin}/slow`);
    expect(res.status).toBe(504);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(res.body.toString()).toContain('no response head in time');
    const ok = await viaProxy(proxy.port, `${raw.origin}/fast`);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('ok');
  });

  it('an invalid upstream response → 502, and the client connection stays usable', async () => {
    const raw = track(await startRawOrigin((socket, all) => {
      if (all.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd');
    }));
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(`GET ${raw.origin}/bad HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect((await client.readResponse()).status).toBe(502);
      client.write(`GET ${origin.url}/good HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect((await client.readResponse()).status).toBe(200);
    } finally {
      client.close();
    }
  });
});

describe('request target (SPEC §2)', () => {
  it('origin-form to the forward proxy → 400 explaining that an absolute URI is needed', async () => {
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, '/stats');
    expect(res.status).toBe(400);
    expect(res.body.toString()).toMatch(/absolute URI/);
    expect(res.body.toString().trim().split('\n')).toHaveLength(1);
  });

  it.each(['OPTIONS', 'TRACE'])('%s with Max-Forwards: 0 is answered by the proxy itself', async (method) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `${origin.url}/mf`, { method, headers: { 'Max-Forwards': '0', Cookie: 'secret=1' } });
    expect(res.status).toBe(200);
    expect(origin.seen).toHaveLength(0);
    if (method === 'TRACE') {
      expect(res.headers['content-type']).toBe('message/http');
      expect(res.body.toString()).toMatch(/^TRACE http:\/\/127\.0\.0\.1:\d+\/mf HTTP\/1\.1\r\n/);
      expect(res.body.toString()).not.toContain('secret=1');
    } else {
      expect(res.headers.allow).toContain('OPTIONS');
    }
  });

  it.each(['OPTIONS', 'TRACE'])('%s with Max-Forwards: 3 is forwarded with 2', async (method) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `${origin.url}/mf`, { method, headers: { 'Max-Forwards': '3' } });
    expect(res.status).toBe(200);
    expect(header(origin.seen[0]!, 'max-forwards')).toEqual(['2']);
  });

  it('Max-Forwards on a GET is left alone', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    await viaProxy(proxy.port, `${origin.url}/mf`, { headers: { 'Max-Forwards': '0' } });
    expect(header(origin.seen[0]!, 'max-forwards')).toEqual(['0']);
  });
});
