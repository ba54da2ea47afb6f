// Results → Markdown (pure: data in, text out). Medians over runs per (scenario, target), ratios to `direct` and
// to `node-hello`, and the machine facts a reader needs to weigh the numbers.
import { median } from './stats.js';

/**
 * @typedef {object} RunRecord
 * @property {number} run
 * @property {string} scenario   scenario id
 * @property {string} target
 * @property {Record<string, any> | null} sample  a Sample (measure.js) or a scenario's own numbers
 * @property {string | null} error
 */

/**
 * @typedef {object} Summary  medians over the successful runs of one (scenario, target)
 * @property {number} runs
 * @property {number} failedRuns
 * @property {Record<string, number | null>} median  every numeric field of the samples
 * @property {number} failures   summed over runs
 * @property {Record<string, number>} upstreamClosed  upstream closes by reason, summed over runs (hopwise)
 */

/**
 * @param {RunRecord[]} records
 * @param {string} scenario
 * @param {string} target
 * @returns {Summary | null} null when the pair never ran
 */
export function summarize(records, scenario, target) {
  const mine = records.filter((r) => r.scenario === scenario && r.target === target);
  if (mine.length === 0) return null;
  const samples = mine.flatMap((r) => (r.sample ? [r.sample] : []));
  /** @type {Record<string, number | null>} */
  const med = {};
  const keys = new Set(samples.flatMap((s) => Object.keys(s).filter((k) => typeof s[k] === 'number' || s[k] === null)));
  for (const key of keys) med[key] = median(samples.map((s) => s[key]));
  /** @type {Record<string, number>} */
  const upstreamClosed = {};
  for (const s of samples) {
    for (const [reason, n] of Object.entries(s.upstreamClosed ?? {})) upstreamClosed[reason] = (upstreamClosed[reason] ?? 0) + n;
  }
  return {
    runs: samples.length,
    failedRuns: mine.length - samples.length,
    median: med,
    failures: samples.reduce((n, s) => n + (s.failures ?? 0), 0),
    upstreamClosed,
  };
}

/**
 * @param {number | null | undefined} v
 * @param {number} digits
 * @returns {string}
 */
