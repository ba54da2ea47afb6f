/**
 * The few answers hopwise gives on its own to a request it could forward (Max-Forwards: 0, SPEC §2.3). Error answers
 * come from the one writer in src/errors/respond.ts, re-exported here for the engine's callers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export { writeProxyError, writeRawProxyError, writeText } from '../errors/index.js';

/** Methods hopwise relays, advertised when it answers OPTIONS itself (Max-Forwards: 0). */
const ALLOW = 'GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH';

/** Headers never echoed by TRACE (RFC 9110 §9.3.8: exclude fields likely to carry sensitive data). */
const TRACE_HIDDEN = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** Answer an OPTIONS or TRACE whose Max-Forwards reached 0 (SPEC §2.3, RFC 9110 §7.6.2). */
export function answerMaxForwards(req: IncomingMessage, res: ServerResponse): number {
  if (req.method === 'OPTIONS') {
    res.writeHead(200, ['Allow', ALLOW, 'Content-Length', '0']);
    res.end();
    return 0;
  }
  const lines = [`${req.method ?? 'TRACE'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!TRACE_HIDDEN.has(raw[i]!.toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  const body = `${lines.join('\r\n')}\r\n\r\n`;
  res.writeHead(200, ['Content-Type', 'message/http', 'Content-Length', String(Buffer.byteLength(body))]);
  res.end(body);
  return Buffer.byteLength(body);
}
