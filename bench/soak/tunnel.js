// A CONNECT soak client (SPEC §6.1): open a tunnel to the chaos origin through the proxy, send one request through
// it (Connection: close), read the response straight from the origin and check it like any other. Inside a tunnel
// the proxy relays bytes only: an origin reset or stall shows up as a closed tunnel, never as a proxy status.
import net from 'node:net';
import { classify } from './classify.js';
import { parseResponse } from './pipeline.js';
import { prng, seedOf } from './random.js';

const SIZES = [0, 120, 1500, 16384, 65536];

/**
 * @param {import('./types.js').SoakContext} ctx
 * @param {string} id
 * @param {number} size
 * @param {number} timeoutMs
 * @returns {Promise<import('./types.js').Result>}
 */
function once(ctx, id, size, timeoutMs) {
  return new Promise((resolve) => {
    const origin = `127.0.0.1:${ctx.originPort}`;
    const socket = net.connect(ctx.proxyPort, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let established = false;
    let settled = false;
    const done = (/** @type {import('./types.js').Classified} */ r) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ id, method: 'GET', ...r, tunnel: true });
    };
    const timer = setTimeout(() => done({ outcome: 'hang' }), timeoutMs);
    socket.on('error', () => undefined);
    socket.on('connect', () => socket.write(`CONNECT ${origin} HTTP/1.1\r\nHost: ${origin}\r\n\r\n`));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!established) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const status = Number(buf.subarray(0, end).toString('latin1').split(' ')[1]);
        if (status !== 200) {
          done({ outcome: 'unexpected-status', detail: `CONNECT ${status}` });
          return;
        }
        established = true;
        buf = buf.subarray(end + 4);
        socket.write(`GET /soak/${id}?size=${size} HTTP/1.1\r\nHost: ${origin}\r\nConnection: close\r\n\r\n`);
      }
      let r;
      try {
        r = parseResponse(buf);
      } catch {
        done({ outcome: 'unframed' });
        return;
      }
      if (r !== null) done(classify(id, r.status, r.headers, r.body));
    });
    socket.on('close', () => {
      if (!established) done({ outcome: 'cut-before-head', detail: 'tunnel not established' });
      else done({ outcome: buf.indexOf('\r\n\r\n') >= 0 ? 'cut-after-head' : 'cut-before-head' });
    });
  });
}

/**
 * A client that opens one tunnel per request until `ctx.stopAt`.
 * @param {import('./types.js').SoakContext} ctx
 * @param {string} name
 * @param {number} timeoutMs
 * @returns {Promise<void>}
 */
export async function tunnelClient(ctx, name, timeoutMs) {
  const rng = prng(seedOf(ctx.seed, name));
  for (let seq = 0; performance.now() < ctx.stopAt; seq++) {
    ctx.record(await once(ctx, `${name}-${seq}`, SIZES[rng.int(SIZES.length)] ?? 0, timeoutMs), name);
  }
}
