/**
 * SPEC §4 over real sockets: per-origin pools independent of clients, keep-alive hints, the stale-connection retry,
 * close reasons, limits and eviction.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { DESTROY, okResponse, startScriptedOrigin } from '../helpers/scripted-origin.js';
import type { ScriptedOrigin } from '../helpers/scripted-origin.js';
import { within } from '../helpers/raw.js';

const { track, defer } = useCleanup();

async function origin(): Promise<TestOrigin> {
  return track(await startOrigin());
}

async function scripted(...args: Parameters<typeof startScriptedOrigin>): Promise<ScriptedOrigin> {
  return track(await startScriptedOrigin(...args));
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until the proxy's stats satisfy a predicate (bounded). */
async function statsUntil(p: TestProxy, pred: (s: ReturnType<TestProxy['stats']>) => boolean, what: string): Promise<void> {
  await within(5000, (async () => {
    while (!pred(p.stats())) await delay(10);
  })(), what);
}

describe('decoupling (SPEC §4.1, §4.6)', () => {
  it('200 client connections with Connection: close reach the origin over at most maxSockets connections', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ upstream: { maxSockets: 4 }, log: { access: false } }, 'error'));
    for (let i = 0; i < 200; i++) {
      const res = await viaProxy(proxy.port, `${o.url}/r${i}`, { headers: { Connection: 'close' } });
      expect(res.status).toBe(200);
      expect(res.headers.connection).toBe('close');
    }
    expect(o.seen).toHaveLength(200);
    expect(o.connections()).toBeLessThanOrEqual(4);
    const s = proxy.stats();
    expect(s.downstream.connectionsAccepted).toBe(200);
    expect(s.upstream.totals.socketsCreated).toBe(o.connections());
    expect(s.upstream.totals.reusedRequests).toBe(200 - o.connections());
    // Every origin request said keep-alive: the client's close never leaked upstream.
    expect(new Set(o.seen.map((r) => r.headers.connection))).toEqual(new Set(['keep-alive']));
  });

  it("an origin's Connection: close never closes the client: one client connection across 20 origin connections", async () => {
    const o = await scripted(() => okResponse('bye', 'Connection: close\r\n'));
    const proxy = track(await startProxy({ log: { access: false } }, 'error'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 20; i++) {
        const res = await viaProxy(proxy.port, `${o.origin}/c${i}`, { agent });
        expect(res.status).toBe(200);
        expect(res.headers.connection).toBe('keep-alive');
      }
    } finally {
      agent.destroy();
    }
    expect(o.connections()).toBe(20);
    const s = proxy.stats();
    expect(s.downstream.connectionsAccepted).toBe(1);
    await statsUntil(proxy, (x) => (x.upstream.totals.socketsClosed['origin-asked'] ?? 0) === 20, 'origin-asked closes');
  });
});

describe('keep-alive hints (SPEC §4.2)', () => {
  it.each([
    [1, 'never reuses a socket the origin will close within the safety margin'],
    [2, 'reuses within the hint and retires the socket before the origin closes it'],
  ])('Keep-Alive: timeout=%i — %s', async (hintSeconds) => {
    const o = await scripted(() => okResponse('ok', `Keep-Alive: timeout=${hintSeconds}\r\n`), { idleCloseMs: hintSeconds * 1000 });
    const proxy = track(await startProxy({ upstream: { keepAliveHintMargin: 1000 }, log: { access: false } }, 'error'));
    // Requests spread over 2.5 hint periods, with pauses that straddle the origin's idle deadline.
    const gaps = hintSeconds === 1 ? [0, 200, 600, 980, 1020, 30] : [0, 400, 950, 1990, 2010, 20];
    for (const gap of gaps) {
      await delay(gap);
      const res = await viaProxy(proxy.port, `${o.origin}/k`);
      expect(res.status).toBe(200);
    }
    const s = proxy.stats();
    expect(o.lateRequests).toEqual([]);
    expect(s.upstream.totals.staleRetries).toBe(0);
    expect(s.upstream.totals.errors).toEqual({});
    expect(s.upstream.totals.socketsClosed['keep-alive-hint'] ?? 0).toBeGreaterThan(0);
    if (hintSeconds === 1) expect(s.upstream.totals.reusedRequests).toBe(0);
    else expect(s.upstream.totals.reusedRequests).toBeGreaterThan(0);
  });
});

