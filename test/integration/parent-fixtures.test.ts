/**
 * The parents the chaining tests use (issue 13): our counting parent and a real Squid, exercised directly (no hopwise)
 * so a failure in a chaining test is never the fixture's.
 */
import { describe, expect, it } from 'vitest';
import { basicAuthorization } from '../../src/policy/parent.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { PARENT_CHALLENGE, startCountingParent } from '../helpers/parent.js';
import { viaProxy } from '../helpers/proxy.js';
import { squidAvailable, startSquid } from '../helpers/squid.js';
import { connectVia } from '../helpers/tunnel.js';

describe('counting parent', () => {
  const { track, defer } = useCleanup();

  it('forwards absolute-form requests and records the line, credentials and connection', async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    const auth = basicAuthorization('a', 'b');
    const r = await viaProxy(parent.port, `${origin.url}/x`, { headers: { 'Proxy-Authorization': auth } });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('hello GET /x\n');
    expect(parent.requests).toEqual([expect.objectContaining({ line: `GET ${origin.url}/x HTTP/1.1`, proxyAuthorization: auth, connection: 0 })]);
    expect(parent.connections()).toBe(1);
    expect(origin.seen[0]?.headers['proxy-authorization']).toBeUndefined();
  });

  it('demands credentials with 407, and tunnels CONNECT once given them', async () => {
    const origin = track(await startOrigin());
    const auth = basicAuthorization('u', 'p');
    const parent = track(await startCountingParent({ requiredAuth: auth }));
    const denied = await viaProxy(parent.port, `${origin.url}/`);
    expect(denied.status).toBe(407);
    expect(denied.headers['proxy-authenticate']).toBe(PARENT_CHALLENGE);
    const tunnel = await connectVia(parent.port, `127.0.0.1:${origin.port}`, { extra: `Proxy-Authorization: ${auth}\r\n` });
    defer(() => tunnel.socket.destroy());
    expect(tunnel.status).toBe(200);
  });
});

describe.skipIf(!squidAvailable())(`Squid fixture${squidAvailable() ? '' : ' (skipped: /usr/sbin/squid is missing; apt-get install squid)'}`, () => {
  const { track } = useCleanup();

  it('forwards through a real Squid, and requires credentials when configured', { timeout: 30_000 }, async () => {
    const origin = track(await startOrigin());
    const open = track(await startSquid());
    expect((await viaProxy(open.port, `${origin.url}/open`)).status).toBe(200);
    const locked = track(await startSquid({ user: { name: 'alice', password: 'wonder land' } }));
    const denied = await viaProxy(locked.port, `${origin.url}/locked`);
    expect(denied.status).toBe(407);
    const ok = await viaProxy(locked.port, `${origin.url}/locked`, { headers: { 'Proxy-Authorization': basicAuthorization('alice', 'wonder land') } });
    expect(ok.status).toBe(200);
    expect(origin.seen.map((s) => s.url)).toEqual(['/open', '/locked']);
  });
});
