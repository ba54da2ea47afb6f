// One measurement: warm up, snapshot the counters, drive the measured load, snapshot again, and turn the deltas
// into a Sample. Every step is bounded in time.
import { perThousand } from './stats.js';

/**
 * @typedef {object} MeasureContext
 * @property {import('./processes.js').ManagedChild} loadgen
 * @property {import('./processes.js').ManagedChild} origin
 * @property {number} originPort
 * @property {import('./targets.js').RunningTarget} target
 * @property {import('../scenarios/index.js').Scenario} scenario
 * @property {{ connections: number, duration: number, warmup: number }} options
 */

/**
 * @typedef {object} Sample  one run of one scenario against one target; counts cover the measured window only
 * @property {number} requests        responses received
 * @property {number | null} reqPerSec
 * @property {number | null} p50      ms, 2xx responses
 * @property {number | null} p90
 * @property {number | null} p99
 * @property {number | null} max
 * @property {number} failures        transport errors + timeouts + non-2xx responses
 * @property {number} originConnections  TCP connections the origin accepted
 * @property {number} originRequests     requests the origin answered
 * @property {number | null} originPer1k origin connections per 1,000 origin requests
 * @property {number | null} proxyPer1k  upstream sockets per 1,000 upstream requests, as the proxy reports them
 * @property {Record<string, number | null>} raw  everything else the load generator reported
 */

/**
 * @param {number} seconds
 * @returns {number} how long to wait for one load run before declaring it hung
 */
function loadBoundMs(seconds) {
  return seconds * 1000 + 15_000;
}

/**
 * @param {import('./processes.js').ManagedChild} origin
 * @returns {Promise<{ connections: number, requests: number }>}
 */
async function originStats(origin) {
  const reply = await origin.request({ cmd: 'stats' }, 5000);
  return reply.stats;
}

/**
 * The request the load generator repeats: absolute-form through a proxy (RFC 9112 §3.2.2), origin-form otherwise.
 * @param {MeasureContext} ctx
 * @param {number} duration
 * @returns {import('../loadgen.js').LoadSpec}
 */
export function loadSpec(ctx, duration) {
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
    duration,
    closeEachRequest: load.closeEachRequest,
  };
}

/**
 * @param {import('./targets.js').ProxyCounters | null | undefined} before
 * @param {import('./targets.js').ProxyCounters | null | undefined} after
 * @returns {number | null}
 */
function proxyPer1k(before, after) {
  if (!before || !after) return null;
  const sockets = after.upstreamSockets !== null && before.upstreamSockets !== null
    ? after.upstreamSockets - before.upstreamSockets : null;
  const requests = after.upstreamRequests !== null && before.upstreamRequests !== null
    ? after.upstreamRequests - before.upstreamRequests : null;
  return perThousand(sockets, requests);
}

/**
 * Runs the scenario's load against the target once (after an unmeasured warm-up).
 * @param {MeasureContext} ctx
 * @returns {Promise<Sample>}
 */
export async function measureWithAutocannon(ctx) {
  const { warmup, duration } = ctx.options;
  if (warmup > 0) await ctx.loadgen.request({ cmd: 'run', spec: loadSpec(ctx, warmup) }, loadBoundMs(warmup));
  const originBefore = await originStats(ctx.origin);
  const proxyBefore = await ctx.target.counters?.();
  const { result } = await ctx.loadgen.request({ cmd: 'run', spec: loadSpec(ctx, duration) }, loadBoundMs(duration));
  const originAfter = await originStats(ctx.origin);
  const proxyAfter = await ctx.target.counters?.();
  const originConnections = originAfter.connections - originBefore.connections;
  const originRequests = originAfter.requests - originBefore.requests;
  return {
    requests: result.requests,
    reqPerSec: result.reqPerSec,
    p50: result.p50,
    p90: result.p90,
    p99: result.p99,
    max: result.max,
    failures: result.errors + result.timeouts + result.non2xx,
    originConnections,
    originRequests,
    originPer1k: perThousand(originConnections, originRequests),
    proxyPer1k: proxyPer1k(proxyBefore, proxyAfter),
    raw: result,
  };
}

/**
 * @param {MeasureContext} ctx
 * @returns {Promise<Sample>}
 */
export function measure(ctx) {
  return ctx.scenario.run ? ctx.scenario.run(ctx) : measureWithAutocannon(ctx);
}
