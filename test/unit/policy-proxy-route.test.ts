import { describe, expect, it } from 'vitest';
import { parseHostList, parseHostPattern, patternMatches } from '../../src/policy/no-proxy.js';
import { basicAuthorization, parseParentUrl, parseProxyAuth, redactProxyUrl } from '../../src/policy/parent.js';
import { compileRouting, failoverOrder, isLoopbackName, type RoutingInput } from '../../src/policy/proxy-route.js';

const dest = (hostname: string, port = 80, scheme: 'http' | 'https' = 'http') => ({ hostname, port, scheme });

describe("NO_PROXY host patterns (curl's rules)", () => {
  it.each<[string, string, number, boolean]>([
    ['example.com', 'example.com', 80, true],
    ['example.com', 'www.example.com', 80, true],
    ['example.com', 'a.b.example.com', 443, true],
    ['.example.com', 'example.com', 80, true],
    ['.example.com', 'www.example.com', 80, true],
    ['*.example.com', 'www.example.com', 80, true],
    ['example.com', 'notexample.com', 80, false],
    ['example.com', 'example.com.evil.org', 80, false],
    ['EXAMPLE.com', 'www.example.COM'.toLowerCase(), 80, true],
    ['example.com.', 'www.example.com', 80, true],
    ['example.com', 'www.example.com.', 80, true],
    ['*', 'anything.at.all', 1, true],
    ['*', '10.0.0.1', 1, true],
    ['example.com:8080', 'example.com', 8080, true],
    ['example.com:8080', 'example.com', 80, false],
    ['10.0.0.1', '10.0.0.1', 80, true],
    ['10.0.0.1', '10.0.0.2', 80, false],
    ['10.0.0.0/8', '10.200.3.4', 80, true],
    ['10.0.0.0/8', '11.0.0.1', 80, false],
    ['10.0.0.0/8', 'ten.example', 80, false], // names are not resolved to match an IP entry
    ['192.168.0.0/16:443', '192.168.1.1', 443, true],
    ['192.168.0.0/16:443', '192.168.1.1', 80, false],
    ['::1', '::1', 80, true],
    ['[::1]', '::1', 80, true],
    ['[::1]:8080', '::1', 8080, true],
    ['[::1]:8080', '::1', 80, false],
    ['fd00::/8', 'fd12::5', 80, true],
    ['fd00::/8', '::1', 80, false],
    ['127.0.0.1', 'localhost', 80, false],
  ])('%s covers %s:%i → %s', (entry, hostname, port, expected) => {
    const p = parseHostPattern(entry);
    expect(typeof p).toBe('object');
    expect(patternMatches(p as Exclude<typeof p, string>, { hostname, port })).toBe(expected);
  });

  it.each(['exa mple.com', '10.0.0.0/33', 'example.com:0', 'example.com:99999', 'example.com:http', '[::1', '[::1]x', 'a/b', '*example', 'ex*ample.com', ''])(
    'refuses %j with a reason',
    (entry) => {
      expect(typeof parseHostPattern(entry)).toBe('string');
    },
  );

  it('takes a comma list or an array (whose items may be comma lists), ignoring blanks', () => {
    expect(parseHostList(' a.com, ,b.com ,10.0.0.0/8').patterns).toHaveLength(3);
    expect(parseHostList(['a.com,b.com', 'c.com']).patterns).toHaveLength(3);
    expect(parseHostList([]).patterns).toHaveLength(0);
  });

  it('reports which array item holds a bad entry', () => {
    const fromArray = parseHostList(['a.com', 'b.com, bad entry']).issues;
    expect(fromArray.map((i) => i.index)).toEqual([1]);
    expect(fromArray[0]!.message).toContain('bad entry');
    const fromString = parseHostList('a.com,bad entry').issues;
    expect(fromString.map((i) => i.index)).toEqual([undefined]);
    expect(fromString[0]!.message).toContain('bad entry');
  });
});

