/**
 * The pure client-address policy (src/policy/forwarded.ts): X-Forwarded-* and RFC 7239 Forwarded, as tables.
 */
import { describe, expect, it } from 'vitest';
import { forwardedElement, forwardedNode, forwardedStyle, withForwarded } from '../../src/policy/index.js';
import type { ForwardedFacts, ForwardedStyle } from '../../src/policy/index.js';

describe('forwardedStyle', () => {
  it.each<[ForwardedStyle | 'auto', string, ForwardedStyle]>([
    ['auto', 'forward', 'none'],
    ['auto', 'gateway', 'x-forwarded'],
    ['none', 'gateway', 'none'],
    ['rfc7239', 'forward', 'rfc7239'],
    ['x-forwarded', 'forward', 'x-forwarded'],
  ])('%s in %s mode → %s', (setting, mode, expected) => {
    expect(forwardedStyle(setting, mode)).toBe(expected);
  });
});

describe('forwardedNode (RFC 7239 §6)', () => {
  it.each<[string | undefined, string]>([
    ['192.0.2.43', '192.0.2.43'],
    ['127.0.0.1', '127.0.0.1'],
    ['2001:db8:cafe::17', '"[2001:db8:cafe::17]"'],
    ['::1', '"[::1]"'],
    ['::ffff:127.0.0.1', '"[::ffff:127.0.0.1]"'],
    [undefined, 'unknown'],
    ['', 'unknown'],
  ])('%s → %s', (address, expected) => {
    expect(forwardedNode(address)).toBe(expected);
  });
});

describe('forwardedElement', () => {
  it.each<[ForwardedFacts, string]>([
    [{ clientAddress: '192.0.2.60', proto: 'http', host: 'example.com' }, 'for=192.0.2.60;proto=http;host=example.com'],
    // ':' is not a tchar, so host:port is a quoted-string (RFC 7239 §4 / RFC 9110 §5.6.4).
    [{ clientAddress: '192.0.2.60', proto: 'http', host: 'example.com:8080' }, 'for=192.0.2.60;proto=http;host="example.com:8080"'],
    [{ clientAddress: '::1', proto: 'https', host: '[::1]:9000' }, 'for="[::1]";proto=https;host="[::1]:9000"'],
    [{ clientAddress: '10.0.0.1', proto: 'http', host: undefined }, 'for=10.0.0.1;proto=http'],
    [{ clientAddress: undefined, proto: 'http', host: 'a"b\\c' }, 'for=unknown;proto=http;host="a\\"b\\\\c"'],
  ])('%j → %s', (facts, expected) => {
    expect(forwardedElement(facts)).toBe(expected);
  });
});

const FACTS: ForwardedFacts = { clientAddress: '127.0.0.1', proto: 'http', host: 'gw.example:8080' };

describe('withForwarded', () => {
  it.each<[string, ForwardedStyle, string[], string[]]>([
    ['none leaves the head alone', 'none', ['host', 'o', 'X-Forwarded-For', '1.1.1.1'], ['host', 'o', 'X-Forwarded-For', '1.1.1.1']],
    [
      'x-forwarded adds the trio',
      'x-forwarded',
      ['host', 'o', 'Accept', '*/*'],
      ['host', 'o', 'Accept', '*/*', 'X-Forwarded-For', '127.0.0.1', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'gw.example:8080'],
    ],
    [
      'x-forwarded appends to an existing list, every line, in one line',
      'x-forwarded',
      ['x-forwarded-for', '203.0.113.9', 'Accept', '*/*', 'X-Forwarded-For', '198.51.100.1, 198.51.100.2'],
      [
        'Accept', '*/*',
        'X-Forwarded-For', '203.0.113.9, 198.51.100.1, 198.51.100.2, 127.0.0.1',
        'X-Forwarded-Proto', 'http',
        'X-Forwarded-Host', 'gw.example:8080',
      ],
    ],
    [
      'x-forwarded replaces the client-supplied proto and host',
      'x-forwarded',
      ['X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'spoofed.example', 'X-Forwarded-Port', '443'],
      ['X-Forwarded-Port', '443', 'X-Forwarded-For', '127.0.0.1', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'gw.example:8080'],
    ],
    [
      'rfc7239 adds one element',
      'rfc7239',
      ['host', 'o'],
      ['host', 'o', 'Forwarded', 'for=127.0.0.1;proto=http;host="gw.example:8080"'],
    ],
    [
      'rfc7239 extends the existing list in one line and leaves X-Forwarded-* alone',
      'rfc7239',
      ['Forwarded', 'for=192.0.2.43', 'X-Forwarded-For', '1.1.1.1', 'forwarded', 'for="[2001:db8::1]"'],
      ['X-Forwarded-For', '1.1.1.1', 'Forwarded', 'for=192.0.2.43, for="[2001:db8::1]", for=127.0.0.1;proto=http;host="gw.example:8080"'],
    ],
  ])('%s', (_name, style, head, expected) => {
    const before = [...head];
    expect(withForwarded(head, style, FACTS)).toEqual(expected);
    expect(head).toEqual(before);
  });

  it.each<[string | undefined, string | undefined, string[]]>([
    [undefined, undefined, ['X-Forwarded-For', 'unknown', 'X-Forwarded-Proto', 'http']],
    ['2001:db8::1', undefined, ['X-Forwarded-For', '2001:db8::1', 'X-Forwarded-Proto', 'http']],
  ])('x-forwarded with address %s and host %s', (clientAddress, host, expected) => {
    expect(withForwarded(['X-Forwarded-Host', 'old'], 'x-forwarded', { clientAddress, proto: 'http', host })).toEqual(expected);
  });
});
