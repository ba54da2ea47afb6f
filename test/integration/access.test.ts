/**
 * Issue 7 access control over real loopback sockets: access.clients at accept time, access.destinations rules, the
 * built-in protections when listening beyond loopback, and the connect-time check on the address actually reached.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, eventually, header, startRawOrigin } from '../helpers/raw.js';

const { track, defer } = useCleanup();

async function connect(port: number): Promise<RawClient> {
  return track(await RawClient.connect(port));
}

async function get(port: number, target: string, extra = ''): Promise<Awaited<ReturnType<RawClient['readResponse']>>> {
  const c = await connect(port);
  c.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`);
  return c.readResponse();
}

function denials(p: TestProxy): Record<string, unknown>[] {
  return p.logs.filter((l) => l.event === 'access-denied');
}

describe('access.clients (checked when the connection is accepted)', () => {
  it('a client outside access.clients gets a raw 403 and a close, logged; nothing goes upstream', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ access: { clients: ['10.0.0.0/8'] } }));
    const client = await connect(proxy.port);
    client.write(`GET ${origin.url}/x HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(res.status).toBe(403);
    expect(res.body.toString()).toMatch(/client 127\.0\.0\.1 is not allowed by access\.clients/);
    expect(header(res, 'connection')).toEqual(['close']);
    await client.waitClosed();
    expect(origin.connections()).toBe(0);
    expect(denials(proxy)).toEqual([expect.objectContaining({ leg: 'downstream', kind: 'client', remote: '127.0.0.1', conn: 1 })]);
    await eventually(() => proxy.logs.some((l) => l.event === 'downstream-close' && l.reason === 'access-denied'), 3000, 'the close log');
  });

  it('an IPv4 client of a dual-stack listener (::ffff:127.0.0.1) matches the IPv4 rule', async () => {
    const origin = track(await startOrigin());
    // Listening on :: is beyond loopback: the destination needs an explicit address-level allow (see below).
    const proxy = track(await startProxy({ listen: { host: '::' }, access: { clients: ['127.0.0.0/8'], destinations: [{ action: 'allow', cidr: '127.0.0.0/8' }] } }));
    const res = await get(proxy.port, `${origin.url}/x`);
    expect(res.status).toBe(200);
    expect(proxy.logs.find((l) => l.event === 'downstream-open')?.remote).toBe('::ffff:127.0.0.1');
  });
});

describe('access.destinations rules', () => {
  it('a host-glob deny is refused before any DNS or connect, with the rule in the body and the log', async () => {
    const proxy = track(await startProxy({ access: { destinations: [{ action: 'deny', host: '*.internal' }] } }));
    const res = await get(proxy.port, 'http://db.corp.internal/secrets');
    expect(res.status).toBe(403);
    expect(res.body.toString()).toContain('destination db.corp.internal:80 denied by access.destinations[0] (deny *.internal)');
    expect(denials(proxy)).toEqual([expect.objectContaining({ kind: 'destination', conn: 1, remote: '127.0.0.1' })]);
    const request = proxy.logs.find((l) => l.event === 'request');
    expect(request).toMatchObject({ status: 403, error: 'FORBIDDEN' });
  });

  it('an allow-list refuses what it does not name (ports included) and keeps the connection alive', async () => {
    const origin = track(await startOrigin());
    const raw = track(await startRawOrigin((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')));
    const proxy = track(await startProxy({ access: { destinations: [{ action: 'allow', host: '127.0.0.1', ports: [origin.port] }] } }));
    const c = await connect(proxy.port);
    c.write(`GET ${origin.url}/ok HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await c.readResponse()).status).toBe(200);
    c.write(`GET ${raw.origin}/other-port HTTP/1.1\r\nHost: x\r\n\r\n`);
    const refused = await c.readResponse();
    expect(refused.status).toBe(403);
    expect(refused.body.toString()).toContain('no access.destinations allow rule matched');
    c.write(`GET ${origin.url}/again HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await c.readResponse()).status).toBe(200);
    expect(raw.sockets).toHaveLength(0);
  });

  it.each(['127.1', '2130706433'])('a CIDR rule holds for the name %s, checked on the address actually connected to', async (name) => {
    const raw = track(await startRawOrigin((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')));
    const proxy = track(await startProxy({ access: { destinations: [{ action: 'deny', cidr: '127.0.0.0/8' }] } }));
    const res = await get(proxy.port, `http://${name}:${raw.port}/x`);
    expect(res.status).toBe(403);
    expect(res.body.toString()).toContain('denied by access.destinations[0] (deny 127.0.0.0/8)');
    // The TCP connect happened (that is how the address is known) but not a byte of the request was sent.
    expect(raw.received.every((b) => b.length === 0)).toBe(true);
    expect(denials(proxy)).toEqual([expect.objectContaining({ leg: 'upstream', kind: 'destination' })]);
  });
});

describe('built-in protections when listening beyond loopback', () => {
  it.each([
    { target: 'http://169.254.169.254/latest/meta-data/', why: 'a cloud metadata address' },
    { target: 'http://[fe80::1]/', why: 'a link-local address' },
    { target: 'http://[::ffff:169.254.170.2]/', why: 'a link-local address' },
    { target: 'http://0.0.0.0:9/', why: "an address of the proxy's own host" },
  ])('$target is refused at once: $why', async ({ target, why }) => {
    const proxy = track(await startProxy({ listen: { host: '0.0.0.0' } }));
    const t0 = performance.now();
    const res = await get(proxy.port, target);
    expect(res.status).toBe(403);
    expect(res.body.toString()).toContain(why);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('loopback services are off limits by literal and by name, unless an address-level rule opens them', async () => {
    const origin = track(await startOrigin());
    let proxy = await startProxy({ listen: { host: '0.0.0.0' } });
    defer(() => proxy.close());
    for (const host of ['127.0.0.1', 'localhost', '127.1']) {
      const res = await get(proxy.port, `http://${host}:${origin.port}/x`);
      expect(res.status).toBe(403);
      expect(res.body.toString()).toContain("an address of the proxy's own host");
    }
    expect(origin.seen).toHaveLength(0);
    await proxy.close();
    // A host-glob allow does not open a protected address; a cidr allow does.
    proxy = await startProxy({ listen: { host: '0.0.0.0' }, access: { destinations: [{ action: 'allow', host: '*' }] } });
    expect((await get(proxy.port, `http://127.0.0.1:${origin.port}/x`)).status).toBe(403);
    await proxy.close();
    proxy = await startProxy({ listen: { host: '0.0.0.0' }, access: { destinations: [{ action: 'allow', cidr: '127.0.0.0/8', ports: [origin.port] }] } });
    expect((await get(proxy.port, `http://127.0.0.1:${origin.port}/x`)).status).toBe(200);
  });

  it('bound to loopback (the dev-laptop default), loopback destinations are the point and pass', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    expect((await get(proxy.port, `http://localhost:${origin.port}/x`)).status).toBe(200);
  });

  it('gateway mode does not check its operator-configured target', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ mode: 'gateway', target: origin.url, listen: { host: '0.0.0.0' } }));
    expect((await get(proxy.port, '/x')).status).toBe(200);
  });
});
