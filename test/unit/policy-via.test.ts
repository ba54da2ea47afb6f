import { describe, expect, it } from 'vitest';
import { stripHopByHop, viaContains, viaValue, withAddedHeaders } from '../../src/policy/index.js';

describe('viaValue', () => {
  it.each([
    { version: '1.1', comment: undefined, via: '1.1 hopwise' },
    { version: '1.0', comment: undefined, via: '1.0 hopwise' },
    { version: '2.0', comment: undefined, via: '2.0 hopwise' },
    { version: '3', comment: undefined, via: '3 hopwise' },
    { version: '', comment: undefined, via: '1.1 hopwise' },
    { version: 'HTTP/1.1 x', comment: undefined, via: '1.1 hopwise' },
    { version: '1.1', comment: 'a1b2', via: '1.1 hopwise (a1b2)' },
    { version: '1.0', comment: 'edge 3', via: '1.0 hopwise (edge 3)' },
    { version: '1.1', comment: 'a(b)\\c', via: '1.1 hopwise (a\\(b\\)\\\\c)' },
    { version: '1.1', comment: 'x\r\ny', via: '1.1 hopwise (x  y)' },
  ])('$version + $comment → $via', ({ version, comment, via }) => {
    expect(viaValue(version, 'hopwise', comment)).toBe(via);
  });
});

describe('withAddedHeaders', () => {
  it.each([
    {
      name: 'no existing Via',
      stripped: ['Host', 'a'],
      added: ['Via', '1.1 hopwise'],
      out: ['Host', 'a', 'Via', '1.1 hopwise'],
    },
    {
      name: 'existing Via values stay before ours',
      stripped: ['via', '1.0 fred', 'Accept', '*/*', 'Via', '1.1 p.example.net'],
      added: ['Via', '1.1 hopwise'],
      out: ['via', '1.0 fred', 'Accept', '*/*', 'Via', '1.1 p.example.net', 'Via', '1.1 hopwise'],
    },
    {
      name: 'several added lines keep their order',
      stripped: [],
      added: ['Via', '1.1 hopwise', 'X-Forwarded-For', '127.0.0.1'],
      out: ['Via', '1.1 hopwise', 'X-Forwarded-For', '127.0.0.1'],
    },
  ])('$name', ({ stripped, added, out }) => {
    const frozenStripped = Object.freeze([...stripped]);
    const frozenAdded = Object.freeze([...added]);
    const result = withAddedHeaders(frozenStripped, frozenAdded);
    expect(result).toEqual(out);
    expect(result).not.toBe(frozenStripped);
    expect(frozenStripped).toEqual(stripped);
  });

  it('a client cannot remove the proxy Via by listing Via in Connection (SPEC §1.2)', () => {
    const raw = Object.freeze(['Connection', 'Via', 'Via', '1.0 fred', 'Host', 'h']);
    const out = withAddedHeaders(stripHopByHop(raw, { direction: 'request' }), ['Via', viaValue('1.1', 'hopwise')]);
    expect(out).toEqual(['Host', 'h', 'Via', '1.1 hopwise']);
  });
});

describe('viaContains', () => {
  // [case, raw headers, comment wanted, found]
  it.each<[string, string[], string | undefined, boolean]>([
    ['no Via', ['Host', 'h'], undefined, false],
    ['exact member', ['Via', '1.1 hopwise'], undefined, true],
    ['case-insensitive name and pseudonym', ['VIA', '1.1 HopWise'], undefined, true],
    ['protocol name given', ['Via', 'HTTP/1.0 hopwise'], undefined, true],
    ['later member of a list', ['Via', '1.0 fred, 1.1 hopwise'], undefined, true],
    ['later field line', ['Via', '1.0 fred', 'X', 'y', 'via', '1.1 p.example.net,\t1.1 hopwise'], undefined, true],
    ['other proxies only', ['Via', '1.0 fred, 1.1 p.example.net (Apache/1.1)'], undefined, false],
    ['pseudonym as a prefix only', ['Via', '1.1 hopwise2, 1.1 hop'], undefined, false],
    ['pseudonym inside a comment only', ['Via', '1.1 fred (via hopwise)'], undefined, false],
    ['pseudonym as received-protocol only', ['Via', 'hopwise fred'], undefined, false],
    ['host:port received-by', ['Via', '1.1 hopwise:8080'], undefined, false],
    ['matching comment', ['Via', '1.0 fred, 1.1 hopwise (a1b2)'], 'a1b2', true],
    ['other instance', ['Via', '1.1 hopwise (zz99)'], 'a1b2', false],
    ['comment required but absent', ['Via', '1.1 hopwise'], 'a1b2', false],
    ['comment compared exactly', ['Via', '1.1 hopwise (A1B2)'], 'a1b2', false],
    ['comma inside a comment', ['Via', '1.1 fred (x, 1.1 hopwise), 1.1 bob'], undefined, false],
    ['member after a comment with a comma', ['Via', '1.1 fred (x, y), 1.1 hopwise (id)'], 'id', true],
    ['empty members', ['Via', ', ,1.1 hopwise,'], undefined, true],
    ['unterminated comment', ['Via', '1.1 hopwise (id'], 'id', false],
    ['round-trips an escaped comment', ['Via', viaValue('1.1', 'hopwise', 'a(b), c\\')], 'a(b), c\\', true],
  ])('%s', (_name, raw, comment, found) => {
    expect(viaContains(Object.freeze(raw), 'hopwise', comment)).toBe(found);
  });
});
