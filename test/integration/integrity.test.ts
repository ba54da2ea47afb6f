/**
 * SPEC §5.2 and §4.5 over real sockets: truncation is never masked, and a client that goes away takes its upstream
 * socket with it (destroyed, never pooled).
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import { RawClient, header, startRawOrigin, within } from '../helpers/raw.js';

const { track } = useCleanup();

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('truncated upstream responses (SPEC §5.2)', () => {
  it('short Content-Length: the client connection is destroyed before the promised length', async () => {
    const raw = track(await startRawOrigin((socket, all) => {
      if (all.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-20-bytes-here..');
    }));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${raw.origin}/t HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(header(res, 'content-length')).toEqual(['100']);
    expect(res.complete).toBe(false);
    expect(res.body.length).toBeLessThan(100);
    await client.waitClosed();
    await within(5000, (async () => {
      while (!proxy.logs.some((l) => l.event === 'request')) await delay(5);
    })(), 'access log entry');
    const entry = proxy.logs.find((l) => l.event === 'request')!;
    expect(entry.error).toBe('UPSTREAM_TRUNCATED');
    expect(proxy.stats().downstream.connectionsClosed['upstream-aborted']).toBe(1);
  });

  it('missing last chunk: the client never receives a terminal chunk', async () => {
    const raw = track(await startRawOrigin((socket, all) => {
      if (all.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n');
    }));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${raw.origin}/t HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(header(res, 'transfer-encoding')).toEqual(['chunked']);
    expect(res.complete).toBe(false);
    await client.waitClosed();
  });

  it('the same truncation through a Node client surfaces as an error, not a short success', async () => {
    const raw = track(await startRawOrigin((socket, all) => {
      if (all.includes('\r\n\r\n')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    }));
    const proxy = track(await startProxy());
    await expect(viaProxy(proxy.port, `${raw.origin}/t`)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
  });
});

describe('client goes away mid-response (SPEC §4.5)', () => {
  it('the upstream socket is destroyed, not returned to the pool', async () => {
    let originSocketClosed = false;
    const raw = track(await startRawOrigin((socket, all) => {
      if (all.includes('\r\n\r\n') && !socket.writableEnded) {
        socket.on('close', () => {
          originSocketClosed = true;
        });
        // A head and part of a long body, then nothing: the exchange is in flight when the client leaves.
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n' + 'x'.repeat(1000));
      }
    }));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${raw.origin}/long HTTP/1.1\r\nHost: x\r\n\r\n`);
    await within(5000, (async () => {
      while (proxy.stats().upstream.totals.socketsBusy === 0) await delay(5);
    })(), 'upstream request in flight');
    client.close();
    await within(5000, (async () => {
      while (!originSocketClosed) await delay(5);
    })(), 'origin socket closed');
    await within(5000, (async () => {
      while ((proxy.stats().upstream.totals.socketsClosed['client-aborted'] ?? 0) === 0) await delay(5);
    })(), 'client-aborted close');
    const s = proxy.stats().upstream.totals;
    expect(s.socketsActive).toBe(0);
    // Exactly one upstream connection: no spurious reconnect for the dead request.
    expect(s.socketsCreated).toBe(1);
    expect(raw.sockets).toHaveLength(1);
    expect(s.socketsClosed).toEqual({ 'client-aborted': 1 });
    await within(5000, (async () => {
      while (!proxy.logs.some((l) => l.event === 'request')) await delay(5);
    })(), 'access log entry');
    expect(proxy.logs.find((l) => l.event === 'request')?.error).toBe('CLIENT_ABORTED');
  });

  it('a request still queued for a pool slot is dropped without touching the pooled socket', async () => {
    let release: (() => void) | undefined;
    const raw = track(await startRawOrigin((socket, all) => {
      const requests = all.toString('latin1').split('\r\n\r\n').length - 1;
      const answer = (): void => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      };
      // Hold the first request until released; answer later ones at once.
      if (requests === 1) release = answer;
      else if (requests > 1) answer();
    }));
    const proxy = track(await startProxy({ upstream: { maxSockets: 1 } }));
    const first = viaProxy(proxy.port, `${raw.origin}/first`);
    await within(5000, (async () => {
      while (release === undefined) await delay(5);
    })(), 'first request at the origin');
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${raw.origin}/queued HTTP/1.1\r\nHost: x\r\n\r\n`);
    await within(5000, (async () => {
      while (proxy.stats().downstream.connectionsAccepted < 2) await delay(5);
    })(), 'second client accepted');
    await delay(50); // let the second request reach the pool queue (no event exposes undici's queue)
    client.close();
    await within(5000, (async () => {
      while (!proxy.logs.some((l) => l.event === 'request' && l.target === `${raw.origin}/queued`)) await delay(5);
    })(), 'queued request logged');
    release!();
    expect((await first).status).toBe(200);
    // The next request reuses the one pooled socket: the dropped request neither reached the origin nor cost a socket.
    expect((await viaProxy(proxy.port, `${raw.origin}/next`)).status).toBe(200);
    expect(raw.sockets).toHaveLength(1);
    const seen = raw.received[0]!.toString('latin1');
    expect(seen).not.toContain('/queued');
    expect(seen).toContain('/next');
    expect(proxy.stats().upstream.totals.reusedRequests).toBe(1);
  });
});
