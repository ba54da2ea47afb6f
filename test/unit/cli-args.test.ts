import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import defaultsJson from '../../config/default.json' with { type: 'json' };
import { parseArgs, type ParsedArgs } from '../../src/cli/args.js';
import { RUN_FLAGS, envName, envOf } from '../../src/cli/options.js';
import { loadConfig } from '../../src/config/load.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function run(argv: string[], env: NodeJS.ProcessEnv = {}): Extract<ParsedArgs, { command: 'run' }> {
  const parsed = parseArgs(argv, env);
  if (parsed.command !== 'run') throw new Error(`expected run, got ${JSON.stringify(parsed)}`);
  return parsed;
}

function usageError(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  const parsed = parseArgs(argv, env);
  if (parsed.command !== 'error') throw new Error(`expected an error, got ${JSON.stringify(parsed)}`);
  expect(parsed.exitCode).toBe(2);
  return parsed.message;
}

function printed(argv: string[]): string {
  const parsed = parseArgs(argv, {});
  if (parsed.command !== 'print') throw new Error(`expected print, got ${JSON.stringify(parsed)}`);
  expect(parsed.exitCode).toBe(0);
  return parsed.text;
}

describe('run: every flag maps to its config key', () => {
  it.each<[string[], Record<string, unknown>]>([
    [['--mode', 'gateway'], { mode: 'gateway' }],
    [['--host', '::1'], { listen: { host: '::1' } }],
    [['--port', '9000'], { listen: { port: 9000 } }],
    [['--port=0'], { listen: { port: 0 } }],
    [['--target', 'http://127.0.0.1:9000'], { target: 'http://127.0.0.1:9000' }],
    [['--preserve-host'], { preserveHost: true }],
    [['--no-preserve-host'], { preserveHost: false }],
    [['--forwarded', 'rfc7239'], { forwarded: 'rfc7239' }],
    [['--via-pseudonym', 'edge-1'], { via: { pseudonym: 'edge-1' } }],
    [['--log-level', 'debug'], { log: { level: 'debug' } }],
    [['--log-format', 'json'], { log: { format: 'json' } }],
    [['--access-log'], { log: { access: true } }],
    [['--no-access-log'], { log: { access: false } }],
    [['--stats-interval', '2.5'], { stats: { interval: 2.5 } }],
    [['--admin'], { admin: { enabled: true } }],
    [['--no-admin'], { admin: { enabled: false } }],
    [['--admin-host', '127.0.0.2'], { admin: { host: '127.0.0.2' } }],
    [['--admin-port', '9091'], { admin: { port: 9091 } }],
    [['--max-sockets', '8'], { upstream: { maxSockets: 8 } }],
    [['--drain-timeout', '2500'], { shutdown: { drainTimeout: 2500 } }],
    [['--workers', 'auto'], { workers: 'auto' }],
    [['--workers', '4'], { workers: 4 }],
    [['--port', '1', '--port', '2'], { listen: { port: 2 } }],
    [['--allow-client', '10.0.0.0/8'], { access: { clients: ['10.0.0.0/8'] } }],
    [['--allow-client', '10.0.0.0/8', '--allow-client', '::1, 192.168.0.0/16'], { access: { clients: ['10.0.0.0/8', '::1', '192.168.0.0/16'] } }],
    [['--allow-client=10.1.2.3', '--port', '0', '--allow-client', 'fd00::/8'], { access: { clients: ['10.1.2.3', 'fd00::/8'] }, listen: { port: 0 } }],
    [['run', '--port', '9000', '--log-level', 'warn'], { listen: { port: 9000 }, log: { level: 'warn' } }],
    [[], {}],
  ])('%j', (argv, overrides) => {
    const parsed = run(argv);
    expect(parsed.overrides).toEqual(overrides);
    expect(parsed.configFile).toBeUndefined();
  });

  it.each([['--config'], ['run', '--config']])('%j FILE names the config file, not an override', (...flags) => {
    const parsed = run([...flags, 'conf/staging.yaml']);
    expect(parsed).toEqual({ command: 'run', configFile: 'conf/staging.yaml', overrides: {} });
  });

  it('produces overrides that loadConfig accepts', () => {
    const argv = ['--mode', 'gateway', '--target', 'http://127.0.0.1:9000', '--port', '0', '--no-admin', '--workers', 'auto'];
    const c = loadConfig({ overrides: run(argv).overrides });
    expect([c.mode, c.target, c.listen.port, c.admin.enabled, c.workers]).toEqual([
      'gateway',
      'http://127.0.0.1:9000',
      0,
      false,
      'auto',
    ]);
  });
});

