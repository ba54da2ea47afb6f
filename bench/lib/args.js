// Command-line flags of `npm run bench` → one frozen options object (pure: argv in, options out, no I/O).
import { parseArgs } from 'node:util';

/**
 * @typedef {object} BenchOptions
 * @property {boolean} quick        short run meant to finish within a minute
 * @property {number} runs          measured runs per (scenario, target); the median is reported
 * @property {number} duration      seconds of measured load per run
 * @property {number} warmup        seconds of unmeasured load before each measured run
 * @property {number} connections   concurrent client connections opened by the load generator
 * @property {number} idleConnections  idle keep-alive connections held open in scenario (d)
 * @property {string[] | null} scenarios  scenario ids or names asked for; null means every implemented one
 * @property {string[] | null} targets    target names asked for; null means every known one
 * @property {string | null} json   where to write the raw results as JSON
 * @property {string[]} hopwiseFlags  extra command-line flags for the hopwise target (e.g. `--workers 2`)
 * @property {string | null} baseline  a built checkout of hopwise to run side by side as `hopwise-baseline`
 * @property {string[] | null} baselineFlags  flags for `hopwise-baseline` instead of `hopwiseFlags` (null: the same)
 * @property {number} budget        hard wall-clock limit for the whole run, seconds
 * @property {boolean} pin  pin processes to cores with taskset when possible (--no-pin: let the kernel place them)
 * @property {boolean} help
 */

export const USAGE = `usage: node bench/run.js [options]   (npm run bench -- [options])

  --quick              short run (whole suite within about a minute): 1 run, 1 s, 0.5 s warm-up, 500 idle
  --runs N             measured runs per scenario and target, median reported (default 3)
  --duration S         seconds of measured load per run (default 5; quick 1); (c) and (e) use half per window
  --warmup S           seconds of unmeasured load before each run (default 1; quick 0.5)
  --connections N      concurrent client connections (default 50)
  --idle N             idle keep-alive connections held in scenario (d) (default 10000; quick 500)
  --scenario a,b       scenarios by id or name (default: all: a,b,c,d,e)
  --targets t1,t2      targets (default: direct,hopwise,hopwise-default,http-proxy,http-proxy-agent,proxy-npm,squid,
                       squid-log,node-hello; opt-in: undici-minimal,llhttp-minimal; with --baseline also
                       hopwise-baseline,hopwise-baseline-default)
  --json FILE          also write the raw results as JSON
  --hopwise-flags="…"  extra flags for the hopwise target, e.g. --hopwise-flags="--workers 2" (split on spaces)
  --baseline DIR       also run hopwise built in DIR (a checkout with dist/) as target hopwise-baseline
  --baseline-flags="…" flags for hopwise-baseline instead of --hopwise-flags (e.g. the same build, logging off)
  --budget S           hard limit on the whole run in seconds (default 900; quick 90)
  --no-pin             do not pin with taskset (e.g. to let hopwise --workers 2 use both cores)
  -h, --help           this text`;

/**
 * @param {string} name
 * @param {string | undefined} raw
 * @param {number} fallback
 * @param {{ min: number, max: number, integer?: boolean }} range
 * @returns {number}
 */
function numberFlag(name, raw, fallback, { min, max, integer = false }) {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`--${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${raw}"`);
  }
  return value;
}

/**
 * @param {string | undefined} raw
 * @returns {string[] | null}
 */
function listFlag(raw) {
  if (raw === undefined) return null;
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return items.length > 0 ? items : null;
}

/**
 * Parses the bench's flags. Throws an Error with a readable message on anything unknown or out of range.
 * @param {string[]} argv arguments after the script name
 * @returns {Readonly<BenchOptions>}
 */
export function parseBenchArgs(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    allowNegative: true,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      idle: { type: 'string' },
      scenario: { type: 'string' },
      scenarios: { type: 'string' },
      targets: { type: 'string' },
      target: { type: 'string' },
      json: { type: 'string' },
      'hopwise-flags': { type: 'string' },
      baseline: { type: 'string' },
      'baseline-flags': { type: 'string' },
      budget: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      pin: { type: 'boolean', default: true },
    },
  });
  const quick = values.quick === true;
  return Object.freeze({
    quick,
    runs: numberFlag('runs', values.runs, quick ? 1 : 3, { min: 1, max: 50, integer: true }),
    duration: numberFlag('duration', values.duration, quick ? 1 : 5, { min: 0.5, max: 120 }),
    warmup: numberFlag('warmup', values.warmup, quick ? 0.5 : 1, { min: 0, max: 30 }),
    connections: numberFlag('connections', values.connections, 50, { min: 1, max: 1000, integer: true }),
    idleConnections: numberFlag('idle', values.idle, quick ? 500 : 10_000, { min: 1, max: 50_000, integer: true }),
    scenarios: listFlag(values.scenario ?? values.scenarios),
    targets: listFlag(values.targets ?? values.target),
    json: values.json ?? null,
    hopwiseFlags: (values['hopwise-flags'] ?? '').split(' ').filter((a) => a.length > 0),
    baseline: values.baseline ?? null,
    baselineFlags: values['baseline-flags'] === undefined ? null : values['baseline-flags'].split(' ').filter((a) => a),
    budget: numberFlag('budget', values.budget, quick ? 90 : 900, { min: 5, max: 3600 }),
    pin: values.pin !== false,
    help: values.help === true,
  });
}
