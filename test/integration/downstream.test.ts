/**
 * SPEC §3 over real sockets: downstream keep-alive policy, HTTP/1.0 clients, pipelining, timeouts and limits, and
 * the recorded close reason of each client connection.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, header, within } from '../helpers/raw.js';

const { track } = useCleanup();

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function closeReasons(p: TestProxy, n: number): Promise<Record<string, number>> {
  await within(5000, (async () => {
    while (Object.values(p.stats().downstream.connectionsClosed).reduce((a, b) => a + (b ?? 0), 0) < n) await delay(10);
  })(), 'downstream close');
  return { ...p.stats().downstream.connectionsClosed };
}

describe('HTTP/1.0 clients (SPEC §3.2, RFC 9112 §9.3)', () => {
  it('are never kept alive, even with Connection: keep-alive, and never get chunked responses', async () => {
    // The origin answers chunked (no Content-Length).
    const origin = track(await startOrigin((_req, res) => {
      res.write('part1-');
      res.end('part2');
    }));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.url}/old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`);
    const res = await client.readResponse();
    expect(res.statusLine).toMatch(/^HTTP\/1\.1 200/);
    expect(header(res, 'connection')).toEqual(['close']);
    expect(header(res, 'transfer-encoding')).toEqual([]);
    expect(header(res, 'keep-alive')).toEqual([]);
    expect(res.body.toString()).toBe('part1-part2');
    await client.waitClosed();
    // The upstream hop stays HTTP/1.1 and pooled; Via says the request arrived as 1.0.
    expect(origin.seen[0]!.httpVersion).toBe('1.1');
    expect(origin.seen[0]!.headers.via).toBe(`1.0 hopwise (${proxy.proxy.instanceId})`);
    expect(await closeReasons(proxy, 1)).toEqual({ 'http1.0': 1 });
  });
});

describe('HTTP/1.1 clients (SPEC §3.1, §3.3)', () => {
  it('are kept alive by default and closed when they ask (client-asked)', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.url}/1 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const r1 = await client.readResponse();
    expect(header(r1, 'connection')).toEqual(['keep-alive']);
    expect(header(r1, 'keep-alive')).toEqual(['timeout=5']);
    client.write(`GET ${origin.url}/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const r2 = await client.readResponse();
    expect(header(r2, 'connection')).toEqual(['close']);
    await client.waitClosed();
    expect(await closeReasons(proxy, 1)).toEqual({ 'client-asked': 1 });
  });

  it('answers pipelined requests in order on the same connection', async () => {
    // The origin answers /slow last, so order is the proxy's doing.
    const origin = track(await startOrigin((req, res) => {
      const body = `answer ${req.url}`;
      const send = (): void => {
        res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (req.url === '/slow') setTimeout(send, 150);
      else send();
    }));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(
      `GET ${origin.url}/slow HTTP/1.1\r\nHost: x\r\n\r\n` +
        `GET ${origin.url}/fast1 HTTP/1.1\r\nHost: x\r\n\r\n` +
        `GET ${origin.url}/fast2 HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) bodies.push((await client.readResponse()).body.toString());
    expect(bodies).toEqual(['answer /slow', 'answer /fast1', 'answer /fast2']);
    const entries = proxy.logs.filter((l) => l.event === 'request');
    expect(entries.map((e) => e.conn)).toEqual([1, 1, 1]);
    expect(entries.map((e) => e.connReq).sort()).toEqual([1, 2, 3]);
  });

  it('closes an idle connection after downstream.keepAliveTimeout (idle-timeout)', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ downstream: { keepAliveTimeout: 100 } }));
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.url}/i HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(header(res, 'keep-alive')).toEqual(['timeout=0']);
    // Node's server adds a fixed 1 s buffer to keepAliveTimeout before it closes (Node 20).
    await client.waitClosed(3000);
    expect(await closeReasons(proxy, 1)).toEqual({ 'idle-timeout': 1 });
  });

  it('closes after downstream.maxRequestsPerConnection with Connection: close on the last response', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ downstream: { maxRequestsPerConnection: 2 } }));
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.url}/1 HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(header(await client.readResponse(), 'connection')).toEqual(['keep-alive']);
    client.write(`GET ${origin.url}/2 HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(header(await client.readResponse(), 'connection')).toEqual(['close']);
    await client.waitClosed();
    expect(await closeReasons(proxy, 1)).toEqual({ 'max-requests': 1 });
  });
});

describe('slow and oversized request heads (SPEC §3.4)', () => {
  it('a head slower than downstream.headersTimeout gets 408 and a close', async () => {
    const proxy = track(await startProxy({ downstream: { headersTimeout: 300, requestTimeout: 600 } }));
    const client = track(await RawClient.connect(proxy.port));
    const t0 = performance.now();
    client.write('GET http://127.0.0.1:1/x HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const res = await client.readResponse({ ms: 5000 });
    expect(res.status).toBe(408);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    await client.waitClosed();
    expect(await closeReasons(proxy, 1)).toEqual({ 'bad-request': 1 });
  });

  it('a head over downstream.maxHeaderSize gets 431 and a close; other connections are unaffected', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ downstream: { maxHeaderSize: 2048 } }));
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.url}/big HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(431);
    await client.waitClosed();
    const other = await RawClient.connect(proxy.port);
    try {
      other.write(`GET ${origin.url}/ok HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect((await other.readResponse()).status).toBe(200);
    } finally {
      other.close();
    }
    expect(origin.seen.map((r) => r.url)).toEqual(['/ok']);
  });

  it('garbage gets 400 and a close', async () => {
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write('\x16\x03\x01 not http at all\r\n\r\n');
    expect((await client.readResponse()).status).toBe(400);
    await client.waitClosed();
  });
});

const SS = '/usr/bin/ss';
describe.skipIf(!existsSync(SS))(`TCP options on accepted sockets (SPEC §3.5)${existsSync(SS) ? '' : ` (skipped: ${SS} missing)`}`, () => {
  it('sets SO_KEEPALIVE on client connections (seen as a keepalive timer by ss)', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ downstream: { tcpKeepAliveInitialDelay: 30_000 } }));
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.url}/k HTTP/1.1\r\nHost: x\r\n\r\n`);
    await client.readResponse();
    const { stdout } = await promisify(execFile)(SS, ['-tno', 'state', 'established', `( sport = :${proxy.port} )`]);
    expect(stdout).toMatch(/timer:\(keepalive,/);
  });
});
