// The scenario registry. A scenario either describes an autocannon load (`load`), which the harness's driver
// (lib/measure.js) runs against each target, or brings its own `run(ctx)` (large bodies, idle connections, CONNECT).
import close from './close.js';
import connect from './connect.js';
import idleConnections from './idle-connections.js';
import keepalive from './keepalive.js';
import largeBodies from './large-bodies.js';

/**
 * @typedef {object} LoadShape
 * @property {string} path               origin path (`/` small body, `/bytes/N` large)
 * @property {boolean} closeEachRequest  clients send `Connection: close` and reconnect for every request
 */

/**
 * @typedef {object} Scenario
 * @property {string} id            one letter, as in BENCHMARKS.md
 * @property {string} name          a word, accepted by --scenario as well as the id
 * @property {string} title
 * @property {boolean} implemented
 * @property {string[]} columns     metric keys shown in its table (see lib/report.js)
 * @property {LoadShape} [load]     what the autocannon driver sends
 * @property {(ctx: import('../lib/measure.js').MeasureContext) => Promise<Record<string, any>>} [run]
 * @property {(target: string) => string | null} [skip]  why a target does not take part, or null
 * @property {(options: import('../lib/args.js').BenchOptions) => number} [estimateS]  seconds per measurement
 *   (default: warm-up + duration + 0.5 s)
 * @property {boolean} [freshTarget]  restart the target before each measurement (memory from a fresh process)
 */

/**
 * In run order. (d) comes last because it restarts each target (a fresh heap for its memory numbers); the next run's
 * (a) then finds a process that has just relayed (d)'s requests, and warms it up again anyway.
 * @type {readonly Scenario[]}
 */
export const SCENARIOS = Object.freeze([keepalive, close, largeBodies, connect, idleConnections]);

/**
 * Resolves ids or names (null: every implemented scenario). Unknown names throw; known but unimplemented ones are
 * returned in `pending` so the caller can say so.
 * @param {string[] | null} wanted
 * @returns {{ selected: Scenario[], pending: Scenario[] }}
 */
export function selectScenarios(wanted) {
  if (wanted === null) return { selected: SCENARIOS.filter((s) => s.implemented), pending: [] };
  const found = wanted.map((w) => {
    const s = SCENARIOS.find((x) => x.id === w || x.name === w);
    const known = SCENARIOS.map((x) => `${x.id} (${x.name})`).join(', ');
    if (!s) throw new Error(`unknown scenario "${w}"; known: ${known}`);
    return s;
  });
  const unique = SCENARIOS.filter((s) => found.includes(s));
  return { selected: unique.filter((s) => s.implemented), pending: unique.filter((s) => !s.implemented) };
}
