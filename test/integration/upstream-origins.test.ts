/**
 * `upstream.origins` over real sockets: one origin gets its own pool settings (a legacy next hop that must not see a
 * persistent connection gets `maxRequestsPerSocket: 1`; a short `idleTimeout`; a smaller `maxSockets`), while every
 * other origin keeps the upstream defaults and keeps pooling (SPEC §4.1).
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/admin.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';

const { track, defer } = useCleanup();

async function origin(handler?: Parameters<typeof startOrigin>[0]): Promise<TestOrigin> {
  return track(await startOrigin(handler));
}

describe('upstream.origins (per-origin pool settings)', () => {
  it('an origin listed with maxRequestsPerSocket: 1 gets a new connection per request; the others keep pooling', async () => {
    const legacy = await origin();
    const other = await origin();
    // A trailing slash and the default spelling still name the same pool as the request URIs.
    const proxy = track(await startProxy({ upstream: { origins: [{ origin: `${legacy.url}/`, maxRequestsPerSocket: 1 }] }, log: { access: false } }, 'error'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => agent.destroy());
    for (let i = 0; i < 5; i++) {
      expect((await viaProxy(proxy.port, `${legacy.url}/l${i}`, { agent })).status).toBe(200);
      expect((await viaProxy(proxy.port, `${other.url}/o${i}`, { agent })).status).toBe(200);
    }
    expect(legacy.seen).toHaveLength(5);
    expect(legacy.connections()).toBe(5);
    expect(other.connections()).toBe(1);
    // The legacy hop is told each connection ends with its request; the others are asked to keep it.
    expect(new Set(legacy.seen.map((r) => r.headers.connection))).toEqual(new Set(['close']));
    expect(new Set(other.seen.map((r) => r.headers.connection))).toEqual(new Set(['keep-alive']));
    // One client connection carried all ten requests: the per-origin setting never reaches the client side.
    const s = await eventually(
      () => proxy.stats(),
      (v) => (v.upstream.origins[legacy.origin]?.socketsClosed['max-requests'] ?? 0) === 5,
    );
    expect(s.downstream.connectionsAccepted).toBe(1);
    expect(s.upstream.origins[legacy.origin]?.socketsCreated).toBe(5);
    expect(s.upstream.origins[other.origin]?.socketsCreated).toBe(1);
    expect(s.upstream.origins[other.origin]?.reusedRequests).toBe(4);
  });

  it("an origin's own idleTimeout retires its idle socket while the default keeps another origin's open", async () => {
    const quick = await origin();
    const other = await origin();
    const proxy = track(
      await startProxy({ upstream: { idleTimeout: 60_000, origins: [{ origin: quick.url, idleTimeout: 50 }] }, log: { access: false } }, 'error'),
    );
    expect((await viaProxy(proxy.port, `${quick.url}/q`)).status).toBe(200);
    expect((await viaProxy(proxy.port, `${other.url}/o`)).status).toBe(200);
    const s = await eventually(
      () => proxy.stats(),
      (v) => (v.upstream.origins[quick.origin]?.socketsClosed['idle-timeout'] ?? 0) === 1,
    );
    expect(s.upstream.origins[other.origin]?.socketsActive).toBe(1);
    expect(s.upstream.origins[other.origin]?.socketsClosed).toEqual({});
  });

  it("an origin's own maxSockets bounds its concurrent connections; another origin uses the default", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
      void gate.then(() => res.end('done'));
    };
    const narrow = await origin(slow);
    const wide = await origin(slow);
    const proxy = track(await startProxy({ upstream: { maxSockets: 8, origins: [{ origin: narrow.url, maxSockets: 2 }] }, log: { access: false } }, 'error'));
    const inFlight = [
      ...Array.from({ length: 4 }, (_, i) => viaProxy(proxy.port, `${narrow.url}/n${i}`)),
      ...Array.from({ length: 4 }, (_, i) => viaProxy(proxy.port, `${wide.url}/w${i}`)),
    ];
    // Four requests reach the wide origin at once; only two reach the narrow one while the gate is shut.
    await eventually(
      () => wide.seen.length,
      (n) => n === 4,
    );
    await eventually(
      () => narrow.seen.length,
      (n) => n === 2,
    );
    expect(narrow.connections()).toBe(2);
    release();
    const answers = await Promise.all(inFlight);
    expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(narrow.seen).toHaveLength(4);
    expect(narrow.connections()).toBe(2);
    expect(wide.connections()).toBe(4);
  });
});
