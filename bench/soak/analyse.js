// The soak verdict (issue 7): every request either answered correctly or failed with a proper, explained status;
// nothing silently truncated or duplicated; file descriptors back to baseline; RSS without a growth trend.

const FAILURES = new Set(['wrong-id', 'corrupt', 'unexpected-status', 'hang', 'unframed']);

/**
 * @typedef {import('./types.js').Result} Result
 * @typedef {import('./types.js').Arrival} Arrival
 * @typedef {{ fail?: string, note?: string } | undefined} Why
 * @typedef {{ t: number, rss: number, fds: number }} Sample  one per second of the measured phase
 * @typedef {{ start: number, baseline: number, peak: number, after: number }} Fds
 * @typedef {object} Run  a finished soak run, as analyse() reads it
 * @property {Map<string, Result>} results
 * @property {Map<string, Arrival[]>} arrivals
 * @property {string[]} bodyMismatches
 * @property {Sample[]} samples
 * @property {number} warmupEnd  ms into the measured phase after which RSS is judged
 * @property {Fds} fds
 * @property {number} sent
 * @property {{ code: number | null, signal: NodeJS.Signals | null }} exit
 * @property {boolean} strictRss
 */

/**
 * @param {number[]} xs
 * @returns {number}
 */
function median(xs) {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/**
 * Least-squares slope of y over x.
 * @param {Array<{ x: number, y: number }>} points
 * @returns {number}
 */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Why one client result is acceptable: undefined when correct or explained by what the origin did, `{ note }` when it
 * is a proper status that a slow machine can also produce (a 504 or a body timeout), `{ fail }` otherwise.
 * @param {Result} r
 * @param {Map<string, Arrival[]>} arrivals
 * @returns {Why}
 */
function explain(r, arrivals) {
  const seen = arrivals.get(r.id) ?? [];
  const last = seen.at(-1)?.behaviour;
  if (FAILURES.has(r.outcome)) return { fail: `${r.outcome} ${r.detail ?? ''}`.trim() };
  if (r.tunnel === true) return explainTunnel(r, seen, last);
  switch (r.outcome) {
    case 'ok':
      return ['ok', 'close', 'slow'].includes(last ?? '') ? undefined : { fail: `ok but the origin did "${last}"` };
    case 'proxy-error':
      if (r.detail === '504') return last === 'stall' ? undefined : { note: `504 while the origin did "${last}" (responseTimeout under load)` };
      return last === 'reset' || last === 'truncate' ? undefined : { fail: `502 but the origin did "${last}"` };
    case 'cut-after-head':
      if (last === 'truncate') return undefined;
      return last === 'slow' ? { note: 'cut during a slow body (bodyTimeout under load)' } : { fail: `cut after the head but the origin did "${last}"` };
    case 'cut-before-head':
      // Collateral of a cut on the same pipelined connection, a connection the proxy was closing as the request
      // arrived (never reached the origin), or a truncation whose head had not been flushed yet.
      if (r.detail === 'collateral' || seen.length === 0 || last === 'truncate') return undefined;
      return { fail: `response lost (origin did "${last}")` };
    default:
      return { fail: `unknown outcome ${r.outcome}` };
  }
}

/**
 * Inside a CONNECT tunnel the proxy only relays bytes (SPEC §6.1): an origin reset or stall closes the tunnel before
 * a response head, a truncation after it; there is no proxy status to expect.
 * @param {Result} r
 * @param {Arrival[]} seen
 * @param {string | undefined} last
 * @returns {Why}
 */
function explainTunnel(r, seen, last) {
  switch (r.outcome) {
    case 'ok':
      return ['ok', 'close', 'slow'].includes(last ?? '') ? undefined : { fail: `tunnel: ok but the origin did "${last}"` };
    case 'cut-before-head':
      return seen.length === 0 || ['reset', 'stall', 'truncate'].includes(last ?? '') ? undefined : { fail: `tunnel: closed early while the origin did "${last}"` };
    case 'cut-after-head':
      return last === 'truncate' ? undefined : { fail: `tunnel: cut after the head while the origin did "${last}"` };
    default:
      return { fail: `tunnel: ${r.outcome} ${r.detail ?? ''}`.trim() };
  }
}

/**
 * @typedef {object} Verdict
 * @property {Array<{ name: string, ok: boolean, detail: string, judged?: boolean }>} checks  `judged: false` marks a check
 *   reported but not enforced (printed as INFO, not PASS)
 * @property {Record<string, number>} counts  results by outcome
 * @property {number} retried  single stale retries of a GET seen at the origin
 * @property {string[]} notes
 * @property {{ first: number, last: number, mibPerMin: number, ok: boolean }} rss
 * @property {Fds} fds
 */

/**
 * Analyse a finished run.
 * @param {Run} run
 * @returns {Verdict}
 */
export function analyse(run) {
  const { results, arrivals, bodyMismatches, samples, warmupEnd, fds, sent, exit, strictRss } = run;
  /** @type {Record<string, number>} */
  const counts = {};
  /** @type {string[]} */
  const unexplained = [];
  /** @type {string[]} */
  const notes = [];
  for (const r of results.values()) {
    counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    const why = explain(r, arrivals);
    if (why?.fail !== undefined) unexplained.push(`${r.id}: ${why.fail}`);
    if (why?.note !== undefined) notes.push(`${r.id}: ${why.note}`);
  }
  /** @type {string[]} */
  const duplicates = [];
  let retried = 0;
  for (const [id, list] of arrivals) {
    if (list.length === 1) continue;
    const retry = list.length === 2 && list[0]?.method === 'GET' && list[0].behaviour === 'reset';
    if (retry) retried++;
    else duplicates.push(`${id}: ${list.map((a) => `${a.method}/${a.behaviour}`).join(' then ')}`);
  }
  const after = samples.filter((s) => s.t >= warmupEnd);
  const third = Math.max(1, Math.floor(after.length / 3));
  const rssFirst = median(after.slice(0, third).map((s) => s.rss));
  const rssLast = median(after.slice(-third).map((s) => s.rss));
  const mibPerMin = (slope(after.map((s) => ({ x: s.t / 60_000, y: s.rss }))) / 2 ** 20);
  const rssOk = rssLast <= rssFirst * 1.25 + 24 * 2 ** 20 && mibPerMin < 8;
  const checks = [
    { name: 'proxy exited cleanly on SIGTERM (no crash)', ok: exit.code === 0, detail: `exit ${String(exit.code)} ${exit.signal ?? ''}`.trim() },
    { name: 'every request got exactly one result', ok: results.size === sent, detail: `${results.size}/${sent}` },
    { name: 'every result is correct or explained', ok: unexplained.length === 0, detail: unexplained.slice(0, 10).join('; ') },
    { name: 'nothing duplicated upstream (only single stale retries of GET)', ok: duplicates.length === 0, detail: duplicates.slice(0, 10).join('; ') },
    { name: 'request bodies intact at the origin', ok: bodyMismatches.length === 0, detail: bodyMismatches.slice(0, 10).join(', ') },
    { name: 'open fds back to baseline', ok: fds.after <= fds.baseline, detail: `start ${fds.start}, baseline ${fds.baseline}, peak ${fds.peak}, after ${fds.after}` },
    {
      name: `RSS without a growth trend after warm-up${strictRss ? '' : ' (reported; enforced with --strict-rss or runs ≥ 60 s)'}`,
      ok: rssOk || !strictRss,
      // A short run is still warming up (heap, buffer pools and JIT growing to their working size): a steep slope over
      // a few seconds is mostly that growth extrapolated to a minute. Say so rather than print it next to PASS.
      judged: strictRss,
      detail:
        `median first third ${(rssFirst / 2 ** 20).toFixed(1)} MiB, last third ${(rssLast / 2 ** 20).toFixed(1)} MiB, ` +
        `slope ${mibPerMin.toFixed(2)} MiB/min; limits: slope < 8 MiB/min and last third ≤ 1.25 × first + 24 MiB` +
        (strictRss
          ? ''
          : `; not judged at this length (${rssOk ? 'within the limits anyway' : 'outside them'}): a run this short ` +
            'mostly measures warm-up growth; judge it with a run of 60 s or more (or --strict-rss)'),
    },
  ];
  return { checks, counts, retried, notes, rss: { first: rssFirst, last: rssLast, mibPerMin, ok: rssOk }, fds };
}
