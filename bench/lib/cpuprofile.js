// Reads a V8 CPU profile (`node --cpu-prof`) and summarises self time inside a time window (pure: data in, rows out).
// Profile timestamps are microseconds of the same monotonic clock as `process.hrtime.bigint()` (CLOCK_MONOTONIC on
// Linux), so the harness can cut out start-up and shutdown and keep only the measured load.

/**
 * @typedef {object} CpuProfile
 * @property {Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number } }>} nodes
 * @property {number} startTime  µs
 * @property {number[]} samples   node id per sample
 * @property {number[]} timeDeltas  µs since the previous sample
 */

/**
 * @typedef {object} SelfTimeRow
 * @property {string} name   `function file:line`, or a package / area
 * @property {number} ms
 * @property {number} share  fraction of the window's sampled time
 */

/**
 * Shortens a script URL: `node:http`, `undici/lib/...`, `hopwise:forward/exchange.js`, or `(native)` for V8/C++.
 * @param {string} url
 * @returns {string}
 */
export function shortUrl(url) {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return `hopwise:${url.slice(dist + '/dist/'.length)}`;
  return url.replace(/^file:\/\//, '');
}

/**
 * The area a frame belongs to: a package name, `node:<module>` for Node's own JavaScript, `hopwise:<dir>` for ours,
 * `(gc)` / `(program)` / `(idle)` / `(native)` for the rest.
 * @param {{ functionName: string, url: string }} frame
 * @returns {string}
 */
export function areaOf(frame) {
  if (frame.url === '') {
    const special = /^\((garbage collector|program|idle)\)$/.exec(frame.functionName);
    return special ? `(${special[1] === 'garbage collector' ? 'gc' : special[1]})` : '(native)';
  }
  if (frame.url.startsWith('node:')) return `node:${frame.url.slice(5).replace(/^internal\//, 'internal/').split('/').slice(0, 2).join('/')}`;
  const short = shortUrl(frame.url);
  if (short.startsWith('hopwise:')) return short.split('/')[0] ?? short;
  const parts = short.split('/');
  return (parts[0] ?? '').startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? short);
}

/**
 * Self time per function and per area, for samples taken in [fromUs, toUs] (both optional).
 * @param {CpuProfile} profile
 * @param {{ fromUs?: number, toUs?: number, top?: number }} [opts]
 * @returns {{ totalMs: number, idleMs: number, functions: SelfTimeRow[], areas: SelfTimeRow[] }}
 */
export function selfTime(profile, opts = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const perNode = new Map();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (opts.fromUs !== undefined && t < opts.fromUs) continue;
    if (opts.toUs !== undefined && t > opts.toUs) break;
    const id = /** @type {number} */ (profile.samples[i]);
    perNode.set(id, (perNode.get(id) ?? 0) + dt);
  }
  /** @type {Map<string, number>} */
  const fns = new Map();
  /** @type {Map<string, number>} */
  const areas = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of perNode) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const area = areaOf(frame);
    if (area === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const fn = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    fns.set(fn, (fns.get(fn) ?? 0) + us);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const rows = (/** @type {Map<string, number>} */ m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, opts.top ?? 30)
      .map(([name, us]) => ({ name, ms: us / 1000, share: total > 0 ? us / total : 0 }));
  return { totalMs: total / 1000, idleMs: idle / 1000, functions: rows(fns), areas: rows(areas) };
}

/**
 * @param {SelfTimeRow[]} rows
 * @param {string} title
 * @returns {string} a Markdown table
 */
export function selfTimeTable(rows, title) {
  const lines = [`| ${title} | self ms | share |`, '| --- | ---: | ---: |'];
  for (const r of rows) lines.push(`| \`${r.name}\` | ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)}% |`);
  return lines.join('\n');
}
