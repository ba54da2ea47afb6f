/**
 * Command-line parsing: argv + environment in, a plain description of what to do out. The only yargs importer.
 * Pure apart from reading package.json for `--version` when no version is passed in: nothing is printed, the process
 * never exits here; help and errors come back as values for `main` to print (exit 0 and 2).
 *
 * Precedence (highest first): flags, HOPWISE_* environment, config file, built-in defaults. So no yargs defaults are
 * set (a default would hide the file's value); help shows the real defaults through `defaultDescription`.
 */
import yargs, { type Argv, type Options } from 'yargs';
import { packageVersion, type ConfigOverrides } from '../config/load.js';
import { RUN_FLAGS, readEnv, type RunFlag } from './options.js';
import { flowsBuilder, toFlowsArgs, type FlowsArgs } from './flows-command.js';

/** `hopwise [run]`: start the proxy. */
export interface RunArgs {
  readonly command: 'run';
  readonly configFile?: string;
  /** Only what flags or environment gave explicitly; merged over the file by `loadConfig`. */
  readonly overrides: ConfigOverrides;
}
/** `hopwise stats`: print a running proxy's statistics. */
export interface StatsArgs {
  readonly command: 'stats';
  readonly adminUrl: string;
  readonly json: boolean;
}
export const DEMO_NAMES = ['dumb-proxy', 'proxy-connection', 'pooling'] as const;
export type DemoName = (typeof DEMO_NAMES)[number];
/** `hopwise demo <name>`: run a workshop demo (SPEC §9.2). */
export interface DemoArgs {
  readonly command: 'demo';
  readonly name: DemoName;
  readonly svgFile?: string;
  readonly jsonFile?: string;
  readonly idleTimeout?: number;
  readonly requests?: number;
  /** proxy-connection demo: run chain (b) with default pooling instead of the legacy-next-hop setting. */
  readonly pooledNextHop?: boolean;
}
/** `hopwise hash-password`: hash a password read from stdin for access.users. */
export interface HashPasswordArgs {
  readonly command: 'hash-password';
}
/** `--help` / `--version`: print `text` to stdout and exit 0. */
export interface PrintArgs {
  readonly command: 'print';
  readonly text: string;
  readonly exitCode: 0;
}
/** Bad usage: print `message` to stderr and exit 2. */
export interface UsageErrorArgs {
  readonly command: 'error';
  readonly message: string;
  readonly exitCode: 2;
}
export type ParsedArgs = RunArgs | StatsArgs | FlowsArgs | DemoArgs | HashPasswordArgs | PrintArgs | UsageErrorArgs;

/** Options for {@link parseArgs}; both default to values from the installed package / a fixed width. */
export interface ParseOptions {
  readonly version?: string;
  /** Help text width (e.g. `process.stdout.columns`); 100 by default, so output does not depend on the terminal. */
  readonly columns?: number;
}

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8081';

const SUBCOMMANDS = ['stats', 'flows', 'demo', 'hash-password'] as const;

