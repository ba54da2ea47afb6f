/**
 * Configuration loading: the ONLY module that reads configuration files (STYLE: process edge). Layers, lowest first:
 * embedded defaults (`config/default.json`) ← the user's file (JSON, or YAML by extension) ← overrides (flags and
 * environment, already parsed by the CLI). The merged object is validated once by the schema and the semantic checks,
 * then deep-frozen (STYLE rule 6). Any problem is a ConfigError, which the CLI turns into exit code 2 (SPEC §10.2).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as YamlModule from 'yaml';
import { describeZodError } from './issues.js';
import { deepFreeze, deepMerge, isPlainObject, type DeepPartial } from './merge.js';
import { configSchema, type Config, type ConfigInput } from './schema.js';
import { semanticIssues, type ConfigIssue } from './validate.js';
import { expandProxyFromEnv } from './proxy-settings.js';

const requireCjs = createRequire(import.meta.url);

export type { DeepPartial } from './merge.js';
export type { ConfigIssue } from './validate.js';

/** What the CLI (flags, environment) may override: any subset of the config, arrays replaced whole. */
export type ConfigOverrides = DeepPartial<ConfigInput>;

/** Bad configuration: every problem found, each with the dotted key and what was expected there. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`);
    super(`invalid configuration:\n${lines.join('\n')}`);
    this.issues = Object.freeze(issues.map((i) => Object.freeze({ ...i })));
  }
}

/** Absolute path of the embedded defaults; two levels up from this module in both `src/config/` and `dist/config/`. */
export function defaultConfigPath(): string {
  return fileURLToPath(new URL('../../config/default.json', import.meta.url));
}

/** The package version from package.json (same relative location as the defaults), for `--version`. */
export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return isPlainObject(pkg) && typeof pkg['version'] === 'string' ? pkg['version'] : '0.0.0';
}

/** Options for {@link loadConfig}. */
export interface LoadOptions {
  /** JSON, or YAML when the name ends in `.yaml`/`.yml`; a relative path resolves against the working directory. */
  readonly file?: string | undefined;
  /** Highest-precedence values (flags, environment); `undefined` leaves a key to the lower layers. */
  readonly overrides?: ConfigOverrides | undefined;
  /**
   * The process environment, read only for `upstream.proxy: "env"` (HTTP_PROXY, HTTPS_PROXY, NO_PROXY): hopwise never
   * takes a parent proxy from the environment unasked.
   */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Reads, merges, validates and freezes the configuration.
 * @throws ConfigError listing every problem (unreadable file, unknown key, wrong type, incoherent combination).
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  let merged = readConfigFile(defaultConfigPath());
  if (opts.file !== undefined) merged = deepMerge(merged, readConfigFile(opts.file));
  if (opts.overrides !== undefined) merged = deepMerge(merged, opts.overrides);
  // Top-level `$…` keys ($comment, $schema) are annotations for people and editors, not settings.
  for (const key of Object.keys(merged)) if (key.startsWith('$')) delete merged[key];
  const fromEnv = expandProxyFromEnv(merged, opts.env);
  if (fromEnv !== undefined) throw new ConfigError([fromEnv]);

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeZodError(parsed.error, merged, configSchema));
  const semantic = semanticIssues(parsed.data);
  if (semantic.length > 0) throw new ConfigError(semantic);
  return deepFreeze(parsed.data);
}

/** Reads one layer; the result is an object (an empty YAML document counts as `{}`). */
function readConfigFile(file: string): Record<string, unknown> {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new ConfigError([{ path, message: `cannot read config file: ${why}` }]);
  }
  const ext = extname(path).toLowerCase();
  const data = ext === '.yaml' || ext === '.yml' ? parseYaml(path, text) : parseJson(path, text);
  if (data === null && ext !== '.json') return {};
  if (!isPlainObject(data)) {
    const got = Array.isArray(data) ? 'an array' : JSON.stringify(data);
    throw new ConfigError([{ path, message: `expected an object of settings at the top level, got ${got}` }]);
  }
  return data;
}

function parseYaml(path: string, text: string): unknown {
  // Warnings (unknown tags, odd directives) are treated as errors too: a config file should parse cleanly.
  // Loaded on first use: a JSON config (the usual case) never pays the parser's ~4 MB of resident memory (issue 12).
  const { parseDocument } = requireCjs('yaml') as typeof YamlModule;
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0] ?? doc.warnings[0];
  if (first !== undefined) {
    const message = `invalid YAML at ${lineAndColumn(text, first.pos[0])}: ${first.message}`;
    throw new ConfigError([{ path, message }]);
  }
  return doc.toJS({ maxAliasCount: 100 });
}

function parseJson(path: string, text: string): unknown {
  const body = text.replace(/^\uFEFF/, ''); // editors on Windows like to add a byte-order mark; JSON.parse does not
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    // V8 reports a character offset ("… at position 16"); people want a line.
    const at = /at position (\d+)/.exec(message)?.[1];
    const where = at !== undefined ? ` at ${lineAndColumn(body, Number(at))}` : '';
    throw new ConfigError([{ path, message: `invalid JSON${where}: ${message}` }]);
  }
}

/** 1-based line and column of a character offset, as editors show them. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
