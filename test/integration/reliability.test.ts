/**
 * Reliability regressions found by the soak run (issue 7, docs/reliability.md).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, eventually, within } from '../helpers/raw.js';

let origin: TestOrigin | undefined;
let proxy: TestProxy | undefined;
let client: RawClient | undefined;

afterEach(async () => {
  client?.close();
  await proxy?.close();
  await origin?.close();
  client = proxy = origin = undefined;
});

describe('a client connection cut while pipelined responses are queued', () => {
  it('aborts the queued exchanges upstream: no upstream socket stays busy, graceful close completes', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x61);
    origin = await startOrigin((req, res) => {
      if (req.url === '/trunc') {
        // Promise 1000 bytes, send 10, die: the proxy must cut the client connection (SPEC §5.2).
        res.writeHead(200, { 'Content-Length': '1000' });
        res.write('0123456789');
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      res.writeHead(200, { 'Content-Length': String(big.length) });
      res.end(big);
    });
    proxy = await startProxy({ shutdown: { drainTimeout: 10_000 } });
    client = await RawClient.connect(proxy.port);
    // /trunc is answered first; /big and /big2 wait behind it, buffered in their queued responses (back-pressure).
    client.write(
      `GET ${origin.url}/trunc HTTP/1.1\r\nHost: x\r\n\r\nGET ${origin.url}/big HTTP/1.1\r\nHost: x\r\n\r\nGET ${origin.url}/big2 HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    await client.waitClosed();
    const p = proxy;
    await eventually(() => p.stats().upstream.totals.socketsBusy === 0, 3000, 'upstream sockets to be released');
    expect(p.stats().downstream.connectionsActive).toBe(0);
    // Before the fix, the queued exchanges never saw their client go away and a graceful close waited for ever.
    await within(3000, p.proxy.close(), 'a graceful close');
  });
});

describe('a pipelined response truncated upstream while an earlier one is still pending', () => {
  it('delivers the earlier response first, then cuts the connection (never out of order, never masked)', async () => {
    origin = await startOrigin((req, res) => {
      if (req.url === '/slow') {
        setTimeout(() => {
          res.writeHead(200, { 'Content-Length': '9' });
          res.end('slow-body');
        }, 200);
        return;
      }
      res.writeHead(200, { 'Content-Length': '1000' });
      res.write('0123456789');
      setTimeout(() => req.socket.destroy(), 20);
    });
    proxy = await startProxy();
    client = await RawClient.connect(proxy.port);
    client.write(`GET ${origin.url}/slow HTTP/1.1\r\nHost: x\r\n\r\nGET ${origin.url}/trunc HTTP/1.1\r\nHost: x\r\n\r\n`);
    const first = await client.readResponse();
    expect([first.status, first.body.toString(), first.complete]).toEqual([200, 'slow-body', true]);
    const second = await client.readResponse().then(
      (r) => (r.complete ? 'complete' : 'truncated'),
      () => 'closed before a head',
    );
    expect(['truncated', 'closed before a head']).toContain(second);
    await client.waitClosed();
  });
});

