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
 * @property {{ connections: number, duration: number, warmup: number }} options
 * @property {import('./cpu.js').CpuMeter} cpu
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
 * @property {import('../loadgen.js').LoadResult} raw  what the load generator reported
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
async function snapshot(ctx) {
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
 * Runs the scenario's load against the target once: a warm-up, then the measured window on the same connections,
 * with the counters snapshotted when the window opens (the loadgen's `mark` event) and after it closes.
 * @param {MeasureContext} ctx
 * @returns {Promise<Sample>}
 */
export async function measureWithAutocannon(ctx) {
  const spec = loadSpec(ctx);
  /** @type {{ snapshot: Promise<Snapshot> | null }} */
  const mark = { snapshot: null };
  const boundMs = (spec.warmup + spec.duration) * 1000 + 15_000;
  const { result } = await ctx.loadgen.request({ cmd: 'run', spec }, boundMs, (event) => {
    if (event.event === 'mark') mark.snapshot = snapshot(ctx);
  });
  if (mark.snapshot === null) throw new Error('the load generator never opened its measured window');
  const before = await mark.snapshot;
  const after = await snapshot(ctx);
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
    raw,
  };
}

/**
 * @param {MeasureContext} ctx
 * @returns {Promise<Sample>}
 */
export function measure(ctx) {
  return ctx.scenario.run ? ctx.scenario.run(ctx) : measureWithAutocannon(ctx);
}
