// Scenario (c): large response bodies streamed through the target (origin `/bytes/N`), 1 MB and 100 MB, by a few
// keep-alive clients looping over them. Throughput (MB/s of body received) and the target's resident memory: with
// back-pressure end to end (SPEC §5.1), memory must not grow with the body size.
import { measureWindow, route } from '../lib/measure.js';

const MiB = 1024 * 1024;
/** Concurrent clients: enough to keep both legs busy, few enough that each stream is large. */
export const BODY_CONNECTIONS = 4;
const SIZES = /** @type {const} */ ([
  { key: '1m', bytes: MiB },
  { key: '100m', bytes: 100 * MiB },
]);

/**
 * Each size gets half the scenario's measured time (at least 0.5 s) after a short warm-up.
 * @param {import('../lib/args.js').BenchOptions} o
 * @returns {{ warmup: number, duration: number }}
 */
function windowOf(o) {
  return { warmup: o.quick ? 0.25 : Math.min(o.warmup, 0.5), duration: Math.max(0.5, o.duration / 2) };
}

/** @type {import('./index.js').Scenario} */
export default {
  id: 'c',
  name: 'large-bodies',
  title: `large response bodies, 1 MB and 100 MB, ${BODY_CONNECTIONS} keep-alive clients looping`,
  implemented: true,
  skip: (target) => (target === 'node-hello' ? 'answers by itself: no origin behind it to stream from' : null),
  estimateS: (o) => SIZES.length * (windowOf(o).warmup + windowOf(o).duration + 0.3),
  columns: ['mbps1m', 'mbps100m', 'rssIdle', 'rssPeak1m', 'rssPeak100m', 'cpuPerGB', 'failures'],
  async run(ctx) {
    const proc = ctx.target.process ?? ctx.origin;
    /** @type {Record<string, number | null>} */
    const sample = { rssIdleMiB: ctx.memory.rssMiB(proc) };
    let failures = 0;
    let cpuMs = 0;
    let bytes = 0;
    for (const size of SIZES) {
      const spec = { ...route(ctx), ...windowOf(ctx.options), size: size.bytes, connections: BODY_CONNECTIONS };
      const w = await measureWindow(ctx, 'bulk', spec);
      sample[`mbps${size.key}`] = w.result.durationS > 0 ? w.result.bytes / MiB / w.result.durationS : null;
      sample[`rssPeak${size.key}MiB`] = w.rssPeakMiB;
      failures += w.result.errors;
      cpuMs += w.cpuMs ?? Number.NaN;
      bytes += w.result.bytes;
      if (w.result.bytes === 0) failures += 1;
    }
    // CPU ms per GiB relayed: the cost of moving bytes, comparable across runs on a shared machine.
    const cpuMsPerGB = Number.isFinite(cpuMs) && bytes > 0 ? (cpuMs * 1024) / (bytes / MiB) : null;
    return { ...sample, cpuMsPerGB, failures, requests: 0, reqPerSec: null };
  },
};
