#!/usr/bin/env node
// `node bench/profile.js`: hopwise (or another Node target) under `node --cpu-prof` in one scenario (default: (a)
// keep-alive), pinned like the bench, then its self time per function and per area inside the measured windows only
// (start-up and shutdown are cut out by timestamp). Profiles go to bench/results/profiles/ (git-ignored). Needs
// `npm run build` first.
//   node bench/profile.js [--target hopwise|undici-minimal|node-hello|http-proxy-agent] [--scenario a|b]
//     [--duration S] [--runs N] [--top N] [--hopwise-flags="--access-log --log-level info"]
import { readdirSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseBenchArgs } from './lib/args.js';
import { selfTime, selfTimeTable } from './lib/cpuprofile.js';
import { pinSelf, planLayout } from './lib/platform.js';
import { BenchSession } from './lib/session.js';
import { selectTargets } from './lib/targets.js';
import { selectScenarios } from './scenarios/index.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: true,
  options: {
    target: { type: 'string', default: 'hopwise' },
    scenario: { type: 'string', default: 'a' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    runs: { type: 'string', default: '1' },
    top: { type: 'string', default: '25' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'bench', 'results', 'profiles') },
    'hopwise-flags': { type: 'string', default: '' },
  },
});
const options = parseBenchArgs([
  '--scenario', values.scenario, '--duration', values.duration, '--warmup', values.warmup, '--runs', values.runs,
  '--targets', values.target, `--hopwise-flags=${values['hopwise-flags']}`,
]);
const scenarios = selectScenarios(options.scenarios).selected.filter((s) => s.load !== undefined || s.id === 'e');
if (scenarios.length === 0) throw new Error('bench/profile.js profiles scenarios a, b and e');
const dir = path.resolve(values.out);
mkdirSync(dir, { recursive: true });
const startedAt = Date.now();

const layout = planLayout();
pinSelf(layout);
console.error(`layout: ${layout.note}`);
const session = new BenchSession(layout, REPO_ROOT, options.hopwiseFlags, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
let records = [];
try {
  await session.startInfrastructure();
  const failed = await session.startTargets(selectTargets([values.target]));
  if (failed.length > 0) throw new Error(`${values.target} failed to start: ${failed[0]?.reason}`);
  records = await session.runMatrix(scenarios, options);
} finally {
  // SIGTERM: the target exits normally (hopwise gracefully) and node writes the profile as it exits.
  await session.close();
}

const profiles = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => path.join(dir, f))
  .filter((f) => statSync(f).mtimeMs >= startedAt);
const file = profiles.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
if (!file) throw new Error(`no profile written to ${dir}`);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const top = Number(values.top);
for (const r of records) {
  const s = r.sample;
  if (!s?.windowUs) continue;
  const t = selfTime(profile, { fromUs: s.windowUs[0], toUs: s.windowUs[1], top });
  const perReq = s.requests > 0 ? `${((t.totalMs / s.requests) * 1000).toFixed(0)} ms / 1k req` : 'byte scenario';
  const rate = s.reqPerSec !== null ? `${Math.round(s.reqPerSec)} req/s` : `${Math.round(s.mbpsTunnel ?? 0)} MB/s`;
  console.log(`## ${values.target} profile — (${r.scenario}) run ${r.run}: ${rate}, ` +
    `${t.totalMs.toFixed(0)} ms sampled busy in the window (${perReq}), idle ${t.idleMs.toFixed(0)} ms`);
  console.log(`\nprofile: ${path.relative(REPO_ROOT, file)}; flags: ${values['hopwise-flags'] || '(none)'}\n`);
  console.log(selfTimeTable(t.areas, 'area (self time)'));
  console.log('');
  console.log(selfTimeTable(t.functions, 'function (self time)'));
  console.log('');
}
