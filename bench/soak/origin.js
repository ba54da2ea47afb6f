// The soak origin (issue 7): an HTTP server that misbehaves on purpose, chosen per request from a seeded PRNG, and
// records every arrival so the run can prove nothing was duplicated and every truncation was signalled.
//
// Behaviours: ok (Content-Length or chunked), close (ok + Connection: close), reset (destroy before any byte),
// stall (no answer, destroyed later: the proxy's responseTimeout must answer 504), truncate (head + half the body,
// then destroy: the proxy must cut the client connection), slow (body in pieces with pauses).
import { createHash } from 'node:crypto';
import http from 'node:http';
import { prng, seedOf } from './random.js';

/** @type {ReadonlyArray<[string, number]>} */
const WEIGHTS = [
  ['ok', 70],
  ['close', 5],
  ['reset', 7],
  ['stall', 4],
  ['truncate', 8],
  ['slow', 6],
];
const TOTAL = WEIGHTS.reduce((n, [, w]) => n + w, 0);

/**
 * @param {number} seed
 * @param {string} id
 * @param {number} attempt  arrivals of this id before this one
 * @param {string | null} forced  `?mode=` of the request
 * @returns {string}
 */
function behaviourFor(seed, id, attempt, forced) {
  if (forced !== null) return forced;
  let roll = prng(seedOf(seed, `${id}#${attempt}`)).int(TOTAL);
  for (const [name, weight] of WEIGHTS) {
    if (roll < weight) return name;
    roll -= weight;
  }
  return 'ok';
}

/**
 * The body the origin sends for `id`: `size` bytes derived from the id, so the client can check every byte.
 * @param {string} id
 * @param {number} size
 * @returns {Buffer}
 */
export function bodyFor(id, size) {
  const block = createHash('sha256').update(id).digest();
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += block.length) block.copy(out, i, 0, Math.min(block.length, size - i));
  return out;
}

/**
 * @param {Buffer} b
 * @returns {string}
 */
export function sha256(b) {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Start the origin on 127.0.0.1:0. Returns { port, arrivals, bodyMismatches, close }. `arrivals` maps a request id to
 * the list of { method, behaviour } in arrival order.
 * @param {number} seed
 * @returns {Promise<{ port: number, arrivals: Map<string, import('./types.js').Arrival[]>, bodyMismatches: string[],
 *   close: () => Promise<void> }>}
 */
export async function startChaosOrigin(seed) {
  /** @type {Map<string, import('./types.js').Arrival[]>} */
  const arrivals = new Map();
  /** @type {string[]} */
  const bodyMismatches = [];
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set();
  /** @type {Later} */
  const later = (ms, fn) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin');
    const id = url.pathname.split('/').pop() ?? '';
    const size = Number(url.searchParams.get('size') ?? '0');
    const forced = url.searchParams.get('mode');
    const list = arrivals.get(id) ?? [];
    const behaviour = behaviourFor(seed, id, list.length, forced);
    list.push({ method: req.method, behaviour });
    arrivals.set(id, list);
    const hash = createHash('sha256');
    req.on('data', (c) => hash.update(c));
    req.on('end', () => {
      const expected = req.headers['x-body-sha256'];
      if (expected !== undefined && expected !== hash.digest('hex')) bodyMismatches.push(id);
      respond(req, res, id, size, behaviour, later);
    });
  });
  server.keepAliveTimeout = 5000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  return {
    port: /** @type {import('node:net').AddressInfo} */ (server.address()).port,
    arrivals,
    bodyMismatches,
    close: () =>
      new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * @typedef {(ms: number, fn: () => void) => void} Later  a timer the origin clears when it closes
 */

/**
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {string} id
 * @param {number} size
 * @param {string} behaviour
 * @param {Later} later
 */
function respond(req, res, id, size, behaviour, later) {
  const body = bodyFor(id, size);
  /** @type {Record<string, string>} */
  const head = { 'X-Soak-Id': id, 'X-Soak-Sha256': sha256(body), 'X-Soak-Length': String(size) };
  switch (behaviour) {
    case 'reset':
      req.socket.destroy();
      return;
    case 'stall':
      later(6000, () => req.socket.destroy());
      return;
    case 'truncate':
      res.writeHead(200, { ...head, 'Content-Length': String(Math.max(size, 2000)) });
      res.write(body.subarray(0, Math.floor(size / 2)));
      later(20, () => req.socket.destroy());
      return;
    case 'slow': {
      res.writeHead(200, { ...head, 'Content-Length': String(size) });
      const step = Math.ceil(size / 4) || 1;
      let at = 0;
      const next = () => {
        if (res.destroyed) return;
        res.write(body.subarray(at, at + step));
        at += step;
        if (at >= size) res.end();
        else later(60, next);
      };
      next();
      return;
    }
    default: {
      const chunked = id.charCodeAt(id.length - 1) % 2 === 0;
      if (behaviour === 'close') head.Connection = 'close';
      if (chunked) {
        res.writeHead(200, head);
        const mid = Math.floor(size / 2);
        res.write(body.subarray(0, mid));
        res.end(body.subarray(mid));
      } else {
        res.writeHead(200, { ...head, 'Content-Length': String(size) });
        res.end(body);
      }
    }
  }
}