describe('stale-connection retry (SPEC §4.3)', () => {
  /** Origin answers the first request on a connection, then closes the connection when the next one arrives. */
  const closesOnSecond = (): Promise<ScriptedOrigin> =>
    scripted((req) => (req.connReq === 1 ? okResponse(`first on c${req.conn}`) : DESTROY));

  it('retries an idempotent bodyless GET once on a new connection', async () => {
    const o = await closesOnSecond();
    const proxy = track(await startProxy());
    expect((await viaProxy(proxy.port, `${o.origin}/a`)).status).toBe(200);
    const res = await viaProxy(proxy.port, `${o.origin}/b`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('first on c2');
    expect(o.connections()).toBe(2);
    expect(proxy.stats().upstream.totals.staleRetries).toBe(1);
    // The failed socket closed as an error; the retry's one-shot socket closes at its one-request limit.
    await statsUntil(proxy, (s) => s.upstream.totals.socketsActive === 0, 'both sockets closed');
    expect(proxy.stats().upstream.totals.socketsClosed).toEqual({ error: 1, 'max-requests': 1 });
    const entry = proxy.logs.filter((l) => l.event === 'request').at(-1)!;
    expect(entry.retried).toBe(true);
    expect(entry.status).toBe(200);
  });

  it.each(['POST', 'PATCH'])('never retries %s: the origin sees it at most once and the client gets 502', async (method) => {
    const o = await closesOnSecond();
    const proxy = track(await startProxy());
    expect((await viaProxy(proxy.port, `${o.origin}/a`)).status).toBe(200);
    const res = await viaProxy(proxy.port, `${o.origin}/b`, { method, body: 'payload', headers: { 'Content-Type': 'text/plain' } });
    expect(res.status).toBe(502);
    expect(o.requests.filter((r) => r.method === method)).toHaveLength(1);
    expect(o.connections()).toBe(1);
    expect(proxy.stats().upstream.totals.staleRetries).toBe(0);
  });

  it('never retries a PUT with a body', async () => {
    const o = await closesOnSecond();
    const proxy = track(await startProxy());
    await viaProxy(proxy.port, `${o.origin}/a`);
    const res = await viaProxy(proxy.port, `${o.origin}/b`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(502);
    expect(o.connections()).toBe(1);
  });

  it('retries at most once: a GET that fails on the fresh connection too gets 502', async () => {
    const o = await scripted((req) => (req.conn === 1 && req.connReq === 1 ? okResponse() : DESTROY));
    const proxy = track(await startProxy());
    await viaProxy(proxy.port, `${o.origin}/a`);
    const res = await viaProxy(proxy.port, `${o.origin}/b`);
    expect(res.status).toBe(502);
    expect(o.connections()).toBe(2);
    expect(proxy.stats().upstream.totals.staleRetries).toBe(1);
  });

  it('a failure on a NEW socket is not retried', async () => {
    const o = await scripted(() => DESTROY);
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `${o.origin}/a`);
    expect(res.status).toBe(502);
    expect(o.connections()).toBe(1);
  });
});

describe('limits and close reasons (SPEC §4.1)', () => {
  it('upstream.maxRequestsPerSocket retires a socket after N requests', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ upstream: { maxRequestsPerSocket: 3 } }));
    for (let i = 0; i < 7; i++) await viaProxy(proxy.port, `${o.url}/m${i}`);
    expect(o.connections()).toBe(3);
    await statsUntil(proxy, (s) => (s.upstream.totals.socketsClosed['max-requests'] ?? 0) === 2, 'max-requests closes');
    expect(proxy.stats().upstream.totals.requestsPerSocket.max).toBe(3);
  });

  it('upstream.maxRequestsPerSocket = 1 opens one connection per request', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ upstream: { maxRequestsPerSocket: 1 } }));
    for (let i = 0; i < 3; i++) await viaProxy(proxy.port, `${o.url}/m${i}`);
    expect(o.connections()).toBe(3);
    expect(proxy.stats().upstream.totals.reusedRequests).toBe(0);
  });

  it('upstream.idleTimeout retires idle sockets (reason idle-timeout)', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ upstream: { idleTimeout: 200 } }));
    await viaProxy(proxy.port, `${o.url}/i`);
    await statsUntil(proxy, (s) => (s.upstream.totals.socketsClosed['idle-timeout'] ?? 0) === 1, 'idle-timeout close');
    await viaProxy(proxy.port, `${o.url}/i2`);
    expect(o.connections()).toBe(2);
  });

  it('an origin closing an idle socket is recorded as origin-closed and the next request opens a new one', async () => {
    const o = await scripted(() => okResponse(), { idleCloseMs: 50 });
    const proxy = track(await startProxy());
    await viaProxy(proxy.port, `${o.origin}/a`);
    await statsUntil(proxy, (s) => (s.upstream.totals.socketsClosed['origin-closed'] ?? 0) === 1, 'origin-closed');
    expect((await viaProxy(proxy.port, `${o.origin}/b`)).status).toBe(200);
    expect(proxy.stats().upstream.totals.staleRetries).toBe(0);
  });

  it('upstream.maxOrigins evicts the least recently used idle pool', async () => {
    const [a, b, c] = [await origin(), await origin(), await origin()];
    const proxy = track(await startProxy({ upstream: { maxOrigins: 2 } }));
    await viaProxy(proxy.port, `${a.url}/1`);
    await viaProxy(proxy.port, `${b.url}/1`);
    await viaProxy(proxy.port, `${c.url}/1`);
    await statsUntil(proxy, (s) => (s.upstream.totals.socketsClosed.evicted ?? 0) === 1, 'eviction');
    expect(proxy.stats().upstream.origins[a.origin]!.socketsClosed.evicted).toBe(1);
    // b and c are still pooled: no new connections for them.
    await viaProxy(proxy.port, `${b.url}/2`);
    await viaProxy(proxy.port, `${c.url}/2`);
    expect(b.connections() + c.connections()).toBe(2);
  });

  it('each upstream socket has an id; the access log says which socket served a request and whether it was reused', async () => {
    const o = await origin();
    const proxy = track(await startProxy());
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 3; i++) await viaProxy(proxy.port, `${o.url}/l${i}`, { agent });
    } finally {
      agent.destroy();
    }
    const entries = proxy.logs.filter((l) => l.event === 'request');
    expect(entries.map((e) => [e.conn, e.connReq, e.upstream, e.socketReq, e.reused])).toEqual([
      [1, 1, 1, 1, false],
      [1, 2, 1, 2, true],
      [1, 3, 1, 3, true],
    ]);
  });
});

describe('connect phase', () => {
  it('upstream.connectTimeout covers the TLS handshake: a silent https origin → 504', async () => {
    // Accepts TCP, never answers the ClientHello.
    const accepted = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      accepted.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    defer(
      () =>
        new Promise<void>((r) => {
          for (const s of accepted) s.destroy();
          silent.close(() => r());
        }),
    );
    const port = (silent.address() as AddressInfo).port;
    const proxy = track(await startProxy({ upstream: { connectTimeout: 300 } }));
    const t0 = performance.now();
    const res = await viaProxy(proxy.port, `https://127.0.0.1:${port}/tls`);
    expect(res.status).toBe(504);
    expect(res.body.toString()).toContain('connect timed out');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it.skipIf(!existsSync('/usr/bin/ss'))('sets SO_KEEPALIVE on upstream sockets (seen as a keepalive timer by ss)', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ upstream: { tcpKeepAliveInitialDelay: 30_000 } }));
    await viaProxy(proxy.port, `${o.url}/k`);
    const { stdout } = await promisify(execFile)('/usr/bin/ss', ['-tno', 'state', 'established', `( dport = :${o.port} )`]);
    expect(stdout).toMatch(/timer:\(keepalive,/);
  });
});
