#!/usr/bin/env node
// hopwise soak (issue 7): `npm run soak [-- --duration 120 --seed 42 --clients 1 --json out.json --strict-rss]`.
//
// Runs the real CLI (dist/) as a child process behind a chaos origin (random resets, stalls, early closes, slow
// bodies) and drives bounded mixed load through it: keep-alive clients, Connection: close clients, pipelining
// clients and CONNECT tunnel clients.
// Asserts: no crash, every request answered correctly or failed with a proper and explained status (nothing silently
// truncated or duplicated), open fds back to baseline, RSS without a growth trend after warm-up. Exit 1 on failure.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { analyse } from './soak/analyse.js';
import { httpClient, pipelineClient } from './soak/clients.js';
import { startChaosOrigin } from './soak/origin.js';
import { tunnelClient } from './soak/tunnel.js';
import { openFds, rss, startProxyProcess } from './soak/proc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '120' },
    seed: { type: 'string' },
    clients: { type: 'string', default: '1' },
    json: { type: 'string' },
    'strict-rss': { type: 'boolean', default: false },
  },
});
const durationMs = Number(opts.duration) * 1000;
const seed = opts.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(opts.seed);
const scale = Math.max(1, Number(opts.clients));
const strictRss = opts['strict-rss'] || durationMs >= 60_000;

const CONFIG = {
  listen: { host: '127.0.0.1', port: 0 },
  admin: { enabled: true, host: '127.0.0.1', port: 0 },
  // info: the startup line says where it listens; the access log stays off.
  log: { level: 'info', format: 'json', access: false },
  stats: { interval: 0 },
  downstream: { keepAliveTimeout: 1000, headersTimeout: 5000, requestTimeout: 30_000 },
  upstream: { idleTimeout: 1000, responseTimeout: 2500, bodyTimeout: 4000, connectTimeout: 2000 },
  shutdown: { drainTimeout: 3000 },
};

const delay = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait (bounded) until the proxy's fd count stops falling; returns the settled count.
 * @param {number | undefined} pid
 * @param {number} target
 * @param {number} maxMs
 * @returns {Promise<number>}
 */
async function settledFds(pid, target, maxMs) {
  const deadline = performance.now() + maxMs;
  let last = openFds(pid);
  let stableSince = performance.now();
  while (performance.now() < deadline) {
    await delay(250);
    const now = openFds(pid);
    if (now <= target) return now;
    if (now < last) stableSince = performance.now();
    last = now;
    if (performance.now() - stableSince > 3000) return now;
  }
  return last;
}

/**
 * @param {import('./soak/types.js').SoakContext} ctx
 * @param {number} ms
 * @returns {Promise<void>}
 */
async function load(ctx, ms) {
  ctx.stopAt = performance.now() + ms;
  const runs = [];
  for (let i = 0; i < 4 * scale; i++) runs.push(httpClient(ctx, `k${ctx.phase}${i}`, true));
  for (let i = 0; i < 2 * scale; i++) runs.push(httpClient(ctx, `c${ctx.phase}${i}`, false));
  for (let i = 0; i < 2 * scale; i++) runs.push(pipelineClient(ctx, `p${ctx.phase}${i}`));
  for (let i = 0; i < scale; i++) runs.push(tunnelClient(ctx, `t${ctx.phase}${i}`, 20_000));
  await Promise.all(runs);
}