describe('run: HOPWISE_* environment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each<[NodeJS.ProcessEnv, string[], Record<string, unknown>, string | undefined]>([
    [{ HOPWISE_PORT: '9000' }, [], { listen: { port: 9000 } }, undefined],
    [{ HOPWISE_ADMIN: 'false' }, [], { admin: { enabled: false } }, undefined],
    [{ HOPWISE_ACCESS_LOG: '0' }, [], { log: { access: false } }, undefined],
    [{ HOPWISE_PRESERVE_HOST: 'TRUE' }, [], { preserveHost: true }, undefined],
    [{ HOPWISE_LOG_LEVEL: 'debug', HOPWISE_WORKERS: 'auto' }, [], { log: { level: 'debug' }, workers: 'auto' }, undefined],
    [{ HOPWISE_CONFIG: '/etc/hopwise.yaml' }, [], {}, '/etc/hopwise.yaml'],
    [{ HOPWISE_PORT: '9000' }, ['--port', '9100'], { listen: { port: 9100 } }, undefined],
    [{ HOPWISE_ADMIN: 'true' }, ['--no-admin'], { admin: { enabled: false } }, undefined],
    [{ HOPWISE_CONFIG: 'env.yaml' }, ['--config', 'flag.yaml'], {}, 'flag.yaml'],
    [{ HOPWISE_PORT: '' }, [], {}, undefined],
    [{ HOPWISE_ACCESS_CLIENTS: '10.0.0.0/8, 172.16.0.0/12' }, [], { access: { clients: ['10.0.0.0/8', '172.16.0.0/12'] } }, undefined],
    [{ HOPWISE_ACCESS_CLIENTS: '10.0.0.0/8' }, ['--allow-client', '::1'], { access: { clients: ['::1'] } }, undefined],
    [{ PORT: '1', HOME: '/root', HOPWISEPORT: '2' }, [], {}, undefined],
  ])('%j %j', (env, argv, overrides, configFile) => {
    const parsed = run(argv, env);
    expect(parsed.overrides).toEqual(overrides);
    expect(parsed.configFile).toBe(configFile);
  });

  it.each<[NodeJS.ProcessEnv, RegExp]>([
    [{ HOPWISE_PROT: '9000' }, /^unknown environment variable HOPWISE_PROT; known: HOPWISE_CONFIG, /],
    [{ HOPWISE_PORT: 'eighty' }, /^HOPWISE_PORT: expected an integer from 0 to 65535, got "eighty"$/],
    [{ HOPWISE_ADMIN: 'off' }, /^HOPWISE_ADMIN: expected true, false, 1 or 0, got "off"$/],
    [{ HOPWISE_MODE: 'reverse' }, /^HOPWISE_MODE: expected one of forward, gateway, dumb, naive, got "reverse"$/],
    [{ HOPWISE_WORKERS: 'many' }, /^HOPWISE_WORKERS: expected a positive integer or auto, got "many"$/],
    [{ HOPWISE_ACCESS_CLIENTS: '10.0.0.0/8,everyone' }, /^HOPWISE_ACCESS_CLIENTS: expected an IP address or CIDR such as 10\.0\.0\.0\/8 or ::1, got "everyone"$/],
    [{ HOPWISE_ALLOW_CLIENT: '10.0.0.0/8' }, /^unknown environment variable HOPWISE_ALLOW_CLIENT; known: .*HOPWISE_ACCESS_CLIENTS/],
  ])('%j is a usage error', (env, message) => {
    expect(usageError([], env)).toMatch(message);
  });

  it('reads only the env argument, never process.env', () => {
    vi.stubEnv('HOPWISE_PORT', '1234');
    expect(run([], {}).overrides).toEqual({});
  });

  it.each(RUN_FLAGS.filter((f) => f.env === undefined).map((f) => [f.flag, envName(f.flag)]))('--%s ↔ %s', (flag, name) => {
    expect(name).toBe(`HOPWISE_${flag.toUpperCase().replaceAll('-', '_')}`);
  });
  it('--allow-client ↔ HOPWISE_ACCESS_CLIENTS (named after the key it sets), the only flag with its own name', () => {
    expect(RUN_FLAGS.filter((f) => f.env !== undefined).map((f) => [f.flag, envOf(f)])).toEqual([['allow-client', 'HOPWISE_ACCESS_CLIENTS']]);
  });
});

