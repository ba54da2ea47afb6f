// Scenario (d): many idle keep-alive client connections. The load generator opens N connections to the target, sends
// one request on each and reads the response, then holds them all open and idle; the target's resident memory before
// and with them gives the memory cost of one idle downstream connection. Open-file limits are checked (and raised
// with prlimit when needed); when they cannot cover N, N is lowered and the report says so. The target is restarted
// before each measurement, so the baseline is a fresh process and not a heap an earlier scenario already grew.
import { ensureOpenFiles } from '../lib/limits.js';
import { route } from '../lib/measure.js';

/** Connections opened concurrently while building up the idle set (below a listen backlog of 511). */
const OPEN_BATCH = 256;
/** Descriptors kept free for everything else a process holds (listeners, pipes, upstream sockets). */
const FD_HEADROOM = 256;

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @type {import('./index.js').Scenario} */
export default {
  id: 'd',
  name: 'idle-connections',
  title: 'idle keep-alive client connections held open: resident memory per connection',
  implemented: true,
  freshTarget: true,
  estimateS: (o) => 2 + o.idleConnections / 2000,
  columns: ['idleHeld', 'rssBefore', 'rssWith', 'kibPerConn', 'failures'],
  async run(ctx) {
    const proc = ctx.target.process ?? ctx.origin;
    const pids = [...ctx.memory.members(proc), ...(ctx.loadgen.pid ? [ctx.loadgen.pid] : [])];
    const limits = ensureOpenFiles(pids, ctx.options.idleConnections + FD_HEADROOM);
    for (const note of limits.notes) console.error(`  (d) ${note}`);
    const count = Math.min(ctx.options.idleConnections, limits.allowed - FD_HEADROOM);
    // The target was just (re)started: give it a moment to settle after its start-up work.
    await sleep(300);
    const rssBeforeMiB = ctx.memory.rssMiB(proc);
    const spec = { ...route(ctx), count, batch: OPEN_BATCH, timeoutMs: 10_000 };
    const { result } = await ctx.loadgen.request({ cmd: 'idle-open', spec }, 120_000);
    // Let the target finish the bookkeeping of the last responses before reading its memory.
    await sleep(500);
    const rssWithMiB = ctx.memory.rssMiB(proc);
    const { result: closed } = await ctx.loadgen.request({ cmd: 'idle-close' }, 15_000);
    const held = Math.min(result.opened, closed.held);
    const grown = rssWithMiB !== null && rssBeforeMiB !== null ? (rssWithMiB - rssBeforeMiB) * 1024 : null;
    return {
      idleTarget: count,
      idleHeld: held,
      idleOpenMs: result.openMs,
      rssBeforeMiB,
      rssWithMiB,
      kibPerConn: grown !== null && held > 0 ? grown / held : null,
      failures: result.failed,
      requests: result.opened,
      reqPerSec: null,
    };
  },
};
