import { describe, expect, it } from 'vitest';
import { authorityTarget, forwardTarget, gatewayTarget, originKey, type UpstreamTarget } from '../../src/policy/index.js';

function t(origin: string, hostname: string, port: number, path: string, host: string): UpstreamTarget {
  const protocol = origin.startsWith('https:') ? 'https:' : 'http:';
  return { origin, protocol, hostname, port, path, host };
}

describe('forwardTarget: accepted', () => {
  // [request target, method, origin, hostname, port, path, host]
  it.each<[string, string, string, string, number, string, string]>([
    ['http://example.com/a?b=1', 'GET', 'http://example.com:80', 'example.com', 80, '/a?b=1', 'example.com'],
    ['http://example.com', 'GET', 'http://example.com:80', 'example.com', 80, '/', 'example.com'],
    ['http://example.com', 'OPTIONS', 'http://example.com:80', 'example.com', 80, '*', 'example.com'],
    ['http://example.com/', 'OPTIONS', 'http://example.com:80', 'example.com', 80, '/', 'example.com'],
    ['http://example.com?x=1', 'GET', 'http://example.com:80', 'example.com', 80, '/?x=1', 'example.com'],
    ['http://h:80/', 'GET', 'http://h:80', 'h', 80, '/', 'h'],
    ['http://h:443/', 'GET', 'http://h:443', 'h', 443, '/', 'h:443'],
    ['http://h:/x', 'GET', 'http://h:80', 'h', 80, '/x', 'h'],
    ['https://Example.COM:8443/p', 'GET', 'https://example.com:8443', 'example.com', 8443, '/p', 'example.com:8443'],
    ['https://h:443/', 'GET', 'https://h:443', 'h', 443, '/', 'h'],
    ['https://h/', 'GET', 'https://h:443', 'h', 443, '/', 'h'],
    ['HTTP://h/', 'GET', 'http://h:80', 'h', 80, '/', 'h'],
    ['ws://h/chat', 'GET', 'http://h:80', 'h', 80, '/chat', 'h'],
    ['wss://h:9443/chat', 'GET', 'https://h:9443', 'h', 9443, '/chat', 'h:9443'],
    ['http://[::1]:8080/x', 'GET', 'http://[::1]:8080', '::1', 8080, '/x', '[::1]:8080'],
    ['http://[::1]/', 'GET', 'http://[::1]:80', '::1', 80, '/', '[::1]'],
    ['https://[2001:DB8::1]/', 'GET', 'https://[2001:db8::1]:443', '2001:db8::1', 443, '/', '[2001:db8::1]'],
    ['http://[::ffff:7f00:1]:81/', 'GET', 'http://[::ffff:7f00:1]:81', '::ffff:7f00:1', 81, '/', '[::ffff:7f00:1]:81'],
    ['http://[::ffff:127.0.0.1]/', 'GET', 'http://[::ffff:127.0.0.1]:80', '::ffff:127.0.0.1', 80, '/', '[::ffff:127.0.0.1]'],
    ['http://127.0.0.1:8080/a', 'GET', 'http://127.0.0.1:8080', '127.0.0.1', 8080, '/a', '127.0.0.1:8080'],
    ['http://h/a#frag', 'GET', 'http://h:80', 'h', 80, '/a', 'h'],
    ['http://h#frag', 'GET', 'http://h:80', 'h', 80, '/', 'h'],
    ['http://h/a/../b/%2e%2E/c?q=%20&r=/x', 'GET', 'http://h:80', 'h', 80, '/a/../b/%2e%2E/c?q=%20&r=/x', 'h'],
    ['http://h:00080/', 'GET', 'http://h:80', 'h', 80, '/', 'h'],
    ['http://h:65535/', 'GET', 'http://h:65535', 'h', 65535, '/', 'h:65535'],
  ])('%s %s → %s %s', (target, method, origin, hostname, port, path, host) => {
    expect(forwardTarget(target, method)).toEqual({ ok: true, target: t(origin, hostname, port, path, host) });
  });
});

