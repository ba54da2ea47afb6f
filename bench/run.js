#!/usr/bin/env node
// `npm run bench`: hopwise side by side with direct, bare http-proxy, http-proxy with an agent, squid and a plain
// Node server. Every process is a child pinned to a core; every phase is bounded; the whole run has a hard budget.
// Progress goes to stderr, the Markdown report to stdout, raw results to --json FILE.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, USAGE } from './lib/args.js';
import { machineFacts, pinSelf, planLayout } from './lib/platform.js';
import { renderReport, summarize } from './lib/report.js';
import { BenchSession } from './lib/session.js';
import { selectTargets } from './lib/targets.js';
import { selectScenarios } from './scenarios/index.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Seconds added per measurement for connection set-up, the stop tick and the counter snapshots. */
const OVERHEAD_PER_MEASUREMENT_S = 1;
/** Seconds allowed per target to start. */
const OVERHEAD_PER_TARGET_S = 2;
/** Grace after the budget for an orderly teardown before everything is killed. */
const TEARDOWN_GRACE_MS = 15_000;

/**
 * @param {string[]} argv
 * @returns {string} how the run was invoked, for the report
 */
function commandLine(argv) {
  const args = argv.join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `node bench/run.js${args ? ` ${args}` : ''}`;
}

/**
 * Installs the signal, budget and exit handlers that guarantee no orphan process and no leftover temp dir.
 * @param {BenchSession} session
 * @param {number} budgetMs
 * @returns {() => void} removes the handlers and timers (after an orderly close)
 */
function guard(session, budgetMs) {
  let signals = 0;
  const onSignal = (/** @type {NodeJS.Signals} */ signal) => {
    signals += 1;
    if (signals > 1) {
      session.killNow();
      process.exit(130);
    }
    console.error(`\n${signal}: stopping (again to kill at once)`);
    process.exitCode = 130;
    session.requestStop(`interrupted by ${signal}`);
  };
  const onExit = () => session.killNow();
  const budget = setTimeout(() => session.requestStop(`budget of ${budgetMs / 1000} s exceeded`), budgetMs);
  const hardStop = setTimeout(() => {
    console.error('teardown took too long: killing every child');
    session.killNow();
    process.exit(1);
  }, budgetMs + TEARDOWN_GRACE_MS);
  budget.unref();
  hardStop.unref();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  return () => {
    clearTimeout(budget);
    clearTimeout(hardStop);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
}

/**
 * @param {string[]} argv
 * @returns {Promise<number>} exit code
 */
async function main(argv) {
  let options, scenarioPick, wanted;
  try {
    options = parseBenchArgs(argv);
    if (options.help) {
      console.log(USAGE);
      return 0;
    }
    scenarioPick = selectScenarios(options.scenarios);
    wanted = selectTargets(options.targets);
  } catch (err) {
    console.error(`${/** @type {Error} */ (err).message}\n\n${USAGE}`);
    return 2;
  }
  const { selected: scenarios, pending } = scenarioPick;
  for (const s of pending) console.error(`scenario (${s.id}) ${s.name}: not yet implemented, skipped`);
  const skipped = wanted.flatMap((t) => {
    const reason = t.unavailable(REPO_ROOT);
    return reason ? [{ name: t.name, reason }] : [];
  });
  for (const s of skipped) console.error(`target ${s.name}: skipped — ${s.reason}`);
  const available = wanted.filter((t) => !skipped.some((s) => s.name === t.name));
  if (scenarios.length === 0 || available.length === 0) {
    console.error('nothing to run: no implemented scenario or no available target selected');
    return 2;
  }
  const perMeasurement = options.warmup + options.duration + OVERHEAD_PER_MEASUREMENT_S;
  const estimate = scenarios.length * available.length * options.runs * perMeasurement + available.length * OVERHEAD_PER_TARGET_S;
  if (estimate > options.budget) {
    console.error(`estimated ${Math.ceil(estimate)} s exceeds the budget of ${options.budget} s: lower --runs or --duration, or raise --budget`);
    return 2;
  }

  const layout = planLayout();
  const facts = machineFacts(layout); // before pinning: it reports the cores the whole run may use
  pinSelf(layout);
  console.error(`layout: ${layout.note}`);
  console.error(`plan: ${available.map((t) => t.name).join(', ')} × scenarios ${scenarios.map((s) => s.id).join(', ')} × ${options.runs} run(s); about ${Math.ceil(estimate)} s (budget ${options.budget} s)`);

  const session = new BenchSession(layout, REPO_ROOT);
  const unguard = guard(session, options.budget * 1000);
  /** @type {import('./lib/report.js').RunRecord[]} */
  let records = [];
  try {
    await session.startInfrastructure();
    skipped.push(...(await session.startTargets(available)));
    records = await session.runMatrix(scenarios, options);
  } catch (err) {
    console.error(`bench failed: ${/** @type {Error} */ (err).message}`);
    session.requestStop(/** @type {Error} */ (err).message.split('\n')[0] ?? 'error');
    process.exitCode = 1;
  } finally {
    await session.close();
    unguard();
  }

  const targets = session.runningTargets;
  const input = { facts, command: commandLine(argv), options, scenarios, pendingScenarios: pending, targets, skipped, records, incomplete: session.stopReason };
  console.log(renderReport(input));
  if (options.json) {
    const summaries = scenarios.flatMap((s) => targets.map((t) => ({ scenario: s.id, target: t, ...summarize(records, s.id, t) })));
    writeFileSync(options.json, `${JSON.stringify({ ...input, summaries }, null, 2)}\n`);
    console.error(`raw results written to ${options.json}`);
  }
  if (process.exitCode !== undefined && process.exitCode !== 0) return Number(process.exitCode);
  return session.stopReason || records.some((r) => r.error) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
