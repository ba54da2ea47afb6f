/**
 * The `run` command's flags as data: one row per flag with its config key, value parser and help text. `args.ts`
 * builds the yargs options from it and this module reads the `HOPWISE_*` environment from it, so a flag and its
 * environment variable can never disagree. Pure: the environment is an argument, never `process.env`.
 */
import { configSchema } from '../config/schema.js';
import { parseCidr } from '../policy/address.js';

/** Help-text groups, in display order. */
export type FlagGroup = 'Proxy' | 'Logging' | 'Admin' | 'Connections';

/** One `run` flag. */
export interface RunFlag {
  /** Long name without dashes, kebab-case: `admin-port` is `--admin-port` and `HOPWISE_ADMIN_PORT`. */
  readonly flag: string;
  /** Dotted config key it overrides; null for `--config`, which names the file instead. */
  readonly key: string | null;
  /** `switch` flags are booleans and take `--no-<flag>`; `value` flags need an argument. */
  readonly kind: 'switch' | 'value';
  readonly group: FlagGroup;
  /** Help text, naming the unit where there is one. */
  readonly describe: string;
  /** The default as shown in help (the real one lives in config/default.json; a unit test keeps them equal). */
  readonly defaultDescription?: string;
  readonly choices?: readonly string[];
  /** Converts the raw text of a value flag; throws an Error whose message says what was expected. */
  readonly parse?: (raw: string) => unknown;
  /** The flag may be given several times; the values (arrays) are concatenated in order. */
  readonly repeatable?: boolean;
  /** The environment variable, when it is not HOPWISE_<FLAG> (see {@link envName}). */
  readonly env?: string;
}

const shape = configSchema.shape;

/** Every `run` flag, in help order. */
export const RUN_FLAGS: readonly RunFlag[] = Object.freeze([
  value('config', null, 'Proxy', undefined, text, 'JSON or YAML (.yaml/.yml) file, layered over the built-in defaults'),
  choice('mode', 'mode', 'Proxy', 'forward', shape.mode.options,
    'forward: absolute-URI requests and CONNECT; gateway: one fixed --target; ' +
      'dumb, naive: workshop demos (loopback only)'),
  value('host', 'listen.host', 'Proxy', '127.0.0.1', text,
    'address to bind; beyond loopback (e.g. 0.0.0.0) also needs --allow-client'),
  value('port', 'listen.port', 'Proxy', '8080', integer(0, 65535), 'TCP port to listen on; 0 picks a free one'),
  {
    ...value('allow-client', 'access.clients', 'Proxy', '127.0.0.0/8,::1/128', cidrs,
      'client address or CIDR allowed to use the proxy; repeat the flag or separate with commas ' +
        '(HOPWISE_ACCESS_CLIENTS=10.0.0.0/8,192.168.0.0/16); replaces the configured list'),
    repeatable: true,
    env: 'HOPWISE_ACCESS_CLIENTS',
  },
  value('target', 'target', 'Proxy', 'none', text,
    'gateway mode: URL of the upstream origin, e.g. http://127.0.0.1:9000'),
  toggle('preserve-host', 'preserveHost', 'Proxy', 'true',
    'gateway mode: pass the client Host header on; --no-preserve-host rewrites it to the target'),
  value('upstream-proxy', 'upstream.proxy', 'Proxy', 'none', text,
    'parent proxy for upstream traffic, http://[user:pass@]host:port; env = take HTTP_PROXY, HTTPS_PROXY and ' +
      'NO_PROXY from the environment (never read otherwise)'),
  choice('forwarded', 'forwarded', 'Proxy', 'auto', shape.forwarded.options,
    'client-address header to add; auto = none in forward mode, x-forwarded in gateway mode'),
  value('via-pseudonym', 'via.pseudonym', 'Proxy', 'hopwise', text,
    'name this proxy appends to the Via header (RFC 9110 §7.6.3)'),
  choice('log-level', 'log.level', 'Logging', 'info', shape.log.shape.level.options, 'least severe level logged'),
  choice('log-format', 'log.format', 'Logging', 'auto', shape.log.shape.format.options,
    'auto = pretty on a terminal, JSON lines otherwise'),
  toggle('access-log', 'log.access', 'Logging', 'true', 'log one entry per request; --no-access-log turns it off'),
  value('stats-interval', 'stats.interval', 'Logging', '60', decimal,
    'seconds between stats summaries in the log; 0 disables'),
  value('flows-size', 'flows.size', 'Admin', '1000', integer(0),
    'recent requests kept as flow records (/flows, dashboard, hopwise flows); 0 turns recording off'),
  toggle('server-timing', 'flows.serverTiming', 'Admin', 'false',
    "add a Server-Timing header with the proxy's phases to responses"),
  toggle('admin', 'admin.enabled', 'Admin', 'true',
    'serve stats, metrics and the dashboard on a separate listener; --no-admin turns it off'),
  value('admin-host', 'admin.host', 'Admin', '127.0.0.1', text, 'address the admin listener binds'),
  value('admin-port', 'admin.port', 'Admin', 'port + 1', integer(0, 65535),
    'TCP port of the admin listener; 0 picks a free one'),
  value('max-sockets', 'upstream.maxSockets', 'Connections', '64', integer(1),
    'upstream connections at most per origin'),
  value('drain-timeout', 'shutdown.drainTimeout', 'Connections', '10000', integer(0),
    'milliseconds in-flight requests get to finish after SIGTERM/SIGINT'),
  value('workers', 'workers', 'Connections', '1', workers, 'worker processes: a number, or auto for one per CPU'),
]);

