import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stripHopByHop, type StripOptions } from '../../src/policy/index.js';

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
