// The shapes the soak modules pass between them (JSDoc only: tsconfig.bench.json checks bench/ with checkJs).

/**
 * @typedef {object} Classified  what one response meant (classify.js), or how a request ended without one
 * @property {string} outcome  ok, wrong-id, corrupt, unexpected-status, proxy-error, hang, unframed, cut-after-head,
 *   cut-before-head
 * @property {string | undefined} [detail]
 */

/**
 * @typedef {Classified & { id: string, method: string, tunnel?: boolean }} Result  one request's result, as recorded
 */

/**
 * @typedef {object} Arrival  one arrival of a request at the chaos origin
 * @property {string | undefined} method
 * @property {string} behaviour  what the origin did with it (origin.js)
 */

/**
 * @typedef {object} SoakContext  what every soak client reads, and where it records its results
 * @property {number} seed
 * @property {string} phase  `w` (warm-up) or `m` (measured): part of every client name
 * @property {number} proxyPort
 * @property {number} originPort
 * @property {number} stopAt  performance.now() after which clients stop starting requests
 * @property {(r: Result, client: string) => void} record
 */

/**
 * @typedef {{ next: () => number, int: (n: number) => number }} Rng  a seeded generator (random.js)
 */

export {};