describe('forwardTarget: refused with a one-line 400', () => {
  it.each([
    { target: '/x', reason: /forward proxy.*absolute URI.*origin-form "\/x"/ },
    { target: '*', reason: /absolute URI.*asterisk-form/ },
    { target: 'example.com:443', reason: /absolute URI.*"example\.com:443"/ },
    { target: '', reason: /absolute URI/ },
    { target: 'ftp://h/', reason: /unsupported scheme/ },
    { target: 'mailto:x@h', reason: /absolute URI/ },
    { target: 'http://user:pw@h/', reason: /userinfo/ },
    { target: 'http://@h/', reason: /userinfo/ },
    { target: 'http:///x', reason: /empty host/ },
    { target: 'http://?q', reason: /empty host/ },
    { target: 'http://:80/', reason: /empty host/ },
    { target: 'http://h:0/', reason: /out of range/ },
    { target: 'http://h:65536/', reason: /out of range/ },
    { target: 'http://h:123456/', reason: /invalid port/ },
    { target: 'http://h:8x/', reason: /invalid port/ },
    { target: 'http://h:-1/', reason: /invalid port/ },
    { target: 'http://::1/', reason: /in brackets/ },
    { target: 'http://[::1/', reason: /unterminated IPv6/ },
    { target: 'http://[zz::1]/', reason: /invalid IPv6/ },
    { target: 'http://[]/', reason: /invalid IPv6/ },
    { target: 'http://[fe80::1%25eth0]/', reason: /invalid IPv6/ },
    { target: 'http://[::1]x/', reason: /after '\]'/ },
    { target: 'http://h h/', reason: /invalid host/ },
    { target: 'http://h%2f/', reason: /invalid host/ },
    { target: 'http://h/a b', reason: /invalid character/ },
    { target: `http://h/${'a'.repeat(5000)} b`, reason: /invalid character/ },
  ])('$target', ({ target, reason }) => {
    const result = forwardTarget(target, 'GET');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status).toBe(400);
    expect(result.reason).toMatch(reason);
    expect(result.reason).not.toMatch(/[\r\n]/);
    expect(result.reason.length).toBeLessThan(300);
  });
});

describe('forwardTarget: the SPEC §2.2 explanation', () => {
  it('origin-form is refused with the exact one-line reason', () => {
    expect(forwardTarget('/x', 'GET')).toEqual({
      ok: false,
      status: 400,
      reason:
        'hopwise is a forward proxy: the request target must be an absolute URI such as http://host/path ' +
        '(got origin-form "/x")',
    });
  });
});

