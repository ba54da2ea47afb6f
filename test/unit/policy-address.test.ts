import { describe, expect, it } from 'vitest';
import { CidrList, cidrContains, formatIp, parseCidr, parseIp } from '../../src/policy/index.js';

describe('parseIp', () => {
  it.each([
    { text: '10.1.2.3', out: '10.1.2.3' },
    { text: '0.0.0.0', out: '0.0.0.0' },
    { text: '255.255.255.255', out: '255.255.255.255' },
    { text: '::1', out: '0:0:0:0:0:0:0:1' },
    { text: '[::1]', out: '0:0:0:0:0:0:0:1' },
    { text: '::', out: '0:0:0:0:0:0:0:0' },
    { text: 'fe80::1%eth0', out: 'fe80:0:0:0:0:0:0:1' },
    { text: '2001:db8::8a2e:370:7334', out: '2001:db8:0:0:0:8a2e:370:7334' },
    { text: '2001:DB8:0:0:0:0:0:1', out: '2001:db8:0:0:0:0:0:1' },
    // IPv4-mapped IPv6 (a dual-stack listener's view of an IPv4 client) normalises to IPv4.
    { text: '::ffff:127.0.0.1', out: '127.0.0.1' },
    { text: '::ffff:7f00:1', out: '127.0.0.1' },
    { text: '[::ffff:169.254.169.254]', out: '169.254.169.254' },
    { text: '0:0:0:0:0:ffff:a9fe:a9fe', out: '169.254.169.254' },
    { text: '64:ff9b::a9fe:a9fe', out: '64:ff9b:0:0:0:0:a9fe:a9fe' },
  ])('$text → $out', ({ text, out }) => {
    const ip = parseIp(text);
    expect(ip).not.toBeNull();
    expect(formatIp(ip!)).toBe(out);
  });

  it.each([
    'localhost', 'example.com', '', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.04', '0x7f.0.0.1', '127.1',
    '2130706433', '1.2.3.4 ', ':::1', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '::ffff:1.2.3', '[::1',
  ])('%j is not an IP literal', (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe('parseCidr and cidrContains', () => {
  it.each([
    { cidr: '10.0.0.0/8', ip: '10.255.1.2', inside: true },
    { cidr: '10.0.0.0/8', ip: '11.0.0.1', inside: false },
    { cidr: '10.1.2.3/8', ip: '10.9.9.9', inside: true }, // host bits cleared
    { cidr: '192.168.1.0/25', ip: '192.168.1.127', inside: true },
    { cidr: '192.168.1.0/25', ip: '192.168.1.128', inside: false },
    { cidr: '0.0.0.0/0', ip: '8.8.8.8', inside: true },
    { cidr: '0.0.0.0/0', ip: '::1', inside: false }, // families never mix
    { cidr: '127.0.0.1', ip: '127.0.0.1', inside: true }, // bare address = /32
    { cidr: '127.0.0.1', ip: '127.0.0.2', inside: false },
    { cidr: '127.0.0.0/8', ip: '::ffff:127.0.0.9', inside: true }, // mapped client address
    { cidr: '::ffff:10.0.0.0/104', ip: '10.3.4.5', inside: true }, // mapped block = 10.0.0.0/8
    { cidr: 'fe80::/10', ip: 'febf::1', inside: true },
    { cidr: 'fe80::/10', ip: 'fec0::1', inside: false },
    { cidr: '::1/128', ip: '::1', inside: true },
    { cidr: '::/0', ip: '2001:db8::1', inside: true },
    { cidr: '::/0', ip: '10.0.0.1', inside: false },
    { cidr: '2001:db8::/33', ip: '2001:db8:7fff::1', inside: true },
    { cidr: '2001:db8::/33', ip: '2001:db8:8000::1', inside: false },
  ])('$ip in $cidr: $inside', ({ cidr, ip, inside }) => {
    expect(cidrContains(parseCidr(cidr)!, parseIp(ip)!)).toBe(inside);
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/a', '10.0.0.0/8/8', 'host/8', '::ffff:10.0.0.0/95', '10.0.0.0/-1', '10.0.0.0/0008'])(
    '%j is refused',
    (cidr) => {
      expect(parseCidr(cidr)).toBeNull();
    },
  );
});

describe('CidrList', () => {
  it('matches any listed block and throws on a malformed entry', () => {
    const list = new CidrList(['127.0.0.0/8', '::1', ' 10.0.0.0/8 ']);
    expect(list.size).toBe(3);
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.1'].map((a) => list.has(parseIp(a)!))).toEqual([true, true, true, true]);
    expect(['192.168.0.1', '::2'].map((a) => list.has(parseIp(a)!))).toEqual([false, false]);
    expect(() => new CidrList(['10.0.0.0/33'])).toThrow(/not an IP address or CIDR/);
  });
});
