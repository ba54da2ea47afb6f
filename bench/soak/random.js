// Seeded randomness for the soak run: every choice (request mix, sizes, origin misbehaviour) derives from --seed, so a
// run is reproducible up to scheduling.

/**
 * mulberry32: `next()` uniform in [0, 1), `int(n)` in [0, n).
 * @param {number} seed
 * @returns {import('./types.js').Rng}
 */
export function prng(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (/** @type {number} */ n) => Math.floor(next() * n) };
}

/**
 * A 32-bit seed for `label` under the run seed (FNV-1a over the label, mixed with the seed).
 * @param {number} seed
 * @param {string} label
 * @returns {number}
 */
export function seedOf(seed, label) {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
