import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';

const { track } = useCleanup();

describe('forward proxy basics', () => {
  it('relays an absolute-form GET and adds Via both ways', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const res = await viaProxy(proxy.port, `${origin.url}/x?y=1`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello GET /x?y=1\n');
    expect(res.headers.via).toBe('1.1 hopwise');
    expect(origin.seen[0]!.url).toBe('/x?y=1');
    // Requests carry the instance id as a Via comment, for loop detection (SPEC §2.4).
    expect(origin.seen[0]!.headers.via).toBe(`1.1 hopwise (${proxy.proxy.instanceId})`);
    expect(origin.seen[0]!.headers.host).toBe(`127.0.0.1:${origin.port}`);
  });
});
