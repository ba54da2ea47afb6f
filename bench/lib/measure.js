// One measurement: warm up, snapshot the counters as the measured window opens, snapshot again when it closes, and
// turn the deltas into a Sample. Every step is bounded in time.
import { perThousand } from './stats.js';

/**
 * @typedef {object} MeasureContext
 * @property {import('./managed-child.js').ManagedChild} loadgen
 * @property {import('./managed-child.js').ManagedChild} origin
 * @property {number} originPort
 * @property {import('./targets.js').RunningTarget} target
 * @property {import('../scenarios/index.js').Scenario} scenario
 * @property {import('./args.js').BenchOptions} options
 * @property {import('./cpu.js').CpuMeter} cpu
 * @property {import('./memory.js').MemoryMeter} memory
 */

/**
 * @typedef {object} Sample  one run of one scenario against one target; counts cover the measured window only
 * @property {number} requests        responses received
 * @property {number | null} reqPerSec
 * @property {number | null} p50      ms, 2xx responses
 * @property {number | null} p90
 * @property {number | null} p99
 * @property {number | null} max
 * @property {number} failures        transport errors (timeouts included) + non-2xx responses
 * @property {number} originConnections  TCP connections the origin accepted
 * @property {number} originRequests     requests the origin answered
 * @property {number | null} originPer1k origin connections per 1,000 origin requests
 * @property {number | null} proxyPer1k  upstream sockets per 1,000 upstream requests, as the proxy reports them
 * @property {number | null} cpuMsPer1k  CPU ms the target's processes used per 1,000 responses
 * @property {number | null} rssPeakMiB  the target's peak resident memory in the measured window (every process of it)
 * @property {Record<string, number> | null} upstreamClosed  upstream sockets closed in the window, by reason (hopwise)
 * @property {number | null} [warmedSockets]  requests held in flight at once by the pool warm-up that succeeded
 * @property {[number, number]} [windowUs]  when the window opened and closed, µs of the monotonic clock (the clock of
 *   `node --cpu-prof` profiles, so bench/profile.js can keep only the window's samples)
 * @property {import('../loadgen.js').LoadResult} [raw]  what the load generator reported
 */

/**
 * @typedef {object} Snapshot
 * @property {number | null} cpuMs
 * @property {{ connections: number, requests: number }} origin
 * @property {import('./targets.js').ProxyCounters | null} proxy
 */

/**
 * @param {MeasureContext} ctx
 * @returns {Promise<Snapshot>}
 */
export async function snapshot(ctx) {
  // The process doing the work: the proxy, or the origin itself for `direct`.
  const cpuMs = ctx.cpu.groupMs(ctx.target.process?.pid ?? ctx.origin.pid);
  const reply = await ctx.origin.request({ cmd: 'stats' }, 5000);
  const proxy = ctx.target.counters ? await ctx.target.counters() : null;
  return { cpuMs, origin: reply.stats, proxy };
}

/**
 * The request the load generator repeats: absolute-form through a proxy (RFC 9112 §3.2.2), origin-form otherwise.
 * @param {MeasureContext} ctx
 * @returns {import('../loadgen.js').LoadSpec}
 */
export function loadSpec(ctx) {
  const load = ctx.scenario.load ?? { path: '/', closeEachRequest: false };
  const originAuthority = `127.0.0.1:${ctx.originPort}`;
  /** @type {Record<string, string>} */
  const headers = { host: ctx.target.proxy ? originAuthority : `127.0.0.1:${ctx.target.port}` };
  if (load.closeEachRequest) headers.connection = 'close';
  return {
    port: ctx.target.port,
    path: ctx.target.proxy ? `http://${originAuthority}${load.path}` : load.path,
    headers,
    connections: ctx.options.connections,
    warmup: ctx.options.warmup,
    duration: ctx.options.duration,
    closeEachRequest: load.closeEachRequest,
  };
}

/**
 * @param {number | null | undefined} after
 * @param {number | null | undefined} before
 * @returns {number | null}
 */
function delta(after, before) {
  return typeof after === 'number' && typeof before === 'number' ? after - before : null;
}

/**
 * How the load generator reaches the origin through the target (for the drivers in lib/drivers.js).
 * @param {MeasureContext} ctx
 * @returns {import('./drivers.js').Route}
 */
export function route(ctx) {
  const authority = `127.0.0.1:${ctx.originPort}`;
  return { port: ctx.target.port, via: ctx.target.proxy ? authority : null, authority };
}

/**
 * Before a proxy is measured, holds `connections` requests in flight at once (origin `/delay/MS`) so its upstream
 * pool has grown to the load's concurrency: one-time growth to N sockets for N concurrent clients is not churn, and
 * must not be counted against the steady state (issue 8: at most 1 new upstream connection per 1,000 requests).
 * @param {MeasureContext} ctx
 * @returns {Promise<number | null>} requests that completed, null when the target is not a proxy
 */
export async function warmPool(ctx) {
  if (!ctx.target.proxy) return null;
  const spec = { ...route(ctx), count: ctx.options.connections, delayMs: 200, timeoutMs: 10_000 };
  const { result } = await ctx.loadgen.request({ cmd: 'warm', spec }, 15_000);
  return result.ok;
}

/**
 * Upstream socket closes in the window, by reason (hopwise's `/stats` `upstream.totals.socketsClosed`), so any churn
 * in the reuse column is explained.
 * @param {Record<string, number> | null | undefined} after
 * @param {Record<string, number> | null | undefined} before
 * @returns {Record<string, number> | null}
 */
