// What a soak response means: the origin states the id, length and SHA-256 of every body it sends, so a 200 whose
// bytes do not match is a silent truncation or corruption (a failure), never a mere statistic.
import { createHash } from 'node:crypto';

/**
 * @param {Buffer} b
 * @returns {string}
 */
function sha256(b) {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * Classify one complete response (status, headers, body) for request `id`.
 * @param {string} id
 * @param {number | undefined} status
 * @param {Record<string, string | string[] | undefined>} headers
 * @param {Buffer} body
 * @returns {import('./types.js').Classified}
 */
export function classify(id, status, headers, body) {
  if (status === 200) {
    if (headers['x-soak-id'] !== id) return { outcome: 'wrong-id', detail: String(headers['x-soak-id']) };
    const ok = body.length === Number(headers['x-soak-length']) && sha256(body) === headers['x-soak-sha256'];
    return { outcome: ok ? 'ok' : 'corrupt', detail: `${body.length}/${String(headers['x-soak-length'])}` };
  }
  if ((status === 502 || status === 504) && body.toString().startsWith(`hopwise: ${status}`)) {
    return { outcome: 'proxy-error', detail: String(status) };
  }
  return { outcome: 'unexpected-status', detail: String(status) };
}

