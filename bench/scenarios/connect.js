// Scenario (e): CONNECT tunnel throughput (SPEC §6). A few clients each open one tunnel to the origin and loop
// `GET /bytes/N` through it; the proxy only splices bytes. `direct` is the same over a plain connection (the ceiling).
import { measureWindow } from '../lib/measure.js';

const MiB = 1024 * 1024;
export const TUNNEL_CONNECTIONS = 4;
const SIZE = 16 * MiB;

/** Targets that cannot open a CONNECT tunnel, and why. */
const NO_CONNECT = {
  'http-proxy': 'http-proxy relays requests only: no CONNECT handler (Node answers CONNECT by closing)',
  'http-proxy-agent': 'http-proxy relays requests only: no CONNECT handler (Node answers CONNECT by closing)',
  'node-hello': 'not a proxy',
};

/**
 * @param {import('../lib/args.js').BenchOptions} o
 * @returns {{ warmup: number, duration: number }}
 */
function windowOf(o) {
  return { warmup: o.quick ? 0.25 : Math.min(o.warmup, 0.5), duration: Math.max(0.5, o.duration / 2) };
}

/** @type {import('./index.js').Scenario} */
export default {
  id: 'e',
  name: 'connect',
  title: `CONNECT tunnel throughput, ${TUNNEL_CONNECTIONS} tunnels looping GET /bytes/${SIZE / MiB}MB to the origin`,
  implemented: true,
  skip: (target) => NO_CONNECT[/** @type {keyof typeof NO_CONNECT} */ (target)] ?? null,
  estimateS: (o) => windowOf(o).warmup + windowOf(o).duration + 0.3,
  columns: ['mbpsTunnel', 'rssPeakTunnel', 'cpuPerGB', 'failures'],
  async run(ctx) {
    const authority = `127.0.0.1:${ctx.originPort}`;
    const spec = {
      port: ctx.target.port,
      tunnelTo: ctx.target.proxy ? authority : null,
      authority,
      size: SIZE,
      connections: TUNNEL_CONNECTIONS,
      ...windowOf(ctx.options),
    };
    const w = await measureWindow(ctx, 'tunnels', spec);
    const mb = w.result.bytes / MiB;
    return {
      mbpsTunnel: w.result.durationS > 0 ? mb / w.result.durationS : null,
      rssPeakTunnelMiB: w.rssPeakMiB,
      cpuMsPerGB: w.cpuMs === null || mb === 0 ? null : (w.cpuMs * 1024) / mb,
      failures: w.result.errors + (w.result.bytes === 0 ? 1 : 0),
      requests: 0,
      reqPerSec: null,
      windowUs: w.windowUs,
    };
  },
};
