import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfigPath, loadConfig, packageVersion, type ConfigOverrides } from '../../src/config/load.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hopwise-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `text` to a file named `name` in the temp dir and returns its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The ConfigError thrown by `fn` (fails the test if it returns or throws something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const defaults = JSON.parse(readFileSync(defaultConfigPath(), 'utf8')) as Record<string, unknown>;
const { $comment: _comment, ...defaultSettings } = defaults;

describe('defaults', () => {
  it('validate, equal config/default.json without $-keys, and come back deep-frozen', () => {
    const c = loadConfig();
    expect(c).toEqual(defaultSettings);
    expect(c).not.toHaveProperty('$comment');
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.listen)).toBe(true);
    expect(Object.isFrozen(c.access.clients)).toBe(true);
    expect(() => {
      (c.listen as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('are found relative to the module, and the package version too', () => {
    expect(defaultConfigPath()).toMatch(/[/\\]config[/\\]default\.json$/);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(packageVersion()).toBe(pkg.version);
  });
});

describe('precedence: defaults < file < overrides', () => {
  const fileText = JSON.stringify({
    listen: { port: 9000 },
    log: { level: 'debug' },
    access: { clients: ['10.0.0.0/8'] },
  });
  it.each<[string, ConfigOverrides | undefined, (c: ReturnType<typeof loadConfig>) => unknown, unknown]>([
    ['file over defaults', undefined, (c) => c.listen.port, 9000],
    ['objects merge: sibling keys keep their defaults', undefined, (c) => c.log.format, 'auto'],
    ['objects merge: host untouched by a port-only file', undefined, (c) => c.listen.host, '127.0.0.1'],
    ['arrays replace, never append', undefined, (c) => c.access.clients, ['10.0.0.0/8']],
    ['overrides over file', { listen: { port: 9100 } }, (c) => c.listen.port, 9100],
    ['undefined in overrides means not given', { listen: { port: undefined } }, (c) => c.listen.port, 9000],
    ['overrides over defaults', { log: { format: 'json' } }, (c) => c.log.format, 'json'],
    ['override arrays replace', { access: { clients: ['192.168.0.0/16'] } }, (c) => c.access.clients, ['192.168.0.0/16']],
    ['null is a value, not "not given"', { admin: { port: null } }, (c) => c.admin.port, null],
  ])('%s', (_name, overrides, pick, expected) => {
    const c = loadConfig({ file: file('c.json', fileText), overrides });
    expect(pick(c)).toEqual(expected);
  });

  it('does not mutate or freeze the caller’s overrides', () => {
    const overrides = { access: { clients: ['10.0.0.0/8'] } };
    loadConfig({ overrides });
    expect(Object.isFrozen(overrides.access.clients)).toBe(false);
    expect(overrides).toEqual({ access: { clients: ['10.0.0.0/8'] } });
  });
});

describe('file formats', () => {
  const yaml = 'listen:\n  port: 9000\nlog:\n  format: json\nworkers: auto\n';
  it.each([
    ['c.json', JSON.stringify({ listen: { port: 9000 }, log: { format: 'json' }, workers: 'auto' })],
    ['c.yaml', yaml],
    ['c.yml', yaml],
    ['C.YAML', yaml],
    ['bom.json', `\uFEFF${JSON.stringify({ listen: { port: 9000 }, log: { format: 'json' }, workers: 'auto' })}`],
  ])('%s loads', (name, text) => {
    const c = loadConfig({ file: file(name, text) });
    expect([c.listen.port, c.log.format, c.workers]).toEqual([9000, 'json', 'auto']);
  });

  it('ignores top-level $-keys in the user file', () => {
    const c = loadConfig({ file: file('c.json', JSON.stringify({ $schema: 'x', $comment: 'y', listen: { port: 1 } })) });
    expect(c.listen.port).toBe(1);
  });

  it('treats an empty YAML file as no settings', () => {
    expect(loadConfig({ file: file('empty.yaml', '# nothing yet\n') })).toEqual(defaultSettings);
  });

  it.each<[string, string, string, RegExp]>([
    ['bad.json', 'JSON syntax error', '{\n  "listen": {\n    "port" 9000\n  }\n}\n', /invalid JSON at line 3, column 12/],
    ['bad.yaml', 'YAML indentation error', 'listen:\n  port: 9000\n log: x\n', /invalid YAML at line 3, column 1/],
    ['dup.yaml', 'duplicate YAML key', 'listen:\n  port: 1\n  port: 2\n', /invalid YAML at line 3, column 3: Map keys must be unique/],
    ['list.yaml', 'a list at the top level', '- 1\n- 2\n', /expected an object of settings at the top level, got an array/],
    ['scalar.json', 'a number at the top level', '42', /expected an object of settings at the top level, got 42/],
    ['empty.json', 'an empty JSON file', '', /invalid JSON/],
  ])('%s (%s) is a ConfigError naming the file', (name, _what, text, message) => {
    const path = file(name, text);
    const err = configError(() => loadConfig({ file: path }));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.path).toBe(path);
    expect(err.issues[0]?.message).toMatch(message);
    expect(err.message).toContain(path);
  });

  it('a missing file is a ConfigError naming the file', () => {
    const path = join(dir, 'nope.yaml');
    const err = configError(() => loadConfig({ file: path }));
    expect(err.issues).toEqual([{ path, message: 'cannot read config file: file not found' }]);
  });

  it('a directory is a ConfigError naming it', () => {
    const sub = join(dir, 'sub.json');
    mkdirSync(sub);
    expect(configError(() => loadConfig({ file: sub })).issues).toEqual([
      { path: sub, message: 'cannot read config file: is a directory' },
    ]);
  });

  it('a __proto__ key is an unknown key, not a prototype change', () => {
    const err = configError(() => loadConfig({ file: file('p.json', '{"__proto__": {"polluted": true}}') }));
    expect(err.issues.map((i) => i.path)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('unknown keys are errors naming their dotted path', () => {
  it.each<[string, unknown, string, RegExp]>([
    ['top level', { bogus: 1 }, 'bogus', /^unknown key \(expected one of: mode, listen, /],
    ['typo at depth 2', { downstream: { keepAlivetimeout: 1 } }, 'downstream.keepAlivetimeout', /did you mean "keepAliveTimeout"\?/],
    ['typo at depth 2', { listen: { prot: 1 } }, 'listen.prot', /did you mean "port"\?/],
    [
      'inside an array element',
      { mode: 'gateway', routes: [{ listen: { host: '127.0.0.1', port: 9001, tls: true }, target: 'http://127.0.0.1:9' }] },
      'routes[0].listen.tls',
      /^unknown key/,
    ],
    ['a $-key below the top level', { log: { $comment: 'x' } }, 'log.$comment', /^unknown key/],
  ])('%s: %j', (_name, settings, path, message) => {
    const err = configError(() => loadConfig({ file: file('c.json', JSON.stringify(settings)) }));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.path).toBe(path);
    expect(err.issues[0]?.message).toMatch(message);
  });
});

describe('wrong types give the path and what was expected', () => {
  it.each<[unknown, string, string]>([
    [{ downstream: { keepAliveTimeout: '5s' } }, 'downstream.keepAliveTimeout', 'expected a non-negative integer (milliseconds), got "5s"'],
    [{ downstream: { maxBodySize: 1.5 } }, 'downstream.maxBodySize', 'expected a non-negative integer (bytes), got 1.5'],
    [{ listen: { port: 70000 } }, 'listen.port', 'expected an integer from 0 to 65535, got 70000'],
    [{ listen: 8080 }, 'listen', 'expected an object with keys host, port, got 8080'],
    [{ listen: { host: '' } }, 'listen.host', 'expected a non-empty string, got ""'],
    [{ mode: 'reverse' }, 'mode', 'expected one of "forward", "gateway", "dumb", "naive", got "reverse"'],
    [{ workers: 0 }, 'workers', 'expected a positive integer or "auto", got 0'],
    [{ stats: { interval: -1 } }, 'stats.interval', 'expected a non-negative number (seconds), got -1'],
    [{ log: { access: 'yes' } }, 'log.access', 'expected true or false, got "yes"'],
    [{ admin: { port: 'x' } }, 'admin.port', 'expected an integer from 0 to 65535 or null, got "x"'],
    [{ tunnel: { allowedPorts: [443, 'x'] } }, 'tunnel.allowedPorts[1]', 'expected an integer from 0 to 65535, got "x"'],
    [{ tunnel: { allowedPorts: 443 } }, 'tunnel.allowedPorts', 'expected an array, got 443'],
    [{ via: { pseudonym: 'a b' } }, 'via.pseudonym', 'expected a token: letters, digits, . _ -, got "a b"'],
    [
      { mode: 'gateway', target: 'http://127.0.0.1:9000/api' },
      'target',
      'expected an origin URL such as http://127.0.0.1:9000 (scheme, host, optional port, no path), got "http://127.0.0.1:9000/api"',
    ],
    [{ mode: 'gateway', routes: [{ target: 'http://127.0.0.1:9' }] }, 'routes[0].listen', 'expected an object with keys host, port, but it is missing'],
  ])('%j', (settings, path, message) => {
    const err = configError(() => loadConfig({ file: file('c.json', JSON.stringify(settings)) }));
    expect(err.issues).toEqual([{ path, message }]);
    expect(err.message).toBe(`invalid configuration:\n  ${path}: ${message}`);
  });

  it('reports every problem at once, one line each', () => {
    const overrides = { listen: { port: -1 }, log: { level: 'loud' } } as unknown as ConfigOverrides;
    const err = configError(() => loadConfig({ overrides }));
    expect(err.issues.map((i) => i.path)).toEqual(['listen.port', 'log.level']);
    expect(err.message.split('\n')).toHaveLength(3);
  });
});

describe('semantic checks run after the schema', () => {
  it.each<[ConfigOverrides, string]>([
    [{ mode: 'gateway' }, 'target'],
    [{ listen: { host: '0.0.0.0' } }, 'access.clients'],
    [{ admin: { port: 8080 } }, 'admin.port'],
  ])('%j → %s', (overrides, path) => {
    expect(configError(() => loadConfig({ overrides })).issues.map((i) => i.path)).toEqual([path]);
  });
});

describe('example configs', () => {
  const examples = new URL('../../config/', import.meta.url);
  it.each<[string, (c: ReturnType<typeof loadConfig>) => unknown, unknown]>([
    ['dev.example.yaml', (c) => [c.mode, c.log.level, c.stats.interval], ['forward', 'debug', 5]],
    [
      'staging.example.yaml',
      (c) => [c.mode, c.target, c.log.format, c.stats.interval, c.admin.host],
      ['gateway', 'http://10.0.12.7:9000', 'json', 60, '127.0.0.1'],
    ],
  ])('%s loads and validates', (name, pick, expected) => {
    const c = loadConfig({ file: fileURLToPath(new URL(name, examples)) });
    expect(pick(c)).toEqual(expected);
  });
});