/** Parses `argv` (without node and script) and the `HOPWISE_*` variables of `env`. Never throws, never exits. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv, opts: ParseOptions = {}): ParsedArgs {
  let result: ParsedArgs | undefined;
  let failure: string | undefined;
  let output = '';
  const parser = buildParser(env, opts, (r) => {
    result = r;
  }).fail((msg: string | null, err: Error | undefined) => {
    failure = msg ?? err?.message ?? 'invalid arguments';
  });
  // With a callback, yargs captures help/version text instead of printing it, and never exits.
  parser.parseSync([...argv], {}, (err: Error | null | undefined, _argv: unknown, text: string) => {
    failure ??= err?.message;
    output = text;
  });
  if (failure !== undefined) return usageError(failure, argv);
  return result ?? { command: 'print', text: output, exitCode: 0 };
}

function buildParser(env: NodeJS.ProcessEnv, opts: ParseOptions, done: (r: ParsedArgs) => void): Argv {
  return yargs()
    .scriptName('hopwise')
    .detectLocale(false) // yargs would read LANG from process.env; help is English and deterministic
    .parserConfiguration({ 'parse-numbers': false, 'duplicate-arguments-array': false })
    .usage('$0 [run] [options]\n\nA transparent HTTP/1.1 forward proxy that gets connection management right.')
    .command(['run', '$0'], 'Run the proxy (the default command)', runBuilder, (a) => done(toRun(a, env)))
    .command('stats', "Print a running proxy's statistics from its admin listener", statsBuilder, (a) => {
      const adminUrl = (a['admin'] as string | undefined) ?? DEFAULT_ADMIN_URL;
      done({ command: 'stats', adminUrl, json: a['json'] === true });
    })
    .command('flows', "Print a running proxy's recent flows (or save them as HAR)", flowsBuilder, (a) =>
      done(toFlowsArgs(a, DEFAULT_ADMIN_URL)),
    )
    .command('demo <name>', 'Run a scripted workshop demo (SPEC §9.2)', demoBuilder, (a) => done(toDemo(a)))
    .command('hash-password', 'Read a password on stdin and print a hash for access.users[].passwordHash', {}, () =>
      done({ command: 'hash-password' }),
    )
    .strict()
    .recommendCommands()
    .exitProcess(false)
    .showHelpOnFail(false)
    .help('help', 'Show this help')
    .alias('help', 'h')
    .version('version', 'Show the version number', opts.version ?? packageVersion())
    .wrap(opts.columns ?? 100);
}

function usageError(message: string, argv: readonly string[]): UsageErrorArgs {
  const sub = SUBCOMMANDS.find((name) => argv.includes(name));
  const help = sub !== undefined ? `hopwise ${sub} --help` : 'hopwise --help';
  return { command: 'error', message: `${message}\nRun "${help}" for usage.`, exitCode: 2 };
}

function runBuilder(y: Argv): Argv {
  const options: Record<string, Options> = {};
  for (const f of RUN_FLAGS) options[f.flag] = yargsOption(f);
  return y
    .options(options)
    .epilogue(
      'Every run option can also be set in the environment as HOPWISE_<OPTION> (HOPWISE_PORT=9000, ' +
        'HOPWISE_LOG_LEVEL=debug, HOPWISE_ADMIN=false). Precedence: flags, then environment, then the --config ' +
        'file, then the built-in defaults. Bad configuration exits with code 2. See docs/configuration.md.',
    );
}

function yargsOption(f: RunFlag): Options {
  const common: Options = { group: `${f.group}:`, describe: describeFlag(f), defaultDescription: f.defaultDescription };
  if (f.kind === 'switch') return { ...common, type: 'boolean' };
  // No `type`: with parse-numbers off, yargs hands over the raw text and the row's parser decides (strictly).
  const parse = f.parse;
  return {
    ...common,
    requiresArg: true,
    ...(f.choices !== undefined && { choices: [...f.choices] }),
    coerce: (raw: unknown) => {
      if (typeof raw !== 'string') throw new Error(`--${f.flag} needs a value`); // e.g. --no-port
      try {
        return parse !== undefined ? parse(raw) : raw;
      } catch (err) {
        throw new Error(`--${f.flag}: ${(err as Error).message}`);
      }
    },
  };
}

function describeFlag(f: RunFlag): string {
  return f.key === null ? f.describe : `${f.describe} (${f.key})`;
}

function toRun(a: Record<string, unknown>, env: NodeJS.ProcessEnv): RunArgs | UsageErrorArgs {
  const fromEnv = readEnv(env);
  if (!fromEnv.ok) return { command: 'error', message: fromEnv.message, exitCode: 2 };
  const overrides: Record<string, unknown> = {};
  let configFile: string | undefined;
  for (const f of RUN_FLAGS) {
    const v = a[f.flag] !== undefined ? a[f.flag] : fromEnv.values.get(f.flag);
    if (v === undefined) continue;
    if (f.key === null) configFile = v as string;
    else setPath(overrides, f.key, v);
  }
  return { command: 'run', ...(configFile !== undefined && { configFile }), overrides };
}

function setPath(target: Record<string, unknown>, dotted: string, v: unknown): void {
  const keys = dotted.split('.');
  const last = keys.pop() as string;
  let node = target;
  for (const k of keys) {
    node[k] ??= {};
    node = node[k] as Record<string, unknown>;
  }
  node[last] = v;
}

function statsBuilder(y: Argv): Argv {
  return y.options({
    admin: {
      describe: "URL of the proxy's admin listener",
      defaultDescription: DEFAULT_ADMIN_URL,
      requiresArg: true,
      coerce: (raw: unknown) => httpUrl('--admin', raw),
    },
    json: { type: 'boolean', describe: 'print the statistics as JSON' },
  });
}

function demoBuilder(y: Argv): Argv {
  return y.positional('name', { describe: 'which demo', choices: [...DEMO_NAMES] }).options({
    svg: {
      describe: "file to write the demo's chart to (SVG)",
      requiresArg: true,
      coerce: (raw: unknown) => nonEmpty('--svg', raw),
    },
    json: {
      describe: "file to write the demo's measurements to (JSON)",
      requiresArg: true,
      coerce: (raw: unknown) => nonEmpty('--json', raw),
    },
    'idle-timeout': {
      describe: 'milliseconds before the demo origin closes an idle connection',
      requiresArg: true,
      coerce: (raw: unknown) => wholeNumber('--idle-timeout', raw, 0),
    },
    requests: {
      describe: 'number of requests the demo sends',
      requiresArg: true,
      coerce: (raw: unknown) => wholeNumber('--requests', raw, 1),
    },
    'pooled-next-hop': {
      describe:
        'proxy-connection: let hopwise reuse its connection to the dumb proxy (default pooling) to see the stall ' +
        'a dumb next hop causes; by default the demo configures upstream.maxRequestsPerSocket: 1 for it',
      type: 'boolean',
    },
  });
}

function toDemo(a: Record<string, unknown>): DemoArgs {
  // Only the options actually given, so `main` can apply its own defaults with `??`.
  const given = {
    svgFile: a['svg'] as string | undefined,
    jsonFile: a['json'] as string | undefined,
    idleTimeout: a['idle-timeout'] as number | undefined,
    requests: a['requests'] as number | undefined,
    pooledNextHop: a['pooled-next-hop'] === true ? true : undefined,
  };
  const options = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<typeof given>;
  return { command: 'demo', name: a['name'] as DemoName, ...options };
}

function nonEmpty(flag: string, raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') throw new Error(`${flag} needs a value`);
  return raw;
}

function wholeNumber(flag: string, raw: unknown, min: number): number {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (Number.isSafeInteger(n) && n >= min) return n;
  const what = min === 0 ? 'a non-negative integer' : 'a positive integer';
  throw new Error(`${flag}: expected ${what}, got ${JSON.stringify(raw)}`);
}

function httpUrl(flag: string, raw: unknown): string {
  const s = nonEmpty(flag, raw);
  const ok = URL.canParse(s) && ['http:', 'https:'].includes(new URL(s).protocol);
  if (!ok) {
    const example = DEFAULT_ADMIN_URL;
    throw new Error(`${flag}: expected an http:// or https:// URL such as ${example}, got ${JSON.stringify(s)}`);
  }
  return s;
}
