/**
 * SPEC §5.4: HEAD, 204, 304 and 1xx responses carry no body, and Expect: 100-continue works, over raw sockets so the
 * exact framing is visible. Each bodiless response is followed by another request on the same connection: a stray
 * body byte would corrupt it.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, header } from '../helpers/raw.js';

const { track } = useCleanup();

async function setup(): Promise<{ origin: TestOrigin; proxy: TestProxy; client: RawClient }> {
  const origin = track(await startOrigin((req, res) => {
    if (req.url === '/204') {
      res.writeHead(204, { 'X-Kind': 'no-content' });
      res.end();
    } else if (req.url === '/304') {
      res.writeHead(304, { ETag: '"v1"' });
      res.end();
    } else if (req.url === '/hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'Content-Length': 5 });
      res.end('hints');
    } else {
      const body = 'twelve bytes';
      res.writeHead(200, { 'Content-Length': Buffer.byteLength(body), 'Content-Type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : body);
    }
  }));
  const proxy = track(await startProxy());
  const client = track(await RawClient.connect(proxy.port));
  return { origin, proxy, client };
}

async function followUp(client: RawClient, origin: TestOrigin): Promise<void> {
  client.write(`GET ${origin.url}/after HTTP/1.1\r\nHost: x\r\n\r\n`);
  const next = await client.readResponse();
  expect(next.status).toBe(200);
  expect(next.body.toString()).toBe('twelve bytes');
}

describe('bodiless responses (SPEC §5.4)', () => {
  it('HEAD: the origin Content-Length is relayed, no body follows, the connection stays usable', async () => {
    const { origin, proxy, client } = await setup();
    client.write(`HEAD ${origin.url}/x HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse({ head: true });
    expect(res.status).toBe(200);
    expect(header(res, 'content-length')).toEqual(['12']);
    await followUp(client, origin);
    // HEAD does not cost the pooled socket (undici's default would close it).
    expect(proxy.stats().upstream.totals.socketsCreated).toBe(1);
  });

  it.each([
    ['/204', 204],
    ['/304', 304],
  ])('%s: no body, no chunked framing, the connection stays usable', async (path, status) => {
    const { origin, client } = await setup();
    client.write(`GET ${origin.url}${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(res.status).toBe(status);
    expect(header(res, 'transfer-encoding')).toEqual([]);
    expect(res.body.length).toBe(0);
    await followUp(client, origin);
  });

  it('a 103 Early Hints before the final response does not break framing', async () => {
    const { origin, client } = await setup();
    client.write(`GET ${origin.url}/hints HTTP/1.1\r\nHost: x\r\n\r\n`);
    // SPEC §5.5: the interim response is relayed to an HTTP/1.1 client, then the final one, framing intact.
    expect((await client.readResponse()).status).toBe(103);
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hints');
    await followUp(client, origin);
  });
});

describe('Expect: 100-continue (SPEC §5.4)', () => {
  it('hopwise answers 100 Continue before the body is sent, then relays the body; the origin never sees Expect', async () => {
    const { origin, client } = await setup();
    client.write(`POST ${origin.url}/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    const interim = await client.readResponse();
    expect(interim.status).toBe(100);
    client.write('hello');
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    const seen = origin.seen[0]!;
    expect(seen.bodyLength).toBe(5);
    expect(seen.headers.expect).toBeUndefined();
  });
});
