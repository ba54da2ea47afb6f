// A pipelining soak client: one raw connection per batch, all requests written at once, the last one with
// Connection: close; responses are read in order with a small HTTP/1.1 reader (Content-Length or chunked).
import net from 'node:net';
import { classify } from './classify.js';

/**
 * @typedef {{ status: number, headers: Record<string, string>, body: Buffer, used: number }} ParsedResponse
 */

/**
 * Parse one response from `buf`: { status, headers, body, used } or null when more bytes are needed.
 * @param {Buffer} buf
 * @returns {ParsedResponse | null}
 */
export function parseResponse(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(lines[0]?.split(' ')[1]);
  /** @type {Record<string, string>} */
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  let at = end + 4;
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (buf.length < at + n) return null;
    return { status, headers, body: buf.subarray(at, at + n), used: at + n };
  }
  if (!/chunked/i.test(headers['transfer-encoding'] ?? '')) throw new Error(`unframed response ${lines[0] ?? ''}`);
  /** @type {Buffer[]} */
  const parts = [];
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (buf.length < eol + 2 + size + 2) return null;
    if (size === 0) return { status, headers, body: Buffer.concat(parts), used: eol + 4 };
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 4 + size;
  }
}

/**
 * Send `batch` ([{ id, size }]) pipelined; resolves with one result per request, in order.
 * @param {import('./types.js').SoakContext} ctx
 * @param {Array<{ id: string, size: number }>} batch
 * @param {number} timeoutMs
 * @returns {Promise<import('./types.js').Result[]>}
 */
export function readPipelined(ctx, batch, timeoutMs) {
  return new Promise((resolve) => {
    /** @type {import('./types.js').Result[]} */
    const results = [];
    let buf = Buffer.alloc(0);
    let finished = false;
    const socket = net.connect(ctx.proxyPort, '127.0.0.1');
    const finish = (/** @type {string} */ tail) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      // The current request saw its head (or not); the rest are collateral of the same cut.
      const current = results.length;
      for (let i = current; i < batch.length; i++) {
        const first = i === current;
        const id = /** @type {{ id: string }} */ (batch[i]).id;
        results.push({ id, method: 'GET', outcome: first ? tail : 'cut-before-head', detail: first ? undefined : 'collateral' });
      }
      socket.destroy();
      resolve(results);
    };
    const timer = setTimeout(() => finish('hang'), timeoutMs);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        let r;
        try {
          r = parseResponse(buf);
        } catch {
          finish('unframed');
          return;
        }
        if (r === null) break;
        buf = buf.subarray(r.used);
        const item = /** @type {{ id: string }} */ (batch[results.length]);
        results.push({ id: item.id, method: 'GET', ...classify(item.id, r.status, r.headers, r.body) });
        if (results.length === batch.length) {
          finish('done');
          return;
        }
      }
    });
    socket.on('close', () => finish(buf.indexOf('\r\n\r\n') >= 0 || buf.length > 0 ? 'cut-after-head' : 'cut-before-head'));
    socket.on('connect', () => {
      const origin = `127.0.0.1:${ctx.originPort}`;
      const text = batch
        .map(({ id, size }, i) => {
          const close = i === batch.length - 1 ? 'Connection: close\r\n' : '';
          return `GET http://${origin}/soak/${id}?size=${size} HTTP/1.1\r\nHost: ${origin}\r\n${close}\r\n`;
        })
        .join('');
      socket.write(text);
    });
  });
}