describe('usage errors exit 2 and never print help', () => {
  it.each<[string[], RegExp]>([
    [['--bogus'], /^Unknown argument: bogus\nRun "hopwise --help" for usage\.$/],
    [['--port'], /Not enough arguments following: port/],
    [['--port', 'x'], /^--port: expected an integer from 0 to 65535, got "x"/],
    [['--port', '70000'], /^--port: expected an integer from 0 to 65535, got "70000"/],
    [['--port', '0x50'], /^--port: expected an integer/],
    [['--port='], /^--port: expected an integer from 0 to 65535, got ""/],
    [['--no-port'], /^--port needs a value/],
    [['--mode', 'reverse'], /Invalid values:\n {2}Argument: mode, Given: "reverse"/],
    [['--log-format', 'xml'], /Argument: log-format, Given: "xml"/],
    [['--workers', '0'], /^--workers: expected a positive integer or auto, got "0"/],
    [['--stats-interval', '-1'], /--stats-interval/],
    [['--host', ''], /^--host: expected a value/],
    [['--allow-client'], /Not enough arguments following: allow-client/],
    [['--allow-client', 'everyone'], /^--allow-client: expected an IP address or CIDR such as 10\.0\.0\.0\/8 or ::1, got "everyone"/],
    [['--allow-client', 'everyone', '--allow-client', '10.0.0.0/8'], /^--allow-client: expected an IP address or CIDR .*got "everyone"/],
    [['extra'], /^Unknown argument: extra/],
    [['statz'], /^Unknown argument: statz/],
    [['stats', '--port', '1'], /^Unknown argument: port\nRun "hopwise stats --help"/],
    [['stats', '--admin', 'ftp://127.0.0.1'], /^--admin: expected an http:\/\/ or https:\/\/ URL/],
    [['stats', '--admin', 'not a url'], /^--admin: expected an http:\/\/ or https:\/\/ URL/],
    [['demo'], /^Missing required argument: name/],
    [['demo', 'teleport'], /Argument: name, Given: "teleport", Choices: "dumb-proxy", "proxy-connection", "pooling"/],
    [['demo', 'pooling', '--requests', '0'], /^--requests: expected a positive integer, got "0"/],
    [['demo', 'pooling', '--idle-timeout', 'soon'], /^--idle-timeout: expected a non-negative integer, got "soon"/],
    [['demo', 'pooling', 'extra'], /^Unknown argument: extra\nRun "hopwise demo --help"/],
    [['hash-password', '--password', 'x'], /^Unknown argument: password/],
  ])('%j', (argv, message) => {
    const text = usageError(argv);
    expect(text).toMatch(message);
    expect(text).not.toContain('Options:');
  });
});

describe('subcommands', () => {
  it.each<[string[], ParsedArgs]>([
    [['stats'], { command: 'stats', adminUrl: 'http://127.0.0.1:8081', json: false }],
    [['stats', '--json'], { command: 'stats', adminUrl: 'http://127.0.0.1:8081', json: true }],
    [['stats', '--admin', 'http://127.0.0.1:9091', '--json'], { command: 'stats', adminUrl: 'http://127.0.0.1:9091', json: true }],
    [['demo', 'dumb-proxy'], { command: 'demo', name: 'dumb-proxy' }],
    [['demo', 'proxy-connection', '--idle-timeout', '0'], { command: 'demo', name: 'proxy-connection', idleTimeout: 0 }],
    [
      ['demo', 'pooling', '--svg', 'out', '--json', 'out.json', '--idle-timeout', '1500', '--requests', '20'],
      { command: 'demo', name: 'pooling', svgDir: 'out', jsonFile: 'out.json', idleTimeout: 1500, requests: 20 },
    ],
    [['hash-password'], { command: 'hash-password' }],
  ])('%j', (argv, expected) => {
    expect(parseArgs(argv, {})).toStrictEqual(expected);
  });

  it.each<[NodeJS.ProcessEnv, string[], string]>([
    [{ HOPWISE_PORT: '9000' }, [], 'http://127.0.0.1:9001'],
    [{ HOPWISE_ADMIN_PORT: '9191' }, [], 'http://127.0.0.1:9191'],
    [{ HOPWISE_PORT: '9000', HOPWISE_ADMIN_PORT: '9191' }, [], 'http://127.0.0.1:9191'],
    [{ HOPWISE_ADMIN_HOST: '0.0.0.0', HOPWISE_ADMIN_PORT: '9191' }, [], 'http://127.0.0.1:9191'],
    [{ HOPWISE_ADMIN_HOST: '::1', HOPWISE_PORT: '9000' }, [], 'http://[::1]:9001'],
    [{ HOPWISE_ADMIN_HOST: '::' }, [], 'http://[::1]:8081'],
    [{ HOPWISE_PORT: '9000' }, ['--admin', 'http://127.0.0.1:7000'], 'http://127.0.0.1:7000'],
    [{ HOPWISE_PORT: '' }, [], 'http://127.0.0.1:8081'],
  ])('stats with %j %j asks %s, as the proxy started with that environment listens there', (env, argv, adminUrl) => {
    expect(parseArgs(['stats', ...argv], env)).toEqual({ command: 'stats', adminUrl, json: false });
  });

  it.each<[NodeJS.ProcessEnv, RegExp]>([
    [{ HOPWISE_PORT: 'x' }, /^HOPWISE_PORT: expected an integer from 0 to 65535, got "x"\nRun "hopwise stats --help"/],
    [{ HOPWISE_PORT: '0' }, /^the admin port is ephemeral .*pass --admin/],
  ])('stats with %j is a usage error', (env, message) => {
    expect(usageError(['stats'], env)).toMatch(message);
  });

  it('subcommands ignore HOPWISE_* run settings', () => {
    expect(parseArgs(['stats'], { HOPWISE_PROT: '1' })).toEqual({
      command: 'stats',
      adminUrl: 'http://127.0.0.1:8081',
      json: false,
    });
  });
});

