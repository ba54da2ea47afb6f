import { describe, expect, it } from 'vitest';
import defaultsJson from '../../config/default.json' with { type: 'json' };
import { deepMerge } from '../../src/config/merge.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { resolvedAdminPort, semanticIssues } from '../../src/config/validate.js';
import { isLoopbackHost } from '../../src/policy/address.js';

const { $comment: _comment, ...defaults } = defaultsJson as Record<string, unknown>;

/** A schema-valid Config: the defaults with `patch` layered on (objects merge, arrays replace). */
function cfg(patch: Record<string, unknown>): Config {
  return configSchema.parse(deepMerge(defaults, patch));
}

const EXPOSED = { listen: { host: '0.0.0.0' }, access: { clients: ['10.0.0.0/8'] } };
const route = (port: number, host = '127.0.0.1') => ({ listen: { host, port }, target: 'http://127.0.0.1:9000' });

// The one loopback test (policy/address.ts), used by validation's exposure rules.
describe('isLoopbackHost', () => {
  it.each<[string, boolean]>([
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['[::ffff:7f00:1]', true],
    [' 127.0.0.1 ', true],
    ['fe80::1%lo0', false],
    ['127.1', false],
    ['localhost', true],
    ['LOCALHOST', true],
    ['localhost.', true],
    ['0.0.0.0', false],
    ['::', false],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['192.168.1.10', false],
    ['example.com', false],
    ['localhost.example.com', false],
    ['127.0.0.1.nip.io', false],
    ['', false],
  ])('%j → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('semanticIssues', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['defaults are coherent', {}, []],
    ['gateway with a target', { mode: 'gateway', target: 'http://127.0.0.1:9000' }, []],
    ['gateway with routes only', { mode: 'gateway', routes: [route(9001)] }, []],
    ['gateway with neither target nor routes', { mode: 'gateway' }, ['target']],
    ['forward with a target', { target: 'http://127.0.0.1:9000' }, ['target']],
    ['forward with routes', { routes: [route(9001)] }, ['routes']],
    ['dumb on loopback', { mode: 'dumb' }, []],
    ['naive on ::1', { mode: 'naive', listen: { host: '::1' } }, []],
    ['dumb on localhost', { mode: 'dumb', listen: { host: 'localhost' } }, []],
    ['dumb beyond loopback, even with an access rule', { ...EXPOSED, mode: 'dumb' }, ['listen.host']],
    ['naive beyond loopback', { mode: 'naive', listen: { host: '192.168.1.10' } }, ['listen.host', 'access.clients']],
    ['0.0.0.0 with the loopback-only default clients', { listen: { host: '0.0.0.0' } }, ['access.clients']],
    ['0.0.0.0 with an explicit client range', EXPOSED, []],
    ['0.0.0.0 with only loopback clients', { ...EXPOSED, access: { clients: ['127.0.0.1/32'] } }, ['access.clients']],
    ['0.0.0.0 with no clients at all', { ...EXPOSED, access: { clients: [] } }, ['access.clients']],
    ['a route beyond loopback', { mode: 'gateway', routes: [route(9001, '::')] }, ['access.clients']],
    ['client entries must be addresses or CIDRs', { access: { clients: ['::1', '10.0.0.0/33', 'lan', '1.2.3.4/8/9'] } }, [
      'access.clients[1]',
      'access.clients[2]',
      'access.clients[3]',
    ]],
    ['admin.port equal to listen.port', { admin: { port: 8080 } }, ['admin.port']],
    ['admin.port equal to listen.port, admin disabled', { admin: { port: 8080, enabled: false } }, []],
    ['both ports 0 (ephemeral)', { listen: { port: 0 }, admin: { port: 0 } }, []],
    ['admin.port null with listen.port 65535', { listen: { port: 65535 } }, ['admin.port']],
    ['admin.port null lands on a route port', { mode: 'gateway', routes: [route(8081)] }, ['admin.port']],
    ['two routes on one port', { mode: 'gateway', routes: [route(9001), route(9001, '127.0.0.2')] }, ['routes[1].listen.port']],
    ['a route on the main port', { mode: 'gateway', routes: [route(8080)] }, ['routes[0].listen.port']],
    ['routes on port 0 never clash', { mode: 'gateway', routes: [route(0), route(0)] }, []],
    ['per-origin upstream settings', { upstream: { origins: [{ origin: 'http://10.0.0.5:3128', maxRequestsPerSocket: 1 }, { origin: 'https://api.internal', idleTimeout: 500 }] } }, []],
    ['one origin listed twice in another spelling', { upstream: { origins: [{ origin: 'http://Legacy.internal' }, { origin: 'http://legacy.internal:80/' }] } }, [
      'upstream.origins[1].origin',
    ]],
    ['http and https of one host are two origins', { upstream: { origins: [{ origin: 'http://a.internal' }, { origin: 'https://a.internal' }] } }, []],
    ['an origin with userinfo is refused', { upstream: { origins: [{ origin: 'http://user@a.internal' }] } }, ['upstream.origins[0].origin']],
  ])('%s', (_name, patch, paths) => {
    expect(semanticIssues(cfg(patch)).map((i) => i.path)).toEqual(paths);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['gateway names both remedies', { mode: 'gateway' }, /needs a target origin .* or at least one entry in routes/],
    ['forward explains why', { target: 'http://127.0.0.1:9000' }, /forward mode .* must not have a target/],
    ['dumb names the host', { mode: 'dumb', listen: { host: '::' } }, /only binds loopback .*got "::"/],
    ['exposure asks for an explicit access rule', { listen: { host: '0.0.0.0' } }, /listening on 0\.0\.0\.0 .*explicit access rule.*--allow-client 10\.0\.0\.0\/8 \(repeatable\), HOPWISE_ACCESS_CLIENTS=.*access\.clients/],
    ['port clash names the other listener', { admin: { port: 8080 } }, /port 8080 is already used by listen\.port/],
    ['implicit admin port says where it came from', { mode: 'gateway', routes: [route(8081)] }, /listen\.port \+ 1/],
    ['a duplicate origin names the first entry and the pool key', { upstream: { origins: [{ origin: 'http://A' }, { origin: 'http://a:80' }] } }, /http:\/\/a:80 is already configured by upstream\.origins\[0\]/],
  ])('message: %s', (_name, patch, message) => {
    const issues = semanticIssues(cfg(patch));
    expect(issues[0]?.message).toMatch(message);
  });
});

describe('resolvedAdminPort', () => {
  it.each<[Record<string, unknown>, number]>([
    [{}, 8081],
    [{ admin: { port: 9090 } }, 9090],
    [{ admin: { port: 0 } }, 0],
    [{ listen: { port: 0 } }, 0],
    [{ listen: { port: 3000 } }, 3001],
  ])('%j → %i', (patch, port) => {
    expect(resolvedAdminPort(cfg(patch))).toBe(port);
  });
});
