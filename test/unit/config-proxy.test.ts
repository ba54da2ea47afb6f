import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type ConfigOverrides } from '../../src/config/load.js';
import { proxyFromEnvironment } from '../../src/config/proxy-settings.js';
import { parseArgs } from '../../src/cli/args.js';

function issuesOf(overrides: ConfigOverrides, env?: NodeJS.ProcessEnv): { path: string; message: string }[] {
  try {
    loadConfig({ overrides, env });
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
}

describe('upstream parent-proxy settings', () => {
  it('accepts a parent, a failover list, per-scheme parents, rules, noProxy and credentials', () => {
    const c = loadConfig({
      overrides: {
        upstream: {
          proxy: ['http://p1:3128', 'http://p2:3128'],
          proxyAuth: { username: 'u', password: 'p' },
          noProxy: '.internal, 10.0.0.0/8',
          proxyRules: [{ hosts: ['.partner.net'], proxy: 'https://u:p@p3:443' }, { hosts: ['.corp'], proxy: 'direct' }],
          proxyRetryAfter: 1000,
        },
      },
    });
    expect(c.upstream.proxy).toEqual(['http://p1:3128', 'http://p2:3128']);
    expect(loadConfig({ overrides: { upstream: { proxy: { https: 'http://p:1' } } } }).upstream.proxy).toEqual({ https: 'http://p:1' });
  });

  it('defaults to no parent', () => {
    const c = loadConfig();
    expect(c.upstream).toMatchObject({ proxy: null, proxyAuth: null, noProxy: [], proxyRules: [], proxyRetryAfter: 30000 });
  });

  it.each<[string, ConfigOverrides, string, RegExp]>([
    ['not a URL', { upstream: { proxy: 'proxy:3128' } }, 'upstream.proxy', /parent proxy URL/],
    ['a path', { upstream: { proxy: 'http://p:1/x' } }, 'upstream.proxy', /no path/],
    ['an empty list', { upstream: { proxy: [] } }, 'upstream.proxy', /non-empty list/],
    ['a bad list entry', { upstream: { proxy: ['http://p:1', 'socks5://q:1'] } }, 'upstream.proxy[1]', /parent proxy URL/],
    ['a bad noProxy entry', { upstream: { noProxy: ['a.com', '10.0.0.0/99'] } }, 'upstream.noProxy[1]', /CIDR/],
    ['a rule without hosts', { upstream: { proxyRules: [{ hosts: [], proxy: 'direct' }] } }, 'upstream.proxyRules[0].hosts', /at least one/],
    ['a rule with a bad parent', { upstream: { proxyRules: [{ hosts: ['*'], proxy: 'nope' }] } }, 'upstream.proxyRules[0].proxy', /parent proxy URL/],
    ['an unknown rule key', { upstream: { proxyRules: [{ hosts: ['*'], proxy: 'direct', via: 'x' } as never] } }, 'upstream.proxyRules[0].via', /unknown key/],
    ['a bad proxyAuth', { upstream: { proxyAuth: 'hunter2' } }, 'upstream.proxyAuth', /user:password/],
    ['a negative proxyRetryAfter', { upstream: { proxyRetryAfter: -1 } }, 'upstream.proxyRetryAfter', /non-negative/],
    ['itself as parent', { listen: { port: 18080 }, upstream: { proxy: 'http://127.0.0.1:18080' } }, 'upstream.proxy', /own listener/],
    ['itself by name', { listen: { port: 18080 }, upstream: { proxy: 'http://localhost:18080' } }, 'upstream.proxy', /own listener/],
    ['a bad gateway route parent', { mode: 'gateway', routes: [{ listen: { host: '127.0.0.1', port: 0 }, target: 'http://127.0.0.1:9', proxy: 'x' }] }, 'routes[0].proxy', /parent proxy URL/],
    ['a parent in dumb mode', { mode: 'dumb', upstream: { proxy: 'http://p:1' } }, 'upstream.proxy', /does not use parent/],
  ])('%s → exit 2 naming %s', (_name, overrides, path, message) => {
    const issues = issuesOf(overrides);
    expect(issues.filter((i) => i.path === path && message.test(i.message))).toHaveLength(1);
  });

  it('never shows credentials in a message', () => {
    const issues = issuesOf({ upstream: { proxy: 'http://alice:hunter2@p:1/x', proxyAuth: 'hunter2' } });
    expect(issues.length).toBeGreaterThan(0);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });
});

describe('upstream.proxy: "env"', () => {
  it.each<[string, NodeJS.ProcessEnv, unknown]>([
    ['one proxy for both schemes', { HTTP_PROXY: 'http://p:3128', HTTPS_PROXY: 'http://p:3128' }, { proxy: 'http://p:3128' }],
    ['lowercase names', { http_proxy: 'http://p:3128', https_proxy: 'http://p:3128' }, { proxy: 'http://p:3128' }],
    ['lowercase wins', { http_proxy: 'http://low:1', HTTP_PROXY: 'http://up:1' }, { proxy: { http: 'http://low:1' } }],
    ['different per scheme', { HTTP_PROXY: 'http://a:1', HTTPS_PROXY: 'http://b:1' }, { proxy: { http: 'http://a:1', https: 'http://b:1' } }],
    ['HTTPS_PROXY only', { HTTPS_PROXY: 'http://b:1' }, { proxy: { https: 'http://b:1' } }],
    ['a value without scheme is http', { HTTP_PROXY: 'p:3128', HTTPS_PROXY: 'p:3128' }, { proxy: 'http://p:3128' }],
    ['NO_PROXY', { HTTP_PROXY: 'http://p:1', NO_PROXY: 'localhost,.corp' }, { noProxy: 'localhost,.corp' }],
    ['no_proxy', { HTTP_PROXY: 'http://p:1', no_proxy: '.corp' }, { noProxy: '.corp' }],
    ['empty counts as unset', { HTTP_PROXY: '', HTTPS_PROXY: 'http://b:1' }, { proxy: { https: 'http://b:1' } }],
  ])('%s', (_name, env, expected) => {
    expect(proxyFromEnvironment(env)).toMatchObject({ ok: true, ...(expected as object) });
  });

  it('is an error when neither HTTP_PROXY nor HTTPS_PROXY is set', () => {
    const unset = issuesOf({ upstream: { proxy: 'env' } }, { NO_PROXY: 'x', PATH: '/bin' });
    expect(unset.map((i) => i.path)).toEqual(['upstream.proxy']);
    expect(unset[0]!.message).toMatch(/neither is set/);
    const none = issuesOf({ upstream: { proxy: 'env' } });
    expect(none.map((i) => i.path)).toEqual(['upstream.proxy']);
    expect(none[0]!.message).toMatch(/environment/);
  });

  it('loads the environment into the configuration, NO_PROXY added to upstream.noProxy', () => {
    const env = { HTTPS_PROXY: 'http://u:p@corp:8080', https_proxy: '', NO_PROXY: '.corp' };
    const c = loadConfig({ overrides: { upstream: { proxy: 'env', noProxy: ['10.0.0.0/8'] } }, env });
    expect(c.upstream.proxy).toEqual({ https: 'http://u:p@corp:8080' });
    expect(c.upstream.noProxy).toEqual(['10.0.0.0/8', '.corp']);
  });

  it('is never read unasked: HTTP_PROXY alone changes nothing', () => {
    expect(loadConfig({ env: { HTTP_PROXY: 'http://p:1' } }).upstream.proxy).toBeNull();
  });

  it('--upstream-proxy and HOPWISE_UPSTREAM_PROXY set upstream.proxy', () => {
    expect(parseArgs(['--upstream-proxy', 'http://p:3128'], {})).toMatchObject({ overrides: { upstream: { proxy: 'http://p:3128' } } });
    expect(parseArgs([], { HOPWISE_UPSTREAM_PROXY: 'env' })).toMatchObject({ overrides: { upstream: { proxy: 'env' } } });
  });
});
