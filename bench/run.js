#!/usr/bin/env node
// `npm run bench`: hopwise side by side with direct, bare http-proxy, http-proxy with an agent, squid and a plain
// Node server. Every process is a child pinned to a core; every phase is bounded; the whole run has a hard budget.
// Progress goes to stderr, the Markdown report to stdout, raw results to --json FILE. Exit codes: 0 done, 1 a
// target failed to start or a run failed or the budget ran out, 2 bad flags or nothing to run, 130 interrupted.
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
const OVERHEAD_PER_MEASUREMENT_S = 0.5;
/** Seconds allowed per target to start. */
const OVERHEAD_PER_TARGET_S = 1;
/** Grace after the budget for an orderly teardown before everything is killed. */
const TEARDOWN_GRACE_MS = 15_000;

/**
 * @typedef {object} Plan
 * @property {import('./lib/args.js').BenchOptions} options
 * @property {import('./scenarios/index.js').Scenario[]} scenarios
 * @property {import('./scenarios/index.js').Scenario[]} pending   asked for but not implemented yet
 * @property {import('./lib/targets.js').TargetDef[]} available
 * @property {Array<{ name: string, reason: string }>} skipped     not available on this machine
 * @property {number} estimateS
 */

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
 * Flags → what will run, or an exit code when there is nothing to run. Starts nothing.
 * @param {string[]} argv
 * @returns {Plan | number}
 */
function plan(argv) {
  let options, picked, wanted;
  try {
    options = parseBenchArgs(argv);
    if (options.help) return (console.log(USAGE), 0);
    picked = selectScenarios(options.scenarios);
    wanted = selectTargets(options.targets, options.baseline, options.baselineFlags);
  } catch (err) {
    console.error(`${/** @type {Error} */ (err).message}\n\n${USAGE}`);
    return 2;
  }
  for (const s of picked.pending) console.error(`scenario (${s.id}) ${s.name}: not yet implemented, skipped`);
  const skipped = wanted.flatMap((t) => {
    const reason = t.unavailable(REPO_ROOT);
    return reason ? [{ name: t.name, reason }] : [];
  });
  for (const s of skipped) console.error(`target ${s.name}: skipped — ${s.reason}`);
  const available = wanted.filter((t) => !skipped.some((s) => s.name === t.name));
  if (picked.selected.length === 0 || available.length === 0) {
    console.error('nothing to run: no implemented scenario or no available target selected');
    return 2;
  }
  let perRunS = 0;
  for (const s of picked.selected) {
    const taking = available.filter((t) => !s.skip?.(t.name)).length;
    perRunS += taking * (s.estimateS?.(options) ?? options.warmup + options.duration + OVERHEAD_PER_MEASUREMENT_S);
  }
  const estimateS = perRunS * options.runs + available.length * OVERHEAD_PER_TARGET_S;
  if (estimateS > options.budget) {
    console.error(`estimated ${Math.ceil(estimateS)} s exceeds the budget of ${options.budget} s:` +
      ' lower --runs or --duration, or raise --budget');
    return 2;
  }
  return { options, scenarios: picked.selected, pending: picked.pending, available, skipped, estimateS };
}

/**
 * Installs the signal, budget and exit handlers that guarantee no orphan process and no leftover temp dir.
 * @param {BenchSession} session
 * @param {number} budgetMs
 * @returns {{ dispose: () => void, signalled: () => boolean }}
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
  const dispose = () => {
    clearTimeout(budget);
    clearTimeout(hardStop);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
  return { dispose, signalled: () => signals > 0 };
}

/**
 * @param {Plan} p
 * @param {string[]} argv
 * @returns {Promise<number>} exit code
 */
async function execute(p, argv) {
  const { options, scenarios } = p;
  const layout = planLayout(options.pin);
  const facts = machineFacts(layout); // before pinning: it reports the cores the whole run may use
  pinSelf(layout);
  console.error(`layout: ${layout.note}`);
  const matrix = `${p.available.map((t) => t.name).join(', ')} × scenarios ${scenarios.map((s) => s.id).join(', ')}`;
  const time = `about ${Math.ceil(p.estimateS)} s (budget ${options.budget} s)`;
  console.error(`plan: ${matrix} × ${options.runs} run(s); ${time}`);

  const session = new BenchSession(layout, REPO_ROOT, options.hopwiseFlags);
  const guarded = guard(session, options.budget * 1000);
  /** @type {import('./lib/report.js').RunRecord[]} */
  let records = [];
  /** @type {Array<{ name: string, reason: string }>} */
  let failedToStart = [];
  try {
    await session.startInfrastructure();
    failedToStart = await session.startTargets(p.available);
    records = await session.runMatrix(scenarios, options);
  } catch (err) {
    console.error(`bench failed: ${/** @type {Error} */ (err).message}`);
    session.requestStop(/** @type {Error} */ (err).message.split('\n')[0] ?? 'error');
  } finally {
    await session.close();
    guarded.dispose();
  }

  const targets = session.runningTargets;
  const input = {
    facts, command: commandLine(argv), options, scenarios, pendingScenarios: p.pending, targets,
    skipped: p.skipped, failedToStart, records, incomplete: session.stopReason,
  };
  console.log(renderReport(input));
  if (options.json) {
    const summaries = scenarios.flatMap((s) =>
      targets.map((t) => ({ scenario: s.id, target: t, ...summarize(records, s.id, t) })),
    );
    writeFileSync(options.json, `${JSON.stringify({ ...input, summaries }, null, 2)}\n`);
    console.error(`raw results written to ${options.json}`);
  }
  if (guarded.signalled()) return 130;
  // Unavailable targets are fine (skipped); a target that failed to start or a failed run is an error.
  return session.stopReason || failedToStart.length > 0 || records.some((r) => r.error) ? 1 : 0;
}

const planned = plan(process.argv.slice(2));
if (typeof planned === 'number') {
  process.exitCode = planned;
} else {
  execute(planned, process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
