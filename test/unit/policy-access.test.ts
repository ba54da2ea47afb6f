import { describe, expect, it } from 'vitest';
import { CidrList, DestinationRules, globMatches, parseIp, protectedReason } from '../../src/policy/index.js';
import type { DestinationRule } from '../../src/policy/index.js';

describe('globMatches', () => {
  it.each([
    { glob: '*.internal', host: 'db.internal', match: true },
    { glob: '*.internal', host: 'a.b.internal', match: true }, // * spans dots
    { glob: '*.internal', host: 'internal', match: false },
    { glob: '*.internal', host: 'db.internal.example.com', match: false },
    { glob: 'EXAMPLE.com', host: 'example.COM', match: true }, // case-insensitive
    { glob: 'api-?.example.com', host: 'api-1.example.com', match: true },
    { glob: 'api-?.example.com', host: 'api-12.example.com', match: false },
    { glob: '*', host: 'anything', match: true },
    { glob: '*', host: '', match: true },
    { glob: 'a*b*c', host: 'aXXbYYc', match: true },
    { glob: 'a*b*c', host: 'aXXbYY', match: false },
    { glob: '*.*.example.com', host: 'x.example.com', match: false },
    { glob: '10.0.*', host: '10.0.3.4', match: true },
    { glob: '', host: 'a', match: false },
  ])('$glob ~ $host: $match', ({ glob, host, match }) => {
    expect(globMatches(glob, host)).toBe(match);
  });
});

describe('DestinationRules.decide', () => {
  const ip = (a: string) => parseIp(a)!;
  const rules: DestinationRule[] = [
    { action: 'deny', host: '*.internal' },
    { action: 'allow', cidr: '10.1.0.0/16', ports: [80, 443] },
    { action: 'deny', cidr: '10.0.0.0/8' },
    { action: 'allow', host: '*.example.com' },
  ];
  const list = new DestinationRules(rules);

  it.each([
    { name: 'host glob deny', dest: { hostname: 'db.internal', port: 80 }, out: { action: 'deny', rule: 0 } },
    { name: 'cidr allow with port', dest: { hostname: 'svc', port: 443, address: ip('10.1.2.3') }, out: { action: 'allow', rule: 1, byCidr: true } },
    { name: 'cidr allow, wrong port falls through to the deny', dest: { hostname: 'svc', port: 22, address: ip('10.1.2.3') }, out: { action: 'deny', rule: 2 } },
    { name: 'address unknown: the cidr rule could match', dest: { hostname: 'svc', port: 80 }, out: { action: 'undecided', rule: 1 } },
    { name: 'address unknown, port excludes rule 1', dest: { hostname: 'svc', port: 22 }, out: { action: 'undecided', rule: 2 } },
    { name: 'host allow', dest: { hostname: 'www.example.com', port: 80, address: ip('93.184.215.14') }, out: { action: 'allow', rule: 3 } },
    { name: 'allow-list default is deny', dest: { hostname: 'other.org', port: 80, address: ip('1.1.1.1') }, out: { action: 'deny', rule: -1 } },
  ])('$name', ({ dest, out }) => {
    expect(list.decide(dest)).toMatchObject(out);
  });

  it('a deny-only list allows by default; an empty list allows everything', () => {
    expect(new DestinationRules([{ action: 'deny', host: 'x' }]).decide({ hostname: 'y', port: 80 })).toMatchObject({ action: 'allow', rule: -1 });
    expect(new DestinationRules([]).decide({ hostname: 'y', port: 1 })).toMatchObject({ action: 'allow', rule: -1 });
  });

  it('a rule without criteria matches everything (a catch-all)', () => {
    const catchAll = new DestinationRules([{ action: 'allow', ports: [443] }, { action: 'deny' }]);
    expect(catchAll.decide({ hostname: 'a', port: 443 })).toMatchObject({ action: 'allow', rule: 0 });
    expect(catchAll.decide({ hostname: 'a', port: 80 })).toMatchObject({ action: 'deny', rule: 1 });
  });

  it('describes the deciding rule for the 403 body', () => {
    expect(list.describe(0)).toBe('access.destinations[0] (deny *.internal)');
    expect(list.describe(1)).toBe('access.destinations[1] (allow 10.1.0.0/16 ports 80,443)');
    expect(list.describe(-1)).toBe('no access.destinations allow rule matched');
  });

  it('throws on a malformed cidr', () => {
    expect(() => new DestinationRules([{ action: 'deny', cidr: '10.0.0.0/40' }])).toThrow(/CIDR/);
  });
});

describe('protectedReason', () => {
  const own = new CidrList(['192.168.7.20', 'fd12::20']);
  it.each([
    { address: '169.254.169.254', why: 'a cloud metadata address' },
    { address: '::ffff:169.254.169.254', why: 'a cloud metadata address' },
    { address: 'fd00:ec2::254', why: 'a cloud metadata address' },
    { address: '100.100.100.200', why: 'a cloud metadata address' },
    { address: '169.254.1.1', why: 'a link-local address' },
    { address: 'fe80::1', why: 'a link-local address' },
    { address: '127.0.0.1', why: "an address of the proxy's own host" },
    { address: '127.9.9.9', why: "an address of the proxy's own host" },
    { address: '::1', why: "an address of the proxy's own host" },
    { address: '0.0.0.0', why: "an address of the proxy's own host" },
    { address: '::', why: "an address of the proxy's own host" },
    { address: '192.168.7.20', why: "an address of the proxy's own host" },
    { address: 'fd12::20', why: "an address of the proxy's own host" },
    { address: '192.168.7.21', why: undefined },
    { address: '10.0.0.1', why: undefined },
    { address: '2001:db8::1', why: undefined },
  ])('$address → $why', ({ address, why }) => {
    expect(protectedReason(parseIp(address)!, own)).toBe(why);
  });
});
