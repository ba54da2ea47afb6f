// The scenario registry. A scenario describes an autocannon load (`load`); the harness's driver (lib/measure.js)
// runs it against each target. A future scenario whose load autocannon cannot express brings its own `run(ctx)`.
import close from './close.js';
import keepalive from './keepalive.js';
import pending from './pending.js';

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
 * @property {(ctx: import('../lib/measure.js').MeasureContext) => Promise<import('../lib/measure.js').Sample>} [run]
 */

/** @type {readonly Scenario[]} */
export const SCENARIOS = Object.freeze([keepalive, close, ...pending]);

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