async function main() {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run soak does)');
  console.log(`soak: seed=${seed} duration=${durationMs / 1000}s clients=${9 * scale} (reproduce: npm run soak -- --seed ${seed} --duration ${durationMs / 1000})`);
  const origin = await startChaosOrigin(seed);
  const proxy = await startProxyProcess(root, CONFIG);
  const pid = proxy.child.pid;
  // A crash ends the run at once with the child's stderr: that is the finding.
  /** @type {import('./soak/proc.js').Exit | undefined} */
  let crashed;
  void proxy.exited.then((e) => {
    if (!stopping) crashed = e;
  });
  let stopping = false;
  /** @type {Map<string, import('./soak/types.js').Result>} */
  const results = new Map();
  let sent = 0;
  /** @type {import('./soak/types.js').SoakContext} */
  const ctx = {
    seed,
    phase: 'w',
    proxyPort: Number(new URL(proxy.proxyUrl).port),
    originPort: origin.port,
    stopAt: 0,
    record: (r) => {
      results.set(r.id, r);
      sent++;
    },
  };
  const fds = { start: openFds(pid), baseline: 0, peak: 0, after: 0 };
  // A short warm-up lets lazily opened descriptors appear, then the idle count is the baseline.
  await load(ctx, Math.min(3000, durationMs / 10));
  fds.baseline = await settledFds(pid, fds.start, 15_000);
  if (crashed !== undefined) throw new Error(`the proxy died during warm-up (${JSON.stringify(crashed)}):\n${proxy.stderr().slice(-4000)}`);

  /** @type {import('./soak/analyse.js').Sample[]} */
  const samples = [];
  const t0 = performance.now();
  const sampler = setInterval(() => {
    const f = openFds(pid);
    fds.peak = Math.max(fds.peak, f);
    samples.push({ t: performance.now() - t0, rss: rss(pid), fds: f });
  }, 1000);
  ctx.phase = 'm';
  await load(ctx, durationMs);
  clearInterval(sampler);
  if (crashed !== undefined) {
    console.error(`soak: FAIL the proxy died during the run (${JSON.stringify(crashed)}):\n${proxy.stderr().slice(-4000)}`);
    await origin.close();
    return 1;
  }
  fds.after = await settledFds(pid, fds.baseline, 20_000);

  const stats = await fetch(`${proxy.adminUrl}/stats`).then((r) => r.json()).catch((e) => ({ error: String(e) }));
  stopping = true;
  const exit = await proxy.stop();
  await origin.close();
  const verdict = analyse({
    results, arrivals: origin.arrivals, bodyMismatches: origin.bodyMismatches, samples, fds, sent, exit, strictRss,
    warmupEnd: Math.min(30_000, durationMs * 0.25),
  });
  report({ seed, durationMs, sent, verdict, stats, warnings: proxy.logs.filter((l) => l.level === 'warn' || l.level === 'error') });
  return verdict.checks.every((c) => c.ok) ? 0 : 1;
}

/**
 * @param {{ seed: number, durationMs: number, sent: number, verdict: import('./soak/analyse.js').Verdict, stats: any,
 *   warnings: Array<Record<string, any>> }} run
 */
function report({ seed: s, durationMs: d, sent, verdict, stats, warnings }) {
  const rate = (sent / (d / 1000)).toFixed(0);
  console.log(`soak: ${sent} requests (~${rate}/s incl. warm-up), outcomes ${JSON.stringify(verdict.counts)}, stale retries seen upstream ${verdict.retried}`);
  const ds = stats.downstream ?? {};
  console.log(`soak: proxy counted ${ds.requests ?? '?'} requests on ${ds.connectionsAccepted ?? '?'} connections, ${stats.tunnels?.opened ?? '?'} tunnels; closed by ${JSON.stringify(ds.connectionsClosed ?? {})}`);
  if (verdict.notes.length > 0) console.log(`soak: ${verdict.notes.length} proper-but-timing-dependent results, e.g. ${verdict.notes.slice(0, 3).join('; ')}`);
  if (warnings.length > 0) console.log(`soak: ${warnings.length} warn/error log lines, first: ${JSON.stringify(warnings[0])}`);
  for (const c of verdict.checks) {
    const status = c.judged === false ? 'INFO' : c.ok ? 'PASS' : 'FAIL';
    console.log(`  ${status}  ${c.name}${c.detail ? ` — ${c.detail}` : ''}`);
  }
  if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify({ seed: s, durationMs: d, sent, ...verdict, stats }, null, 2));
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`soak: ${err.stack ?? err}`);
    process.exitCode = 2;
  },
);
