/**
 * Responses the proxy writes itself: the ONE error writer (STYLE rule 4) and the few answers hopwise gives on its own
 * (Max-Forwards: 0, SPEC §2.3). After response headers have been sent, no function here is called: the only error
 * path then is to abort the downstream connection (SPEC §5.2).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ProxyError } from '../errors/index.js';

const TEXT = 'text/plain; charset=utf-8';

/** Write a short plain-text answer. Returns the number of body bytes written. */
export function writeText(res: ServerResponse, status: number, text: string, extra: readonly string[] = []): number {
  const body = `${text}\n`;
  const length = Buffer.byteLength(body);
  res.writeHead(status, [
    'Content-Type', TEXT,
    'Content-Length', String(length),
    'Cache-Control', 'no-store',
    ...extra,
  ]);
  res.end(body);
  return length;
}

/** The one-line body of every error answer: status, reason phrase, target and cause (SPEC §4.4). */
function errorText(err: ProxyError): string {
  return `hopwise: ${err.status} ${statusText(err.status)}: ${err.message}`;
}

/**
 * Answer a ProxyError: status from the one table, a one-line body naming the target and the cause (SPEC §4.4).
 * `extra` carries the few headers an error needs (`Proxy-Authenticate` on a `407`).
 */
export function writeProxyError(res: ServerResponse, err: ProxyError, extra: readonly string[] = []): number {
  if (res.headersSent) throw new Error('writeProxyError after headers were sent: abort the connection instead');
  return writeText(res, err.status, errorText(err), extra);
}

/**
 * The same answer as raw HTTP/1.1 bytes, for a client socket that Node's HTTP server has already given up (CONNECT
 * before the tunnel is established, an Upgrade before the `101`). It always closes the connection: nothing parses
 * the client's bytes any more. `extra` as above. Returns the number of body bytes.
 */
export function writeRawProxyError(client: Socket, err: ProxyError, extra: readonly string[] = []): number {
  const body = `${errorText(err)}\n`;
  const length = Buffer.byteLength(body);
  let head = '';
  for (let i = 0; i < extra.length; i += 2) head += `${extra[i]}: ${extra[i + 1]}\r\n`;
  client.end(
    `HTTP/1.1 ${err.status} ${statusText(err.status)}\r\nContent-Type: ${TEXT}\r\nContent-Length: ${length}\r\n` +
      `Cache-Control: no-store\r\n${head}Connection: close\r\n\r\n${body}`,
  );
  return length;
}

function statusText(status: number): string {
  switch (status) {
    case 400: return 'Bad Request';
    case 403: return 'Forbidden';
    case 407: return 'Proxy Authentication Required';
    case 413: return 'Content Too Large';
    case 431: return 'Request Header Fields Too Large';
    case 501: return 'Not Implemented';
    case 502: return 'Bad Gateway';
    case 503: return 'Service Unavailable';
    case 504: return 'Gateway Timeout';
    case 505: return 'HTTP Version Not Supported';
    case 508: return 'Loop Detected';
    default: return '';
  }
}

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