describe('parent proxy URLs', () => {
  it.each<[string, object]>([
    ['http://proxy.example:3128', { key: 'http://proxy.example:3128', secure: false, hostname: 'proxy.example', port: 3128, auth: { kind: 'none' } }],
    ['http://PROXY.example:3128/', { key: 'http://proxy.example:3128' }],
    ['HTTP://proxy.example', { key: 'http://proxy.example:80', port: 80 }],
    ['https://proxy.example', { key: 'https://proxy.example:443', secure: true, port: 443 }],
    ['http://[::1]:3128', { key: 'http://[::1]:3128', hostname: '::1' }],
    ['http://127.0.0.1:3128', { hostname: '127.0.0.1', port: 3128 }],
    ['http://alice:s3cret@proxy:3128', { key: 'http://proxy:3128', auth: { kind: 'basic', header: basicAuthorization('alice', 's3cret') } }],
    ['http://al%40ce:p%3Ass@proxy:3128', { auth: { kind: 'basic', header: basicAuthorization('al@ce', 'p:ss') } }],
    ['http://alice@proxy:3128', { auth: { kind: 'basic', header: basicAuthorization('alice', '') } }],
  ])('%s', (url, expected) => {
    expect(parseParentUrl(url)).toMatchObject(expected);
  });

  it.each(['proxy:3128', 'socks5://proxy:1080', 'ftp://proxy', 'http://', 'http://proxy:3128/path', 'http://proxy:3128?x', 'http://proxy:0', 'http://pro xy', 'http://:pw@proxy:1', 'http://a:%zz@proxy:1'])(
    'refuses %j',
    (url) => {
      expect(typeof parseParentUrl(url)).toBe('string');
    },
  );

  it('never echoes credentials in a refusal', () => {
    const reason = parseParentUrl('http://alice:s3cret@proxy:3128/path') as string;
    expect(reason).toContain('***@proxy:3128/path');
    expect(reason).not.toContain('s3cret');
    expect(reason).not.toContain('alice');
    expect(parseParentUrl('http://alice:%zz@proxy:1')).not.toContain('%zz');
    expect(redactProxyUrl('https://u:p@h:1')).toBe('https://***@h:1');
    expect(redactProxyUrl('http://h:1')).toBe('http://h:1');
  });

  it('upstream.proxyAuth gives credentials to parents whose URL has none; the URL wins', () => {
    const fallback = parseProxyAuth('bob:pw');
    expect(fallback).toEqual({ kind: 'basic', header: basicAuthorization('bob', 'pw') });
    expect(parseParentUrl('http://proxy:1', fallback as never)).toMatchObject({ auth: fallback });
    expect(parseParentUrl('http://alice:x@proxy:1', fallback as never)).toMatchObject({ auth: { header: basicAuthorization('alice', 'x') } });
    expect(parseProxyAuth({ username: 'bob', password: 'p:w' })).toEqual({ kind: 'basic', header: basicAuthorization('bob', 'p:w') });
    expect(parseProxyAuth('passthrough')).toEqual({ kind: 'passthrough' });
    expect(parseProxyAuth(null)).toEqual({ kind: 'none' });
    expect(parseProxyAuth('no-colon-secret')).toEqual(expect.not.stringContaining('no-colon-secret'));
    expect(typeof parseProxyAuth({ username: 'a:b', password: '' })).toBe('string');
  });
});

