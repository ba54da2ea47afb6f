import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, globMatches, parseCidr, parseIp, stripHopByHop, type StripOptions } from '../../src/policy/index.js';

// An independent, deliberately naive model of SPEC §1.1–1.2 to check the implementation against.
const FIXED = ['connection', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
const END_TO_END = ['Host', 'Content-Length', 'Set-Cookie', 'Accept', 'Trailers', 'Via', 'X-A', 'X-B', 'Cookie'];
const PROXY_AUTH = ['Proxy-Authorization', 'Proxy-Authenticate'];
const NAMES = [...FIXED, ...END_TO_END, ...PROXY_AUTH];

function modelTokens(raw: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const member of raw[i + 1]!.split(',')) {
      const token = member.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
      if (token !== '') tokens.add(token);
    }
  }
  return tokens;
}

function modelIsHop(name: string, tokens: Set<string>, direction: StripOptions['direction']): boolean {
  const lower = name.toLowerCase();
  if (FIXED.includes(lower)) return true;
  if (lower === (direction === 'request' ? 'proxy-authorization' : 'proxy-authenticate')) return true;
  return tokens.has(lower) && lower !== 'host' && lower !== 'content-length';
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

const ows = fc.constantFrom('', ' ', '\t', ' \t ');
const token = fc.oneof(fc.mixedCase(fc.constantFrom(...NAMES, 'close', 'keep-alive')), fc.constant(''));
const connectionValue = fc
  .array(fc.tuple(ows, token, ows), { maxLength: 6 })
  .map((members) => members.map(([a, t, b]) => `${a}${t}${b}`).join(','));
const line = fc.oneof(
  fc.tuple(fc.mixedCase(fc.constant('Connection')), connectionValue),
  fc.tuple(fc.mixedCase(fc.constantFrom(...NAMES)), fc.string({ maxLength: 12 })),
);
const headers = fc.array(line, { maxLength: 16 }).map((lines) => Object.freeze(lines.flat()));
const direction = fc.constantFrom<StripOptions['direction']>('request', 'response');

describe('stripHopByHop properties', () => {
  it('no hop-by-hop header survives', () => {
    fc.assert(
      fc.property(headers, direction, (raw, dir) => {
        const tokens = modelTokens(raw);
        for (const [name] of pairs(stripHopByHop(raw, { direction: dir }))) {
          expect(modelIsHop(name, tokens, dir)).toBe(false);
        }
      }),
    );
  });

  it('every end-to-end header survives, in order, with its name case, value and duplicates', () => {
    fc.assert(
      fc.property(headers, direction, (raw, dir) => {
        const tokens = modelTokens(raw);
        const expected = pairs(raw).filter(([name]) => !modelIsHop(name, tokens, dir));
        expect(pairs(stripHopByHop(raw, { direction: dir }))).toEqual(expected);
      }),
    );
  });

  it('strip is idempotent, with and without the upgrade exception', () => {
    fc.assert(
      fc.property(headers, direction, fc.boolean(), (raw, dir, upgrade) => {
        const once = stripHopByHop(raw, { direction: dir, upgrade });
        expect(stripHopByHop(Object.freeze(once), { direction: dir, upgrade })).toEqual(once);
      }),
    );
  });

  it('with upgrade: exactly one Connection: Upgrade line, every Upgrade line kept', () => {
    fc.assert(
      fc.property(headers, direction, (raw, dir) => {
        const out = pairs(stripHopByHop(raw, { direction: dir, upgrade: true }));
        const connection = out.filter(([name]) => name.toLowerCase() === 'connection');
        expect(connection.map(([, value]) => value)).toEqual(['Upgrade']);
        const upgrades = (list: [string, string][]): [string, string][] =>
          list.filter(([name]) => name.toLowerCase() === 'upgrade');
        expect(upgrades(out)).toEqual(upgrades(pairs(raw)));
      }),
    );
  });
});

// Access control (issue 7) against independent models: integer arithmetic for CIDR blocks, a regex for globs.
function toBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function modelContains(network: Uint8Array, prefix: number, address: Uint8Array): boolean {
  const bits = BigInt(network.length * 8);
  const shift = bits - BigInt(prefix);
  return toBigInt(network) >> shift === toBigInt(address) >> shift;
}

const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((b) => !(b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff));
const v4Text = (b: Uint8Array): string => b.join('.');
const v6Text = (b: Uint8Array): string => formatIp({ family: 6, bytes: b });

describe('CIDR matching properties', () => {
  it('IPv4: cidrContains agrees with integer prefix comparison', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, (net, prefix, addr) => {
        const cidr = parseCidr(`${v4Text(net)}/${prefix}`)!;
        expect(cidrContains(cidr, parseIp(v4Text(addr))!)).toBe(modelContains(net, prefix, addr));
      }),
    );
  });

  it('IPv6: cidrContains agrees with integer prefix comparison', () => {
    fc.assert(
      fc.property(v6, fc.integer({ min: 0, max: 128 }), v6, (net, prefix, addr) => {
        const cidr = parseCidr(`${v6Text(net)}/${prefix}`)!;
        expect(cidrContains(cidr, parseIp(v6Text(addr))!)).toBe(modelContains(net, prefix, addr));
      }),
    );
  });

  it('an IPv4-mapped spelling matches exactly the IPv4 blocks its address does', () => {
    fc.assert(
      fc.property(v4, fc.integer({ min: 0, max: 32 }), v4, (net, prefix, addr) => {
        const cidr = parseCidr(`${v4Text(net)}/${prefix}`)!;
        const plain = cidrContains(cidr, parseIp(v4Text(addr))!);
        expect(cidrContains(cidr, parseIp(`::ffff:${v4Text(addr)}`)!)).toBe(plain);
        expect(cidrContains(parseCidr(`::ffff:${v4Text(net)}/${prefix + 96}`)!, parseIp(v4Text(addr))!)).toBe(plain);
      }),
    );
  });

  it('every address is inside its own /max block and formatIp round-trips', () => {
    fc.assert(
      fc.property(fc.oneof(v4.map(v4Text), v6.map(v6Text)), (text) => {
        const ip = parseIp(text)!;
        expect(formatIp(parseIp(formatIp(ip))!)).toBe(formatIp(ip));
        expect(cidrContains(parseCidr(text)!, ip)).toBe(true);
      }),
    );
  });
});

describe('host glob properties', () => {
  const alphabet = fc.constantFrom('a', 'b', '.', '-');
  const host = fc.array(alphabet, { maxLength: 10 }).map((c) => c.join(''));
  const glob = fc.array(fc.oneof(alphabet, fc.constantFrom('*', '?')), { maxLength: 8 }).map((c) => c.join(''));
  const modelRegex = (g: string): RegExp =>
    new RegExp(`^${[...g].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.-]/g, '\\$&'))).join('')}$`, 'is');

  it('globMatches agrees with an anchored regex model, case-insensitively', () => {
    fc.assert(
      fc.property(glob, host, fc.boolean(), (g, h, upper) => {
        const subject = upper ? h.toUpperCase() : h;
        expect(globMatches(g, subject)).toBe(modelRegex(g).test(h));
      }),
    );
  });
});
