import type { AddressInfo } from 'node:net';
import { createAdminServer } from '../../src/observability/admin.js';
import { FlowRecord, type FlowKind } from '../../src/observability/flow-record.js';
import type { FlowRing } from '../../src/observability/flows.js';
import { Stats } from '../../src/observability/stats.js';
import { within } from './raw.js';

/** Resolves once `ring` holds `n` flows (the ring's own event; bounded). */
export function flowsStored(ring: FlowRing, n: number): Promise<void> {
  if (ring.snapshot().length >= n) return Promise.resolve();
  return within(
    5000,
    new Promise<void>((resolve) => {
      const off = ring.onFlow(() => {
        if (ring.snapshot().length >= n) {
          off();
          resolve();
        }
      });
    }),
    `${n} flows`,
  );
}

/** A complete flow record as an exchange would fill it (for ring, view, HAR, admin and dashboard tests). */
export function sampleFlow(over: Partial<Omit<FlowRecord, 'kind' | 't0' | 'startedAt'>> = {}, kind: FlowKind = 'http', t0 = 1000): FlowRecord {
  const f = new FlowRecord(kind, t0);
  Object.assign(f, {
    conn: 1,
    remote: '127.0.0.1',
    httpVersion: '1.1',
    connReq: 1,
    method: 'GET',
    target: 'http://origin.test/a?x=1',
    forwardedTarget: '/a?x=1',
    requestHeaders: ['Host', 'origin.test', 'Connection', 'X-Foo', 'X-Foo', '1', 'Cookie', 'sid=secret', 'Accept', '*/*'],
    forwardedHeaders: ['host', 'origin.test', 'Cookie', 'sid=secret', 'Accept', '*/*', 'Via', '1.1 hopwise'],
    origin: 'http://origin.test',
    socket: 7,
    reused: false,
    socketReq: 1,
    status: 200,
    responseHeaders: ['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'a=b'],
    relayedHeaders: ['Content-Type', 'text/plain', 'Set-Cookie', 'a=b', 'Via', '1.1 hopwise'],
    bytesDown: 5,
    tQueued: t0 + 1,
    tConnect: t0 + 2,
    tDns: t0 + 3,
    tTcp: t0 + 4,
    tSocket: t0 + 4,
    tSent: t0 + 5,
    tHead: t0 + 15,
    tEnd: t0 + 20,
    ...over,
  });
  return f;
}

/**
 * An admin listener serving `ring` (and empty statistics) on an ephemeral loopback port, closed by `defer` (the test's
 * `useCleanup().defer`). Resolves with its base URL.
 */
export async function flowsAdmin(ring: FlowRing, defer: (fn: () => unknown) => void): Promise<string> {
  const stats = new Stats();
  const server = createAdminServer({ stats: () => stats.snapshot(), flows: { ring, redact: true, version: 'test' } });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  defer(() => server.closeAllConnections());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