describe('routing table', () => {
  const base: RoutingInput = { proxy: null, proxyAuth: null, noProxy: [], proxyRules: [] };
  const route = (input: Partial<RoutingInput>, d: ReturnType<typeof dest>) => {
    const { router, issues } = compileRouting({ ...base, ...input });
    expect(issues).toEqual([]);
    const r = router.route(d);
    return r.kind === 'direct' ? `direct:${r.why}` : r.parents.map((p) => p.key).join(',');
  };
  const P = 'http://parent:3128';
  const Q = 'http://second:8080';

  it.each<[string, Partial<RoutingInput>, ReturnType<typeof dest>, string]>([
    ['no parent: direct', {}, dest('example.com'), 'direct:default'],
    ['default parent', { proxy: P }, dest('example.com'), P],
    ['failover list in order', { proxy: [P, Q] }, dest('example.com'), `${P},${Q}`],
    ['noProxy bypasses', { proxy: P, noProxy: '.internal,10.0.0.0/8' }, dest('db.internal'), 'direct:no-proxy'],
    ['noProxy IP', { proxy: P, noProxy: ['10.0.0.0/8'] }, dest('10.1.1.1'), 'direct:no-proxy'],
    ['noProxy does not cover others', { proxy: P, noProxy: '.internal' }, dest('example.com'), P],
    ['noProxy *', { proxy: P, noProxy: '*' }, dest('example.com'), 'direct:no-proxy'],
    ['loopback direct', { proxy: P }, dest('127.0.0.1'), 'direct:loopback'],
    ['localhost direct', { proxy: P }, dest('localhost'), 'direct:loopback'],
    ['*.localhost direct', { proxy: P }, dest('app.localhost'), 'direct:loopback'],
    ['::1 direct', { proxy: P }, dest('::1'), 'direct:loopback'],
    ['a rule beats loopback', { proxy: P, proxyRules: [{ hosts: ['127.0.0.1'], proxy: Q }] }, dest('127.0.0.1'), Q],
    ['a rule beats noProxy', { proxy: P, noProxy: '.example.com', proxyRules: [{ hosts: ['api.example.com'], proxy: Q }] }, dest('api.example.com'), Q],
    ['a direct rule', { proxy: P, proxyRules: [{ hosts: ['.corp'], proxy: 'direct' }] }, dest('git.corp'), 'direct:rule'],
    ['first rule wins', { proxy: P, proxyRules: [{ hosts: ['.example.com'], proxy: 'direct' }, { hosts: ['*'], proxy: Q }] }, dest('example.com'), 'direct:rule'],
    ['later rule', { proxy: P, proxyRules: [{ hosts: ['.example.com'], proxy: 'direct' }, { hosts: ['*'], proxy: Q }] }, dest('other.org'), Q],
    ['rule with port', { proxy: P, proxyRules: [{ hosts: ['example.com:8443'], proxy: Q }] }, dest('example.com', 443), P],
    ['rules alone (no default)', { proxyRules: [{ hosts: ['.partner.net'], proxy: Q }] }, dest('api.partner.net'), Q],
    ['rules alone, no match: direct', { proxyRules: [{ hosts: ['.partner.net'], proxy: Q }] }, dest('example.com'), 'direct:default'],
    ['per scheme: http', { proxy: { http: P, https: Q } }, dest('example.com', 80, 'http'), P],
    ['per scheme: https', { proxy: { http: P, https: Q } }, dest('example.com', 443, 'https'), Q],
    ['per scheme: https unset goes direct', { proxy: { http: P } }, dest('example.com', 443, 'https'), 'direct:default'],
  ])('%s', (_name, input, d, expected) => {
    expect(route(input, d)).toBe(expected);
  });

  it('lists each distinct parent once, for pools and stats', () => {
    const { router } = compileRouting({ ...base, proxy: [P, Q], proxyRules: [{ hosts: ['x'], proxy: 'http://u:p@parent:3128' }] });
    expect(router.parents.map((p) => p.key)).toEqual([P, Q]);
    expect(router.enabled).toBe(true);
    expect(compileRouting(base).router.enabled).toBe(false);
  });

  it.each<[string, Partial<RoutingInput>, { path: string; message: RegExp }[]]>([
    ['bad URL', { proxy: 'proxy:3128' }, [{ path: 'proxy', message: /parent proxy URL/ }]],
    ['bad list entry', { proxy: [P, 'socks5://x:1'] }, [{ path: 'proxy[1]', message: /parent proxy URL/ }]],
    ['empty list', { proxy: [] }, [{ path: 'proxy', message: /non-empty list/ }]],
    ['duplicate', { proxy: [P, 'http://PARENT:3128'] }, [{ path: 'proxy[1]', message: /already in this list/ }]],
    ['direct as default', { proxy: 'direct' }, [{ path: 'proxy', message: /null/ }]],
    ['direct in a list', { proxyRules: [{ hosts: ['*'], proxy: [P, 'direct'] }] }, [{ path: 'proxyRules[0].proxy[1]', message: /cannot be part/ }]],
    ['per-scheme bad', { proxy: { https: 'nope' } }, [{ path: 'proxy.https', message: /parent proxy URL/ }]],
    ['bad noProxy item', { noProxy: ['ok.com', 'b ad'] }, [{ path: 'noProxy[1]', message: /not a host pattern/ }]],
    ['bad noProxy string', { noProxy: 'ok.com,10.0.0.0/40' }, [{ path: 'noProxy', message: /CIDR/ }]],
    ['rule without hosts', { proxyRules: [{ hosts: [], proxy: P }] }, [{ path: 'proxyRules[0].hosts', message: /at least one/ }]],
    ['rule bad host', { proxyRules: [{ hosts: ['a', 'b c'], proxy: P }] }, [{ path: 'proxyRules[0].hosts[1]', message: /host pattern/ }]],
    ['rule bad proxy', { proxyRules: [{ hosts: ['a'], proxy: 'x' }] }, [{ path: 'proxyRules[0].proxy', message: /parent proxy URL/ }]],
    ['bad proxyAuth', { proxyAuth: 'hunter2' }, [{ path: 'proxyAuth', message: /user:password/ }]],
  ])('%s → issue', (_name, input, expected) => {
    const { issues } = compileRouting({ ...base, ...input });
    expect(issues.map((i) => i.path)).toEqual(expected.map((e) => e.path));
    issues.forEach((issue, i) => expect(issue.message).toMatch(expected[i]!.message));
    for (const i of issues) expect(i.message).not.toContain('hunter2');
  });
});

describe('isLoopbackName', () => {
  it.each<[string, boolean]>([
    ['localhost', true],
    ['localhost.', true],
    ['a.localhost', true],
    ['127.0.0.1', true],
    ['127.9.9.9', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['128.0.0.1', false],
    ['::2', false],
    ['localhost.example.com', false],
    ['example.com', false],
  ])('%s → %s', (h, expected) => {
    expect(isLoopbackName(h)).toBe(expected);
  });
});

describe('failoverOrder', () => {
  const parents = ['http://a:1', 'http://b:1', 'http://c:1'].map((u) => parseParentUrl(u) as Exclude<ReturnType<typeof parseParentUrl>, string>);
  const keys = (down: Record<string, number>, now: number) => failoverOrder(parents, (k) => down[k], now).map((p) => p.hostname).join('');

  it.each<[string, Record<string, number>, number, string]>([
    ['all up: configured order', {}, 100, 'abc'],
    ['first down: skipped to the end', { 'http://a:1': 200 }, 100, 'bca'],
    ['a mark that expired is up again', { 'http://a:1': 50 }, 100, 'abc'],
    ['all down: soonest retry first', { 'http://a:1': 300, 'http://b:1': 200, 'http://c:1': 250 }, 100, 'bca'],
  ])('%s', (_name, down, now, expected) => {
    expect(keys(down, now)).toBe(expected);
  });
});