function fixed(v, digits) {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

/**
 * @param {number | null | undefined} v
 * @returns {string}
 */
function thousands(v) {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—';
}

/**
 * @param {number | null | undefined} a
 * @param {number | null | undefined} b
 * @returns {string}
 */
function ratio(a, b) {
  return typeof a === 'number' && typeof b === 'number' && b > 0 ? `${(a / b).toFixed(2)}×` : '—';
}

/**
 * @typedef {{ direct: Summary | null, hello: Summary | null }} Anchors  the rows ratios are taken against
 */

/**
 * The columns a scenario may ask for, each a header and a cell renderer.
 * @type {Record<string, { headers: string[], cells: (s: Summary, anchors: Anchors) => string[] }>}
 */
const COLUMNS = {
  reqPerSec: {
    headers: ['req/s', '× direct', '× node-hello'],
    cells: (s, { direct, hello }) => [
      thousands(s.median.reqPerSec),
      ratio(s.median.reqPerSec, direct?.median.reqPerSec),
      ratio(s.median.reqPerSec, hello?.median.reqPerSec),
    ],
  },
  p50: { headers: ['p50 ms'], cells: (s) => [fixed(s.median.p50, 2)] },
  p99: { headers: ['p99 ms'], cells: (s) => [fixed(s.median.p99, 2)] },
  rssPeak: mib('RSS peak MiB', 'rssPeakMiB'),
  failures: { headers: ['failures'], cells: (s) => [String(s.failures)] },
  originPer1k: { headers: ['origin conns / 1k req'], cells: (s) => [fixed(s.median.originPer1k, 1)] },
  proxyPer1k: { headers: ['upstream sockets / 1k (proxy stats)'], cells: (s) => [fixed(s.median.proxyPer1k, 1)] },
  // Work per request: robust to a shared machine, where req/s also measures the other tenants.
  cpu: {
    headers: ['CPU ms / 1k req', 'CPU-eff. × node-hello'],
    cells: (s, { hello }) => [fixed(s.median.cpuMsPer1k, 0), ratio(hello?.median.cpuMsPer1k, s.median.cpuMsPer1k)],
  },
  closes: {
    headers: ['upstream closes in windows (hopwise /stats, summed over runs)'],
    cells: (s) => [closesText(s.upstreamClosed)],
  },
  mbps1m: throughput('MB/s 1 MB', 'mbps1m'),
  mbps100m: throughput('MB/s 100 MB', 'mbps100m'),
  mbpsTunnel: throughput('MB/s', 'mbpsTunnel'),
  rssIdle: mib('RSS idle MiB', 'rssIdleMiB'),
  rssPeak1m: mib('RSS peak 1 MB MiB', 'rssPeak1mMiB'),
  rssPeak100m: mib('RSS peak 100 MB MiB', 'rssPeak100mMiB'),
  rssPeakTunnel: mib('RSS peak MiB', 'rssPeakTunnelMiB'),
  rssBefore: mib('RSS before MiB', 'rssBeforeMiB'),
  rssWith: mib('RSS with idle conns MiB', 'rssWithMiB'),
  cpuPerGB: { headers: ['CPU ms / GiB'], cells: (s) => [thousands(s.median.cpuMsPerGB)] },
  idleHeld: {
    headers: ['idle conns held / tried'],
    cells: (s) => [`${thousands(s.median.idleHeld)} / ${thousands(s.median.idleTarget)}`],
  },
  kibPerConn: { headers: ['KiB / idle conn'], cells: (s) => [fixed(s.median.kibPerConn, 1)] },
};

/**
 * @param {string} header
 * @param {string} key
 * @returns {{ headers: string[], cells: (s: Summary, anchors: Anchors) => string[] }}
 */
function throughput(header, key) {
  return {
    headers: [header, '× direct'],
    cells: (s, { direct }) => [thousands(s.median[key]), ratio(s.median[key], direct?.median[key])],
  };
}

/**
 * @param {string} header
 * @param {string} key
 * @returns {{ headers: string[], cells: (s: Summary) => string[] }}
 */
function mib(header, key) {
  return { headers: [header], cells: (s) => [fixed(s.median[key], 0)] };
}

/**
 * @param {Record<string, number>} closed
 * @returns {string}
 */
function closesText(closed) {
  const parts = Object.entries(closed).map(([reason, n]) => `${reason} ${n}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

/**
 * @param {import('../scenarios/index.js').Scenario} scenario
 * @param {string[]} targets  in display order
 * @param {RunRecord[]} records
 * @returns {string}
 */
export function scenarioTable(scenario, targets, records) {
  const columns = scenario.columns.flatMap((c) => (COLUMNS[c] ? [COLUMNS[c]] : []));
  const anchors = {
    direct: summarize(records, scenario.id, 'direct'),
    hello: summarize(records, scenario.id, 'node-hello'),
  };
  const header = ['target', 'runs', ...columns.flatMap((c) => c.headers)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 1 ? ' --- ' : ' ---: ')).join('|')}|`];
  const rowsBefore = lines.length;
  for (const target of targets) {
    const s = summarize(records, scenario.id, target);
    if (!s) continue;
    const runs = s.failedRuns > 0 ? `${s.runs} (+${s.failedRuns} failed)` : String(s.runs);
    if (s.runs === 0) {
      lines.push(`| ${target} | ${runs} | ${header.slice(2).map(() => '—').join(' | ')} |`);
      continue;
    }
    lines.push(`| ${target} | ${runs} | ${columns.flatMap((c) => c.cells(s, anchors)).join(' | ')} |`);
  }
  return lines.length === rowsBefore ? '(no results)' : lines.join('\n');
}

/**
 * The same-run comparisons issue 12 asks for: [label, numerator target, denominator target]. A row is shown when both
 * targets ran. Each ratio is taken per run (the targets of one run measured minutes apart at most, in rotating
 * order) and reported as the median with the range over runs: a wide range means a noisy machine.
 * @type {ReadonlyArray<[string, string, string]>}
 */
const PAIRS = [
  ['hopwise default config vs squid with its access log', 'hopwise-default', 'squid-log'],
  ['hopwise access log on vs off', 'hopwise-default', 'hopwise'],
  ['hopwise logging off vs squid with its access log', 'hopwise', 'squid-log'],
  ['squid access log on vs off', 'squid-log', 'squid'],
  ['floor: undici-minimal vs squid with its access log', 'undici-minimal', 'squid-log'],
  ['floor: llhttp-minimal vs squid with its access log', 'llhttp-minimal', 'squid-log'],
  ['after vs before (default config)', 'hopwise-default', 'hopwise-baseline-default'],
  ['after vs before (logging off)', 'hopwise', 'hopwise-baseline'],
  ['before: access log on vs off', 'hopwise-baseline-default', 'hopwise-baseline'],
];

/**
 * Per-run ratios of one field between two targets in one scenario: `median [min–max]`, or null when none.
 * @param {RunRecord[]} records
 * @param {string} scenario
 * @param {string} a
 * @param {string} b
 * @param {string} key
 * @returns {string | null}
 */
function runRatios(records, scenario, a, b, key) {
  /** @type {number[]} */
  const ratios = [];
  for (const ra of records) {
    if (ra.scenario !== scenario || ra.target !== a || !ra.sample) continue;
    const rb = records.find((r) => r.scenario === scenario && r.target === b && r.run === ra.run && r.sample);
    const [x, y] = [ra.sample[key], rb?.sample?.[key]];
    if (typeof x === 'number' && typeof y === 'number' && y > 0) ratios.push(x / y);
  }
  if (ratios.length === 0) return null;
  const mid = /** @type {number} */ (median(ratios));
  const range = ratios.length > 1 ? ` [${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}]` : '';
  return `${mid.toFixed(2)}×${range}`;
}

/**
 * The same-run ratio table for the keep-alive and close scenarios (a, b), or null when no pair ran.
 * @param {ReportInput} input
 * @returns {string | null}
 */
export function ratioTable(input) {
  const ids = input.scenarios.map((s) => s.id).filter((id) => id === 'a' || id === 'b');
  const ran = new Set(input.targets);
  const pairs = PAIRS.filter(([, a, b]) => ran.has(a) && ran.has(b));
  if (ids.length === 0 || pairs.length === 0) return null;
  const header = ['comparison', ...ids.flatMap((id) => [`(${id}) req/s`, `(${id}) CPU-eff.`, `(${id}) p99`])];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 1 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const [label, a, b] of pairs) {
    const cells = ids.flatMap((id) => [
      runRatios(input.records, id, a, b, 'reqPerSec'),
      // CPU efficiency: the other target's CPU per request over this one's (higher is better, like req/s).
      runRatios(input.records, id, b, a, 'cpuMsPer1k'),
      runRatios(input.records, id, a, b, 'p99'),
    ]);
    lines.push(`| ${label} (${a} / ${b}) | ${cells.map((c) => c ?? '—').join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * @typedef {object} ReportInput
 * @property {import('./platform.js').MachineFacts} facts
 * @property {string} command
 * @property {import('./args.js').BenchOptions} options
 * @property {import('../scenarios/index.js').Scenario[]} scenarios
 * @property {import('../scenarios/index.js').Scenario[]} pendingScenarios
 * @property {string[]} targets           targets that ran, in display order
 * @property {Array<{ name: string, reason: string }>} skipped   not available here (not built, not installed)
 * @property {Array<{ name: string, reason: string }>} failedToStart
 * @property {RunRecord[]} records
 * @property {string | null} incomplete   why the run stopped early, or null
 */

/**
 * @param {ReportInput} input
 * @returns {string}
 */
export function renderReport(input) {
  const { facts, options } = input;
  const out = [
    `## hopwise bench — ${facts.date}`,
    '',
    `- command: \`${input.command}\``,
    `- node ${facts.node}, ${facts.platform}`,
    `- CPU: ${facts.cpu}; ${facts.cores} cores usable; ${facts.memoryGiB} GiB RAM`,
    `- layout: ${facts.layout}`,
    `- load average at start: ${facts.loadavg.join(' / ')} (the machine may be shared)`,
    `- load: autocannon, ${options.connections} connections, ${options.duration} s measured after ${options.warmup} s` +
      ` warm-up, ${options.runs} run(s) per cell; medians reported (failures: summed over runs)`,
  ];
  if (facts.loadavg[0] !== undefined && facts.loadavg[0] > facts.cores / 2) {
    out.push(`- **busy machine**: load average ${facts.loadavg[0]} on ${facts.cores} cores; req/s and latencies are` +
      ' disturbed by other work, CPU ms per request much less so');
  }
  if (input.incomplete) out.push('', `**INCOMPLETE: ${input.incomplete}**`);
  for (const scenario of input.scenarios) {
    const table = scenarioTable(scenario, input.targets, input.records);
    out.push('', `### (${scenario.id}) ${scenario.name}: ${scenario.title}`, '', table);
    const skips = input.targets.flatMap((t) => {
      const why = scenario.skip?.(t);
      return why ? [`- ${t}: not run — ${why}`] : [];
    });
    if (skips.length > 0) out.push('', ...skips);
  }
  const ratios = ratioTable(input);
  if (ratios !== null) {
    out.push('', '### Same-run ratios', '', 'Median of the per-run ratios, [lowest–highest] over runs. req/s and' +
      ' CPU-eff. (the other target\'s CPU per request over this one\'s): above 1 is better; p99: below 1 is better.',
    '', ratios);
  }
  const notes = input.pendingScenarios.length + input.skipped.length + input.failedToStart.length;
  if (notes > 0) out.push('');
  for (const s of input.pendingScenarios) out.push(`- scenario (${s.id}) ${s.name}: not yet implemented, skipped`);
  for (const s of input.skipped) out.push(`- target ${s.name}: skipped — ${s.reason}`);
  for (const s of input.failedToStart) out.push(`- target ${s.name}: FAILED TO START — ${s.reason}`);
  const errors = input.records.filter((r) => r.error);
  if (errors.length > 0) {
    out.push('', 'Failed runs:');
    for (const r of errors) out.push(`- (${r.scenario}) ${r.target} run ${r.run}: ${r.error?.split('\n')[0]}`);
  }
  return `${out.join('\n')}\n`;
}
