/**
 * The access guard's decisions without sockets (DNS injected): the CONNECT entry point `admitTunnel` that src/tunnel
 * calls, loop detection by address, and what is logged.
 */
import { describe, expect, it } from 'vitest';
import { DownstreamConnection } from '../../src/downstream/connections.js';
import { AccessGuard, newInstanceId, type GuardOptions } from '../../src/access/guard.js';
import { hashPassword } from '../../src/access/password.js';
import { Telemetry, type TelemetryEvent } from '../../src/observability/events.js';
import { parseIp } from '../../src/policy/index.js';

const DNS: Record<string, string[]> = {
  'public.example': ['93.184.215.14'],
  'rebind.example': ['93.184.215.14', '169.254.169.254'],
  'v6.example': ['2001:db8::1'],
  'self.example': ['127.0.0.1'],
};

function guard(over: Partial<GuardOptions> = {}, access: Partial<GuardOptions['access']> = {}): { g: AccessGuard; events: TelemetryEvent[] } {
  const telemetry = new Telemetry();
  const events: TelemetryEvent[] = [];
  telemetry.on((e) => events.push(e));
  const g = new AccessGuard({
    access: { clients: ['127.0.0.0/8'], destinations: [], users: [], realm: 'hopwise', ...access },
    telemetry,
    pseudonym: 'hopwise',
    instanceId: 'hw-abc123',
    checkDestinations: true,
    resolveAll: (h) => (DNS[h] === undefined ? Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' })) : Promise.resolve(DNS[h])),
    ...over,
  });
  return { g, events };
}

const conn = new DownstreamConnection(7, '127.0.0.1');

describe('admitTunnel (the CONNECT hook)', () => {
  it.each([
    { name: 'a public name, loopback-bound', bind: '127.0.0.1', host: 'public.example', port: 443, out: { ok: true, address: '93.184.215.14' } },
    { name: 'an IP literal connects to itself', bind: '127.0.0.1', host: '10.0.0.5', port: 22, out: { ok: true, address: '10.0.0.5' } },
    { name: 'localhost, loopback-bound', bind: '127.0.0.1', host: 'localhost', port: 5432, out: { ok: true, address: '127.0.0.1' } },
    { name: 'IPv6 answer', bind: '0.0.0.0', host: 'v6.example', port: 443, out: { ok: true, address: '2001:db8::1' } },
    { name: 'one protected answer among several, exposed', bind: '0.0.0.0', host: 'rebind.example', port: 443, out: { ok: false, status: 403 } },
    { name: 'a name for loopback, exposed', bind: '0.0.0.0', host: 'self.example', port: 5432, out: { ok: false, status: 403 } },
    { name: 'metadata literal, exposed', bind: '0.0.0.0', host: '169.254.169.254', port: 80, out: { ok: false, status: 403 } },
    { name: 'our own port via a name', bind: '127.0.0.1', host: 'self.example', port: 3128, out: { ok: false, status: 508 } },
    { name: 'our own port via a literal', bind: '127.0.0.1', host: '127.0.0.1', port: 3128, out: { ok: false, status: 508 } },
    { name: 'an unresolvable name', bind: '127.0.0.1', host: 'nx.example', port: 443, out: { ok: false, status: 502 } },
  ])('$name', async ({ bind, host, port, out }) => {
    const { g } = guard();
    g.listening([{ host: bind, port: 3128 }]);
    const v = await g.admitTunnel([], host, port, conn);
    if (out.ok) expect(v).toEqual(out);
    else expect(v.ok ? 0 : v.error.status).toBe(out.status);
  });

  it('destination rules apply to tunnels, by name and by every resolved address', async () => {
    const { g, events } = guard({}, { destinations: [{ action: 'deny', cidr: '169.254.0.0/16' }, { action: 'allow', ports: [443] }] });
    g.listening([{ host: '127.0.0.1', port: 3128 }]);
    expect(await g.admitTunnel([], 'public.example', 443, conn)).toEqual({ ok: true, address: '93.184.215.14' });
    const denied = await g.admitTunnel([], 'rebind.example', 443, conn);
    expect(denied.ok ? '' : denied.error.message).toContain('denied by access.destinations[0] (deny 169.254.0.0/16)');
    const port = await g.admitTunnel([], 'public.example', 22, conn);
    expect(port.ok ? '' : port.error.message).toContain('no access.destinations allow rule matched');
    expect(events.filter((e) => e.type === 'access.denied')).toHaveLength(2);
  });

  it('asks for credentials first (407 with the challenge), then checks the loop, then the destination', async () => {
    const passwordHash = await hashPassword('pw', { N: 1024, r: 8, p: 1 });
    const { g, events } = guard({}, { users: [{ username: 'u', passwordHash }], realm: 'stage' });
    g.listening([{ host: '127.0.0.1', port: 3128 }]);
    const none = await g.admitTunnel([], '169.254.169.254', 80, conn);
    expect(none.ok ? undefined : [none.error.status, ...none.headers]).toEqual([407, 'Proxy-Authenticate', 'Basic realm="stage", charset="UTF-8"']);
    const creds = ['Proxy-Authorization', `Basic ${Buffer.from('u:pw').toString('base64')}`];
    const loop = await g.admitTunnel([...creds, 'Via', '1.1 hopwise (hw-abc123)'], 'public.example', 443, conn);
    expect(loop.ok ? 0 : loop.error.status).toBe(508);
    expect(await g.admitTunnel(creds, 'public.example', 443, conn)).toEqual({ ok: true, address: '93.184.215.14' });
    const kinds = events.flatMap((e) => (e.type === 'access.denied' ? [e.kind] : []));
    expect(kinds).toEqual(['auth', 'loop']);
    // Nothing secret in what is logged.
    expect(JSON.stringify(events)).not.toMatch(/dTpwdw|u:pw/);
  });

  it('a DNS failure is a 502, not an access denial', async () => {
    const { g, events } = guard();
    g.listening([{ host: '127.0.0.1', port: 3128 }]);
    const v = await g.admitTunnel([], 'nx.example', 443, conn);
    expect(v.ok ? '' : v.error.code).toBe('UPSTREAM_DNS');
    expect(events).toHaveLength(0);
  });
});

describe('isSelf (SPEC §2.4: the proxy’s own listening address)', () => {
  it.each([
    { bind: '127.0.0.1', address: '127.0.0.1', port: 3128, self: true },
    { bind: '127.0.0.1', address: '::ffff:127.0.0.1', port: 3128, self: true },
    { bind: '127.0.0.1', address: '0.0.0.0', port: 3128, self: true },
    { bind: '127.0.0.1', address: '127.0.0.1', port: 3129, self: false },
    { bind: '127.0.0.1', address: '127.0.0.2', port: 3128, self: false },
    { bind: '0.0.0.0', address: '127.0.0.2', port: 3128, self: true },
    { bind: '::', address: '::1', port: 3128, self: true },
    { bind: '::1', address: '::', port: 3128, self: true },
    { bind: '::1', address: '127.0.0.1', port: 3128, self: false },
  ])('bound $bind, $address:$port → $self', ({ bind, address, port, self }) => {
    const { g } = guard();
    g.listening([{ host: bind, port: 3128 }]);
    expect(g.isSelf(parseIp(address)!, port)).toBe(self);
  });
});

describe('checkClient', () => {
  it.each([
    { remote: '127.0.0.1', ok: true },
    { remote: '::ffff:127.0.0.1', ok: true },
    { remote: '::1', ok: false }, // only 127.0.0.0/8 configured in this table
    { remote: '10.0.0.1', ok: false },
    { remote: undefined, ok: false },
  ])('$remote → $ok', ({ remote, ok }) => {
    expect(guard().g.checkClient(remote).ok).toBe(ok);
  });

  it('the same answers when asked again and again (the allowed-address memo, issue 8)', () => {
    const { g } = guard();
    for (let round = 0; round < 3; round++) {
      expect(g.checkClient('127.0.0.1').ok).toBe(true);
      expect(g.checkClient('10.0.0.1').ok).toBe(false);
    }
    // Beyond the memo's bound it forgets and starts again, with the same answers.
    for (let i = 0; i < 5000; i++) expect(g.checkClient(`127.0.${i >> 8}.${i & 255}`).ok).toBe(true);
    expect(g.checkClient('127.0.0.1').ok).toBe(true);
    expect(g.checkClient('10.0.0.1').ok).toBe(false);
  });
});

describe('precheckDestination (the pre-DNS check of every plain-HTTP request)', () => {
  it('a destination allowed before listen() becomes a loop once it is the bound listener (the memo is cleared)', () => {
    const { g } = guard();
    expect(g.precheckDestination('127.0.0.1', 3128).ok).toBe(true);
    expect(g.precheckDestination('127.0.0.1', 3128).ok).toBe(true);
    g.listening([{ host: '127.0.0.1', port: 3128 }]);
    const v = g.precheckDestination('127.0.0.1', 3128);
    expect(v.ok ? 0 : v.error.status).toBe(508);
    expect(g.precheckDestination('127.0.0.1', 3129).ok).toBe(true);
  });

  it('a denial is decided afresh each time, and never memoised as allowed', () => {
    const { g } = guard({}, { destinations: [{ action: 'deny', ports: [25] }] });
    g.listening([{ host: '127.0.0.1', port: 3128 }]);
    for (let round = 0; round < 3; round++) {
      const v = g.precheckDestination('mail.example', 25);
      expect(v.ok ? 0 : v.error.status).toBe(403);
      expect(g.precheckDestination('mail.example', 587).ok).toBe(true);
    }
  });
});

it('newInstanceId is short, prefixed and random', () => {
  const ids = new Set(Array.from({ length: 50 }, () => newInstanceId()));
  expect(ids.size).toBe(50);
  for (const id of ids) expect(id).toMatch(/^hw-[0-9a-f]{6}$/);
});
