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
import { DEMOS, DEMO_FLAGS, DEMO_TARGETS, defaultOf, flagsOf, unsupportedFlag } from '../config/demos.js';
import type { DemoArgs, DemoFlag, DemoTarget } from '../config/demos.js';
import { RUN_FLAGS, adminUrlFromEnv, readEnv, type RunFlag } from './options.js';
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
  const parser = buildParser(argv, env, opts, demoTarget(argv), (r) => {
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

/** The demo named after `demo`, if it is one: its help and flags are that demo's own. */
function demoTarget(argv: readonly string[]): DemoTarget | undefined {
  const name = argv[argv.indexOf('demo') + 1];
  return argv.includes('demo') ? DEMO_TARGETS.find((t) => t === name) : undefined;
}

function buildParser(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  opts: ParseOptions,
  target: DemoTarget | undefined,
  done: (r: ParsedArgs) => void,
): Argv {
  return yargs()
    .scriptName('hopwise')
    .detectLocale(false) // yargs would read LANG from process.env; help is English and deterministic
    .parserConfiguration({ 'parse-numbers': false, 'duplicate-arguments-array': false })
    .usage('$0 [run] [options]\n\nA transparent HTTP/1.1 forward proxy that gets connection management right.')
    .command(['run', '$0'], 'Run the proxy (the default command)', runBuilder, (a) => done(toRun(a, env, argv)))
    .command('stats', "Print a running proxy's statistics from its admin listener", statsBuilder, (a) => done(toStats(a, env, argv)))
    .command('flows', "Print a running proxy's recent flows (or save them as HAR)", flowsBuilder, (a) => done(toFlows(a, env, argv)))
    .command('demo <name>', 'Run a scripted workshop demo', (y) => demoBuilder(y, target), (a) => done(toDemo(a)))
    .command('hash-password', 'Read a password on stdin and print a hash for access.users[].passwordHash', hashPasswordBuilder, () =>
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
    .example('$0', 'forward proxy on 127.0.0.1:8080 (curl -x http://127.0.0.1:8080 ...), admin on 127.0.0.1:8081')
    .example('$0 --port 3128 --no-admin', 'another port, no admin listener')
    .example('$0 --mode gateway --target http://127.0.0.1:9000', 'a gateway in front of one origin')
    .example('$0 --host 0.0.0.0 --allow-client 10.0.0.0/8', 'reachable from the network, for clients in 10.0.0.0/8')
    .example('$0 --config hopwise.yaml --workers auto', 'a config file, one worker process per CPU')
    .epilogue(
      'Every run option can also be set in the environment as HOPWISE_<OPTION> (HOPWISE_PORT=9000, ' +
        'HOPWISE_LOG_LEVEL=debug, HOPWISE_ADMIN=false; --allow-client is HOPWISE_ACCESS_CLIENTS). Precedence: flags, then environment, then the --config ' +
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

/**
 * Every value of a repeatable flag, in order (`--allow-client A --allow-client B,C` → A, B, C). yargs keeps only the
 * last occurrence (duplicate arrays are off so that a repeated scalar flag means "the last one wins"), so the raw
 * argv is read again, up to `--`; yargs has already checked that each occurrence has a value.
 */
function repeated(f: RunFlag, argv: readonly string[]): unknown {
  const name = `--${f.flag}`;
  const values: unknown[] = [];
  for (let i = 0; i < argv.length && argv[i] !== '--'; i++) {
    const arg = argv[i]!;
    const raw = arg === name ? argv[++i] : arg.startsWith(`${name}=`) ? arg.slice(name.length + 1) : undefined;
    if (raw === undefined) continue;
    try {
      values.push(f.parse !== undefined ? f.parse(raw) : raw);
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message}`);
    }
  }
  return values.flat();
}

function toRun(a: Record<string, unknown>, env: NodeJS.ProcessEnv, argv: readonly string[]): RunArgs | UsageErrorArgs {
  const fromEnv = readEnv(env);
  if (!fromEnv.ok) return { command: 'error', message: fromEnv.message, exitCode: 2 };
  const overrides: Record<string, unknown> = {};
  let configFile: string | undefined;
  for (const f of RUN_FLAGS) {
    let given = a[f.flag];
    try {
      if (given !== undefined && f.repeatable === true) given = repeated(f, argv);
    } catch (err) {
      return usageError((err as Error).message, argv);
    }
    const v = given !== undefined ? given : fromEnv.values.get(f.flag);
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

function toStats(a: Record<string, unknown>, env: NodeJS.ProcessEnv, argv: readonly string[]): StatsArgs | UsageErrorArgs {
  const json = a['json'] === true;
  if (a['admin'] !== undefined) return { command: 'stats', adminUrl: a['admin'] as string, json };
  const fromEnv = adminUrlFromEnv(env);
  if (!fromEnv.ok) return usageError(fromEnv.message, argv);
  return { command: 'stats', adminUrl: fromEnv.url ?? DEFAULT_ADMIN_URL, json };
}

function toFlows(a: Record<string, unknown>, env: NodeJS.ProcessEnv, argv: readonly string[]): FlowsArgs | UsageErrorArgs {
  if (a['admin'] !== undefined) return toFlowsArgs(a, DEFAULT_ADMIN_URL);
  const fromEnv = adminUrlFromEnv(env);
  if (!fromEnv.ok) return usageError(fromEnv.message, argv);
  return toFlowsArgs(a, fromEnv.url ?? DEFAULT_ADMIN_URL);
}

function hashPasswordBuilder(y: Argv): Argv {
  return y
    .example('$0 hash-password', 'type the password, then Enter; prints scrypt$... for access.users[].passwordHash')
    .example('printf %s "$PASSWORD" | $0 hash-password', 'from a pipe (no echo, no trailing newline needed)');
}

function statsBuilder(y: Argv): Argv {
  return y
    .example('$0 stats', 'the proxy on the default ports (admin listener 127.0.0.1:8081)')
    .example('$0 stats --admin http://127.0.0.1:9091 --json', 'another admin listener, as JSON')
    .example('HOPWISE_PORT=3128 $0 stats', 'the proxy started with HOPWISE_PORT=3128 (admin listener on 3129)')
    .options({
    admin: {
      describe:
        "URL of the proxy's admin listener; without it, the one HOPWISE_ADMIN_HOST, HOPWISE_ADMIN_PORT or " +
        'HOPWISE_PORT (+ 1) give, as for the proxy itself',
      defaultDescription: DEFAULT_ADMIN_URL,
      requiresArg: true,
      coerce: (raw: unknown) => httpUrl('--admin', raw),
    },
    json: { type: 'boolean', describe: 'print the statistics as JSON' },
  });
}

function demoBuilder(y: Argv, target: DemoTarget | undefined): Argv {
  const options: Record<string, Options> = {};
  const taken = new Set(flagsOf(target ?? 'all').map((f) => f.flag));
  for (const f of DEMO_FLAGS) options[f.flag] = demoOption(f, target, target === undefined || taken.has(f.flag));
  const withOptions = y.positional('name', { describe: 'which demo', choices: [...DEMO_TARGETS] }).options(options);
  if (target === undefined) {
    const list = DEMO_TARGETS.map((t) => `  ${t.padEnd(18)}${DEMOS[t].summary}`).join('\n');
    return withOptions.usage(`$0 demo <name> [options]\n\nDemos:\n${list}\n\nEach demo has its own flags: hopwise demo <name> --help`);
  }
  const examples = DEMOS[target].examples.reduce((acc, [cmd, what]) => acc.example(cmd, what), withOptions);
  return examples.usage(`$0 demo ${target} [options]\n\n${DEMOS[target].summary}`);
}

/** A demo flag for yargs; hidden (but parsed, so the demo command can say who takes it) when `target` does not take it. */
function demoOption(f: DemoFlag, target: DemoTarget | undefined, shown: boolean): Options {
  const common: Options = { describe: f.describe, hidden: !shown, defaultDescription: target === undefined ? undefined : defaultOf(target, f.flag) };
  if (f.kind === 'switch') return { ...common, type: 'boolean' };
  const parse = f.kind === 'path' ? (raw: unknown) => nonEmpty(`--${f.flag}`, raw) : (raw: unknown) => wholeNumber(`--${f.flag}`, raw, f.kind === 'count' ? 1 : 0);
  return { ...common, requiresArg: true, coerce: parse };
}

function toDemo(a: Record<string, unknown>): DemoArgs | UsageErrorArgs {
  const name = DEMO_TARGETS.find((t) => t === a['name']);
  if (name === undefined) return { command: 'error', message: `unknown demo; choose one of ${DEMO_TARGETS.join(', ')}`, exitCode: 2 };
  const given = DEMO_FLAGS.filter((f) => a[f.flag] !== undefined);
  const problem = unsupportedFlag(name, given.map((f) => f.flag));
  if (problem !== undefined) return { command: 'error', message: `${problem}\nRun "hopwise demo ${name} --help" for usage.`, exitCode: 2 };
  // Only the options actually given, so the demo applies its own defaults.
  const options = Object.fromEntries(given.map((f) => [f.key, a[f.flag]]));
  return { command: 'demo', name, ...options };
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