/** `HOPWISE_ADMIN_PORT` for `admin-port`: the rule every flag follows unless its row names another variable. */
export function envName(flag: string): string {
  return `HOPWISE_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The environment variable of a flag row. */
export function envOf(f: RunFlag): string {
  return f.env ?? envName(f.flag);
}

/** Values read from the environment, by flag name, or the first problem found. */
export type EnvResult = { ok: true; values: ReadonlyMap<string, unknown> } | { ok: false; message: string };

/**
 * Reads every `HOPWISE_*` variable in `env`. An empty variable counts as unset (shells make "unset" awkward); an
 * unknown `HOPWISE_*` name is an error, like an unknown flag, so a typo cannot be silently ignored.
 */
export function readEnv(env: NodeJS.ProcessEnv): EnvResult {
  const byName = new Map(RUN_FLAGS.map((f) => [envOf(f), f]));
  const values = new Map<string, unknown>();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('HOPWISE_') || raw === undefined || raw === '') continue;
    const flag = byName.get(name);
    if (flag === undefined) {
      const known = [...byName.keys()].join(', ');
      return { ok: false, message: `unknown environment variable ${name}; known: ${known}` };
    }
    try {
      values.set(flag.flag, parseEnvValue(flag, raw));
    } catch (err) {
      return { ok: false, message: `${name}: ${(err as Error).message}` };
    }
  }
  return { ok: true, values };
}

/**
 * The admin URL a running `hopwise` started with the same environment listens on, for `hopwise stats`:
 * HOPWISE_ADMIN_HOST (a wildcard address means this machine's loopback), HOPWISE_ADMIN_PORT, else HOPWISE_PORT + 1.
 * Undefined when none is set; other HOPWISE_* variables are the run command's and are not read here.
 */
export function adminUrlFromEnv(env: NodeJS.ProcessEnv): { ok: true; url: string | undefined } | { ok: false; message: string } {
  const read = (flag: string): unknown => {
    const row = RUN_FLAGS.find((f) => f.flag === flag)!;
    const raw = env[envOf(row)];
    try {
      return raw === undefined || raw === '' ? undefined : parseEnvValue(row, raw);
    } catch (err) {
      throw new Error(`${envOf(row)}: ${(err as Error).message}`);
    }
  };
  let host: string;
  let port: number | undefined;
  let proxyPort: number | undefined;
  try {
    host = (read('admin-host') as string | undefined) ?? '127.0.0.1';
    port = read('admin-port') as number | undefined;
    proxyPort = read('port') as number | undefined;
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
  if (port === undefined && proxyPort === undefined && env.HOPWISE_ADMIN_HOST === undefined) return { ok: true, url: undefined };
  port ??= proxyPort === undefined ? 8081 : proxyPort + 1;
  if (port === 0 || proxyPort === 0) {
    return { ok: false, message: 'the admin port is ephemeral (HOPWISE_PORT or HOPWISE_ADMIN_PORT is 0): pass --admin with the URL it logged' };
  }
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  const reachable = bare === '0.0.0.0' ? '127.0.0.1' : bare === '::' ? '::1' : bare;
  return { ok: true, url: `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}` };
}

function parseEnvValue(flag: RunFlag, raw: string): unknown {
  if (flag.kind === 'switch') {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new Error(`expected true, false, 1 or 0, got ${JSON.stringify(raw)}`);
  }
  if (flag.choices !== undefined && !flag.choices.includes(raw)) {
    throw new Error(`expected one of ${flag.choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return flag.parse !== undefined ? flag.parse(raw) : raw;
}

function value(
  flag: string,
  key: string | null,
  group: FlagGroup,
  defaultDescription: string | undefined,
  parse: (raw: string) => unknown,
  describe: string,
): RunFlag {
  const shown = defaultDescription !== undefined ? { defaultDescription } : {};
  return { flag, key, kind: 'value', group, describe, parse, ...shown };
}

function choice(
  flag: string,
  key: string,
  group: FlagGroup,
  defaultDescription: string,
  choices: readonly string[],
  describe: string,
): RunFlag {
  return { flag, key, kind: 'value', group, describe, defaultDescription, choices, parse: text };
}

function toggle(flag: string, key: string, group: FlagGroup, defaultDescription: string, describe: string): RunFlag {
  return { flag, key, kind: 'switch', group, describe, defaultDescription };
}

function text(raw: string): string {
  if (raw.trim() === '') throw new Error('expected a value, got an empty string');
  return raw;
}

/** Whole decimal numbers only: `Number()` would also take '', '0x1f', '1e3' and ' 8 '. */
function integer(min: number, max?: number): (raw: string) => number {
  return (raw) => {
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (Number.isSafeInteger(n) && n >= min && (max === undefined || n <= max)) return n;
    throw new Error(`expected ${integerPhrase(min, max)}, got ${JSON.stringify(raw)}`);
  };
}

function integerPhrase(min: number, max: number | undefined): string {
  if (max !== undefined) return `an integer from ${min} to ${max}`;
  return min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
}

/** A comma-separated list of IP addresses or CIDR blocks (`10.0.0.0/8, ::1`), checked here so the flag is named. */
function cidrs(raw: string): string[] {
  const list = raw.split(',').map((e) => e.trim());
  for (const e of list) {
    if (parseCidr(e) === null) throw new Error(`expected an IP address or CIDR such as 10.0.0.0/8 or ::1, got ${JSON.stringify(e)}`);
  }
  return list;
}

function decimal(raw: string): number {
  if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw);
  throw new Error(`expected a non-negative number, got ${JSON.stringify(raw)}`);
}

function workers(raw: string): number | 'auto' {
  if (raw === 'auto') return 'auto';
  try {
    return integer(1)(raw);
  } catch {
    throw new Error(`expected a positive integer or auto, got ${JSON.stringify(raw)}`);
  }
}
