// Soak load (issue 7): closed-loop clients through the proxy — keep-alive (one pooled socket each), close (a new
// connection per request, Connection: close) and pipelining (raw sockets, batches of three). Every response is
// classified against what the origin promised (X-Soak-Id / -Length / -Sha256), so a silently truncated or mixed-up
// response is a failure, not a statistic.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { classify } from './classify.js';
import { readPipelined } from './pipeline.js';
import { prng, seedOf } from './random.js';

const SIZES = [0, 0, 120, 1500, 8192, 16384, 65536];
const CLIENT_TIMEOUT_MS = 20_000;

/**
 * @param {Buffer} b
 * @returns {string}
 */
function sha256(b) {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * One request with Node's client (keep-alive agent, or a fresh connection that closes).
 * @param {import('./types.js').SoakContext} ctx
 * @param {http.Agent | false} agent
 * @param {string} id
 * @param {import('./types.js').Rng} rng
 * @returns {Promise<import('./types.js').Result>}
 */
function request(ctx, agent, id, rng) {
  const post = rng.int(4) === 0;
  const size = SIZES[rng.int(SIZES.length)] ?? 0;
  const path = `http://127.0.0.1:${ctx.originPort}/soak/${id}?size=${size}`;
  /** @type {Record<string, string>} */
  const headers = agent === false ? { Connection: 'close' } : {};
  /** @type {Buffer | undefined} */
  let payload;
  if (post) {
    payload = Buffer.alloc(rng.int(32_768), id.length);
    headers['X-Body-Sha256'] = sha256(payload);
    if (rng.int(2) === 0) headers['Content-Length'] = String(payload.length); // else chunked
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (/** @type {import('./types.js').Classified} */ r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ id, method: post ? 'POST' : 'GET', ...r });
    };
    const req = http.request({ host: '127.0.0.1', port: ctx.proxyPort, method: post ? 'POST' : 'GET', path, headers, agent });
    const timer = setTimeout(() => {
      done({ outcome: 'hang' });
      req.destroy();
    }, CLIENT_TIMEOUT_MS);
    req.on('response', (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      let complete = false;
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        complete = true;
        done(classify(id, res.statusCode, res.headers, Buffer.concat(chunks)));
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        if (!complete) done({ outcome: 'cut-after-head' });
      });
    });
    req.on('error', (err) => done({ outcome: 'cut-before-head', detail: /** @type {NodeJS.ErrnoException} */ (err).code }));
    if (payload !== undefined && headers['Content-Length'] === undefined) {
      const mid = Math.floor(payload.length / 2);
      req.write(payload.subarray(0, mid));
      req.end(payload.subarray(mid));
    } else {
      req.end(payload);
    }
  });
}

/**
 * A client that loops until `ctx.stopAt`, recording each result with `ctx.record`.
 * @param {import('./types.js').SoakContext} ctx
 * @param {string} name
 * @param {boolean} keepAlive
 * @returns {Promise<void>}
 */
export async function httpClient(ctx, name, keepAlive) {
  const rng = prng(seedOf(ctx.seed, name));
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
  for (let seq = 0; performance.now() < ctx.stopAt; seq++) {
    ctx.record(await request(ctx, agent, `${name}-${seq}`, rng), name);
  }
  if (agent !== false) agent.destroy();
}

/**
 * A pipelining client: three GETs written at once on a raw socket, answered in order (SPEC §3.3).
 * @param {import('./types.js').SoakContext} ctx
 * @param {string} name
 * @returns {Promise<void>}
 */
export async function pipelineClient(ctx, name) {
  const rng = prng(seedOf(ctx.seed, name));
  let seq = 0;
  while (performance.now() < ctx.stopAt) {
    const batch = [];
    for (let i = 0; i < 3; i++) batch.push({ id: `${name}-${seq++}`, size: SIZES[rng.int(SIZES.length)] ?? 0 });
    const results = await readPipelined(ctx, batch, CLIENT_TIMEOUT_MS);
    for (const r of results) ctx.record(r, name);
  }
}