function closedDelta(after, before) {
  if (!after) return null;
  /** @type {Record<string, number>} */
  const out = {};
  for (const [reason, n] of Object.entries(after)) {
    const d = n - (before?.[reason] ?? 0);
    if (d > 0) out[reason] = d;
  }
  return out;
}

/**
 * Runs the scenario's load against the target once: a warm-up, then the measured window on the same connections,
 * with the counters snapshotted when the window opens (the loadgen's `mark` event) and after it closes.
 * @param {MeasureContext} ctx
 * @returns {Promise<Sample>}
 */
export async function measureWithAutocannon(ctx) {
  const spec = loadSpec(ctx);
  const warmedSockets = await warmPool(ctx);
  /** @type {{ before: Promise<Snapshot> | null, after: Promise<Snapshot> | null }} */
  const marks = { before: null, after: null };
  const boundMs = (spec.warmup + spec.duration) * 1000 + 15_000;
  const windowUs = /** @type {[number, number]} */ ([0, 0]);
  /** @type {{ stop: () => number | null } | null} */
  let rss = null;
  /** @type {number | null} */
  let rssPeakMiB = null;
  const { result } = await ctx.loadgen.request({ cmd: 'run', spec }, boundMs, (event) => {
    if (event.event === 'mark') {
      windowUs[0] = Number(process.hrtime.bigint() / 1000n);
      marks.before = snapshot(ctx);
      rss = ctx.target.process ? ctx.memory.sampler(ctx.target.process) : null;
    }
    if (event.event === 'window-closed') {
      windowUs[1] = Number(process.hrtime.bigint() / 1000n);
      rssPeakMiB = rss?.stop() ?? null;
      // Snapshot first, then let the load generator tear its connections down: the aborts of in-flight requests at
      // teardown (and the upstream sockets they cost) belong to no window.
      marks.after = snapshot(ctx);
      void marks.after.finally(() => ctx.loadgen.request({ cmd: 'finish' }, 5000).catch(() => undefined));
    }
  });
  if (marks.before === null) throw new Error('the load generator never opened its measured window');
  const before = await marks.before;
  const after = await (marks.after ?? snapshot(ctx));
  /** @type {import('../loadgen.js').LoadResult} */
  const raw = result;
  const originConnections = after.origin.connections - before.origin.connections;
  const originRequests = after.origin.requests - before.origin.requests;
  return {
    requests: raw.requests,
    reqPerSec: raw.reqPerSec,
    p50: raw.p50,
    p90: raw.p90,
    p99: raw.p99,
    max: raw.max,
    failures: raw.errors + raw.non2xx,
    originConnections,
    originRequests,
    originPer1k: perThousand(originConnections, originRequests),
    proxyPer1k: perThousand(
      delta(after.proxy?.upstreamSockets, before.proxy?.upstreamSockets),
      delta(after.proxy?.upstreamRequests, before.proxy?.upstreamRequests),
    ),
    cpuMsPer1k: perThousand(delta(after.cpuMs, before.cpuMs), raw.requests),
    rssPeakMiB,
    upstreamClosed: closedDelta(after.proxy?.closedBy, before.proxy?.closedBy),
    warmedSockets,
    windowUs,
    raw,
  };
}

/**
 * @param {MeasureContext} ctx
 * @returns {Promise<Sample | Record<string, any>>}  a Sample, or a scenario's own numbers
 */
export function measure(ctx) {
  return ctx.scenario.run ? ctx.scenario.run(ctx) : measureWithAutocannon(ctx);
}

/**
 * @typedef {object} WindowResult  what a windowed driver (bulk, tunnels) measured, and the target's cost meanwhile
 * @property {{ bytes: number, durationS: number, responses: number, errors: number }} result
 * @property {number | null} cpuMs     the target's CPU time in the window
 * @property {number | null} rssPeakMiB  the target's peak resident memory in the window
 * @property {[number, number]} windowUs  when the window opened and closed (monotonic µs, as `windowUs` of a Sample)
 */

/**
 * Runs a windowed driver of the load generator and meters the target (CPU, peak RSS) over its measured window only.
 * @param {MeasureContext} ctx
 * @param {'bulk' | 'tunnels'} cmd
 * @param {Record<string, unknown> & { warmup: number, duration: number }} spec
 * @returns {Promise<WindowResult>}
 */
export async function measureWindow(ctx, cmd, spec) {
  const proc = ctx.target.process ?? ctx.origin;
  const pgid = proc.pid;
  /** @type {{ cpuMs: number | null, rss: { stop: () => number | null } } | null} */
  let opened = null;
  const boundMs = (spec.warmup + spec.duration) * 1000 + 15_000;
  const windowUs = /** @type {[number, number]} */ ([0, 0]);
  const { result } = await ctx.loadgen.request({ cmd, spec }, boundMs, (event) => {
    if (event.event !== 'mark') return;
    windowUs[0] = Number(process.hrtime.bigint() / 1000n);
    opened = { cpuMs: ctx.cpu.groupMs(pgid), rss: ctx.memory.sampler(proc) };
  });
  windowUs[1] = Number(process.hrtime.bigint() / 1000n);
  // A cast, not a declaration: the assignment above happens in a callback, which narrowing does not see.
  const mark = /** @type {{ cpuMs: number | null, rss: { stop: () => number | null } } | null} */ (
    /** @type {unknown} */ (opened)
  );
  if (mark === null) throw new Error('the load generator never opened its measured window');
  const rssPeakMiB = mark.rss.stop();
  return { result, cpuMs: delta(ctx.cpu.groupMs(pgid), mark.cpuMs), rssPeakMiB, windowUs };
}
