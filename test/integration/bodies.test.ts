/**
 * Bodies stream intact in both directions, fixed-length and chunked, 0 B to 10 MB (hash compared), and a chunked
 * DELETE/OPTIONS cannot smuggle a second request (http-proxy's `deleteLength` defect must not exist here).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient } from '../helpers/raw.js';

let origin: TestOrigin;
let proxy: TestProxy;
const payloads = new Map<number, Buffer>();
for (const n of [0, 1, 1000, 65_537, 1_000_000, 10 * 1024 * 1024]) payloads.set(n, randomBytes(n));

beforeAll(async () => {
  // The origin echoes the request body hash, and serves /bytes/N fixed or chunked.
  origin = await startOrigin(
    (req, res, body) => {
      const m = /^\/bytes\/(\d+)\/(fixed|chunked)$/.exec(req.url ?? '');
      if (m !== null) {
        const data = payloads.get(Number(m[1]))!;
        const headers: Record<string, string> = { 'X-Sha256': sha256(data) };
        if (m[2] === 'fixed') headers['Content-Length'] = String(data.length);
        res.writeHead(200, headers);
        // Several writes so a chunked response really has several chunks.
        for (let i = 0; i < data.length; i += 300_000) res.write(data.subarray(i, i + 300_000));
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 64 });
      res.end(sha256(body));
    },
    { bufferBody: true },
  );
  proxy = await startProxy({ log: { access: false } }, 'error');
});

afterAll(async () => {
  await proxy.close();
  await origin.close();
});

describe('response bodies', () => {
  it.each([...payloads.keys()].flatMap((n) => [[n, 'fixed'], [n, 'chunked']] as const))(
    '%i bytes, %s, arrive intact',
    async (n, framing) => {
      const res = await viaProxy(proxy.port, `${origin.url}/bytes/${n}/${framing}`);
      expect(res.status).toBe(200);
      expect(res.body.length).toBe(n);
      expect(sha256(res.body)).toBe(res.headers['x-sha256']);
      if (framing === 'fixed') expect(res.headers['content-length']).toBe(String(n));
    },
  );
});

describe('request bodies', () => {
  it.each([...payloads.keys()].flatMap((n) => [[n, 'fixed'], [n, 'chunked']] as const))(
    '%i bytes, %s, arrive intact at the origin',
    async (n, framing) => {
      const data = payloads.get(n)!;
      const headers: Record<string, string> =
        framing === 'fixed' ? { 'Content-Length': String(n) } : { 'Transfer-Encoding': 'chunked' };
      const res = await viaProxy(proxy.port, `${origin.url}/upload`, { method: 'POST', headers, body: data });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(sha256(data));
      const seen = origin.seen.at(-1)!;
      expect(seen.bodyLength).toBe(n);
    },
  );
});

describe('request smuggling through chunked DELETE/OPTIONS', () => {
  it.each(['DELETE', 'OPTIONS'])('a chunked %s whose body holds a second request reaches the origin as one request', async (method) => {
    const before = origin.seen.length;
    const smuggled = `GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`;
    const chunk = Buffer.from(smuggled);
    const client = await RawClient.connect(proxy.port);
    try {
      client.write(
        `${method} ${origin.url}/victim HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `${chunk.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`,
      );
      const res = await client.readResponse();
      expect(res.status).toBe(200);
      // Ask again on the same connection so any smuggled request would have been answered by now.
      client.write(`GET ${origin.url}/after HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
      await client.readResponse();
    } finally {
      client.close();
    }
    const urls = origin.seen.slice(before).map((s) => `${s.method} ${s.url}`);
    expect(urls).toEqual([`${method} /victim`, 'GET /after']);
    // The body reached the origin as a body, intact.
    expect(origin.seen[before]!.bodyLength).toBe(Buffer.byteLength(smuggled));
  });
});
