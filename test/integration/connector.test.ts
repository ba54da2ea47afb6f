/**
 * The one upstream connector (SPEC §4.8): the address actually dialled is vetted, whatever the name resolved to when
 * the request was first checked. (CONNECT dials the address its access check vetted, never the name again:
 * tunnel-access.test.ts; WebSocket upgrades: websocket-relay.test.ts.)
 */
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';

const { track } = useCleanup();

/** A lookup that answers `rebind.test` with `address` and counts its calls. */
function lookupTo(address: string): { lookup: LookupFunction; calls: () => number } {
  let calls = 0;
  const lookup = ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
    calls++;
    if (hostname !== 'rebind.test') {
      callback(Object.assign(new Error(`no such name ${hostname}`), { code: 'ENOTFOUND' }));
      return;
    }
    if ((options as { all?: boolean }).all === true) callback(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  }) as LookupFunction;
  return { lookup, calls: () => calls };
}

describe('connector: the address dialled is vetted', () => {
  it('a name that passes the pre-DNS check but resolves to a denied address on dial is refused (403), nothing sent', async () => {
    const origin = track(await startOrigin());
    const { lookup, calls } = lookupTo('127.0.0.1');
    // The name is allowed by its rules; the address it resolves to on dial is not.
    const proxy = track(await startProxy({ access: { destinations: [{ action: 'deny', cidr: '127.0.0.1/32' }] } }, 'debug', { lookup }));
    const res = await viaProxy(proxy.port, `http://rebind.test:${origin.port}/x`);
    expect(res.status).toBe(403);
    expect(res.body.toString()).toContain('127.0.0.1');
    expect(calls()).toBeGreaterThan(0);
    expect(origin.seen).toHaveLength(0);
  });

  it('the same name resolving to an allowed address on dial is forwarded', async () => {
    const origin = track(await startOrigin());
    const { lookup } = lookupTo('127.0.0.1');
    const proxy = track(await startProxy({ access: { destinations: [{ action: 'deny', cidr: '10.0.0.0/8' }] } }, 'debug', { lookup }));
    const res = await viaProxy(proxy.port, `http://rebind.test:${origin.port}/x`);
    expect(res.status).toBe(200);
    expect(origin.seen).toHaveLength(1);
    expect(origin.seen[0]!.headers.host).toBe(`rebind.test:${origin.port}`);
  });
});