describe('--help and --version are printed, exit 0', () => {
  it.each([['--version'], ['stats', '--version']])('%j prints the package.json version', (...argv) => {
    expect(printed(argv)).toBe(pkg.version);
  });

  it('an explicit version wins (main or tests can pass one)', () => {
    expect(parseArgs(['--version'], {}, { version: '9.9.9' })).toEqual({ command: 'print', text: '9.9.9', exitCode: 0 });
  });

  const help = printed(['--help']);
  it.each(['Proxy:', 'Logging:', 'Admin:', 'Connections:', 'Commands:'])('top-level help has the %s group', (group) => {
    expect(help).toContain(`\n${group}\n`);
  });
  it.each(RUN_FLAGS.map((f) => f.flag))('top-level help lists --%s', (flag) => {
    expect(help).toMatch(new RegExp(`--${flag}\\s`));
  });
  it.each(['hopwise stats', 'hopwise demo <name>', 'hopwise hash-password', 'HOPWISE_<OPTION>', 'exits with code 2'])(
    'top-level help mentions %s',
    (text) => {
      expect(help.replace(/\s+/g, ' ')).toContain(text);
    },
  );
  it('help shows the real defaults without setting them', () => {
    const flat = help.replace(/\s+/g, ' ');
    expect(flat).toMatch(/--port [^[]*\(listen\.port\) \[default: 8080\]/);
    expect(flat).toMatch(/--admin-port [^[]*\(admin\.port\) \[default: port \+ 1\]/);
    expect(run([]).overrides).toEqual({});
  });
  it.each([['--help'], ['stats', '--help'], ['hash-password', '--help']])('%j shows Examples:', (...argv) => {
    const text = printed(argv);
    expect(text).toMatch(/\nExamples:\n {2}(hopwise|HOPWISE_|printf)/);
  });
  it.each([['--help'], ['stats', '--help'], ['hash-password', '--help'], ['demo', '--help']])('%j cites no SPEC section (users do not have it)', (...argv) => {
    expect(printed(argv)).not.toContain('SPEC');
  });
  it('-h is --help', () => {
    expect(printed(['-h'])).toBe(help);
  });

  it.each<[string[], string[]]>([
    [['stats', '--help'], ['hopwise stats', '--admin', '--json', '[default: http://127.0.0.1:8081]']],
    [['demo', '--help'], ['hopwise demo <name>', 'dumb-proxy', '--svg', '--json', '--idle-timeout', '--requests']],
    [['hash-password', '--help'], ['hopwise hash-password', 'stdin']],
  ])('%j', (argv, fragments) => {
    const text = printed(argv);
    for (const f of fragments) expect(text).toContain(f);
    expect(text).not.toContain('Connections:');
  });
});

describe('the flag table agrees with config/default.json', () => {
  // Help must show the real defaults; two flags describe a null default in words.
  const worded: Record<string, string> = { target: 'none', 'admin-port': 'port + 1' };
  it.each(RUN_FLAGS.filter((f) => f.key !== null).map((f) => [f.flag, f.key as string, f.defaultDescription]))(
    '--%s (%s) shows default %s',
    (flag, key, shown) => {
      const value = key.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], defaultsJson);
      expect(value).not.toBeUndefined();
      expect(shown).toBe(worded[flag] ?? String(value));
    },
  );
});