describe('gatewayTarget', () => {
  const target = 'http://127.0.0.1:9000';
  it.each([
    {
      name: 'origin-form path',
      req: '/a?b',
      method: 'GET',
      origin: target,
      clientHost: 'front.example',
      preserve: false,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '/a?b', '127.0.0.1:9000'),
    },
    {
      name: 'preserveHost keeps the client Host',
      req: '/a',
      method: 'GET',
      origin: target,
      clientHost: 'front.example',
      preserve: true,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '/a', 'front.example'),
    },
    {
      name: 'preserveHost without a client Host',
      req: '/a',
      method: 'GET',
      origin: target,
      clientHost: undefined,
      preserve: true,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '/a', '127.0.0.1:9000'),
    },
    {
      name: 'preserveHost with an empty client Host',
      req: '/a',
      method: 'GET',
      origin: target,
      clientHost: '',
      preserve: true,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '/a', '127.0.0.1:9000'),
    },
    {
      name: 'absolute-form: only its path is used',
      req: 'http://other.example:81/x?y',
      method: 'GET',
      origin: target,
      clientHost: undefined,
      preserve: false,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '/x?y', '127.0.0.1:9000'),
    },
    {
      name: 'absolute-form with preserveHost: the target authority, not the client Host (RFC 9112 §3.2.2)',
      req: 'http://A.example:80/x',
      method: 'GET',
      origin: target,
      clientHost: 'b.example',
      preserve: true,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '/x', 'a.example'),
    },
    {
      name: 'absolute-form OPTIONS with empty path',
      req: 'http://other.example',
      method: 'OPTIONS',
      origin: target,
      clientHost: undefined,
      preserve: false,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '*', '127.0.0.1:9000'),
    },
    {
      name: 'OPTIONS *',
      req: '*',
      method: 'OPTIONS',
      origin: target,
      clientHost: undefined,
      preserve: false,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '*', '127.0.0.1:9000'),
    },
    {
      name: 'fragment dropped',
      req: '/a#f',
      method: 'GET',
      origin: target,
      clientHost: undefined,
      preserve: false,
      want: t('http://127.0.0.1:9000', '127.0.0.1', 9000, '/a', '127.0.0.1:9000'),
    },
    {
      name: 'https target with a trailing slash, default port',
      req: '/',
      method: 'GET',
      origin: 'https://API.internal/',
      clientHost: undefined,
      preserve: false,
      want: t('https://api.internal:443', 'api.internal', 443, '/', 'api.internal'),
    },
    {
      name: 'IPv6 target',
      req: '/v',
      method: 'GET',
      origin: 'http://[::1]:9000',
      clientHost: undefined,
      preserve: false,
      want: t('http://[::1]:9000', '::1', 9000, '/v', '[::1]:9000'),
    },
  ])('$name', ({ req, method, origin, clientHost, preserve, want }) => {
    expect(gatewayTarget(req, method, origin, clientHost, preserve)).toEqual({ ok: true, target: want });
  });

  it.each([
    { name: 'asterisk-form on GET', req: '*', method: 'GET', origin: target, reason: /only for OPTIONS/ },
    {
      name: 'authority-form',
      req: 'example.com:80',
      method: 'GET',
      origin: target,
      reason: /must be a path such as \/x or an absolute URI/,
    },
    { name: 'absolute-form with userinfo', req: 'http://u@h/', method: 'GET', origin: target, reason: /userinfo/ },
    { name: 'bad path characters', req: '/a b', method: 'GET', origin: target, reason: /invalid character/ },
    { name: 'invalid gateway target', req: '/', method: 'GET', origin: 'not a url', reason: /invalid gateway target/ },
  ])('refuses $name', ({ req, method, origin, reason }) => {
    const result = gatewayTarget(req, method, origin, undefined, false);
    expect(result).toMatchObject({ ok: false, status: 400 });
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('authorityTarget (CONNECT)', () => {
  it.each([
    { target: 'example.com:443', hostname: 'example.com', port: 443 },
    { target: 'EXAMPLE.com:8443', hostname: 'example.com', port: 8443 },
    { target: '127.0.0.1:22', hostname: '127.0.0.1', port: 22 },
    { target: '[::1]:8443', hostname: '::1', port: 8443 },
    { target: '[2001:DB8::1]:443', hostname: '2001:db8::1', port: 443 },
  ])('$target', ({ target, hostname, port }) => {
    expect(authorityTarget(target)).toEqual({ ok: true, hostname, port });
  });

  it.each([
    { target: 'example.com', reason: /missing port/ },
    { target: 'example.com:', reason: /missing port/ },
    { target: '[::1]', reason: /missing port/ },
    { target: ':443', reason: /empty host/ },
    { target: '', reason: /empty host/ },
    { target: 'u:p@h:443', reason: /userinfo/ },
    { target: 'h:0', reason: /out of range/ },
    { target: 'h:70000', reason: /out of range/ },
    { target: '::1:443', reason: /in brackets/ },
    { target: 'http://h:443', reason: /authority-form/ },
    { target: '/x', reason: /authority-form/ },
  ])('refuses $target', ({ target, reason }) => {
    const result = authorityTarget(target);
    expect(result).toMatchObject({ ok: false, status: 400 });
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('originKey (upstream.origins entries are matched by the pool key)', () => {
  it.each<[string, string | undefined]>([
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000'],
    ['http://Example.COM', 'http://example.com:80'],
    ['HTTPS://example.com', 'https://example.com:443'],
    ['https://example.com:8443/', 'https://example.com:8443'],
    ['http://[::1]:8080', 'http://[::1]:8080'],
    ['http://[::1]', 'http://[::1]:80'],
    ['http://example.com/path', undefined],
    ['http://user@example.com', undefined],
    ['ws://example.com', undefined],
    ['ftp://example.com', undefined],
    ['example.com:80', undefined],
  ])('%s → %s', (url, key) => {
    expect(originKey(url)).toBe(key);
  });

  it('is the key forwardTarget and gatewayTarget pool a request under', () => {
    const fwd = forwardTarget('http://Example.COM/x?y', 'GET');
    const gw = gatewayTarget('/x', 'GET', 'http://example.com:80', undefined, false);
    expect(fwd.ok && fwd.target.origin).toBe(originKey('http://example.com/'));
    expect(gw.ok && gw.target.origin).toBe(originKey('http://EXAMPLE.com'));
  });
});
