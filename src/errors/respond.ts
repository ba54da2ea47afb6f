/**
 * The one writer of the responses hopwise makes itself (SPEC §4.4; STYLE rule 4): HTTP errors through a
 * ServerResponse, and the same answer as raw bytes where Node's HTTP server no longer writes (accept-time refusals,
 * parse and timeout errors, CONNECT and Upgrade refusals). Every answer has the status from the one table (codes.ts),
 * the reason phrase from {@link REASON_PHRASES}, a one-line plain-text body, and a `Proxy-Status` field (RFC 9209)
 * naming this proxy (its `Via` pseudonym) with the error type and details.
 *
 * After response headers have been sent nothing here is called: the only error path then is to abort the downstream
 * connection (SPEC §5.2).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { proxyStatusTypeFor } from './codes.js';
import type { ProxyError } from './proxy-error.js';
import { proxyStatusValue } from './proxy-status.js';

const TEXT = 'text/plain; charset=utf-8';

/** Reason phrases (RFC 9110 §15) for every status hopwise generates; the one table of them. */
export const REASON_PHRASES: Readonly<Record<number, string>> = Object.freeze({
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  413: 'Content Too Large',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  508: 'Loop Detected',
});

/** The reason phrase for `status` ('' for one hopwise never generates; RFC 9112 §4 allows an empty one). */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? '';
}

/** The proxy name carried by `Proxy-Status`, set on each accepted client socket (see {@link nameProxy}). */
const kProxyName = Symbol('hopwise.proxyName');
type NamedSocket = Socket & { [kProxyName]?: string };

/** The default pseudonym (config `via.pseudonym`). */
export const DEFAULT_PROXY_NAME = 'hopwise';

/**
 * Record the proxy's name (its `Via` pseudonym) on an accepted client socket, so every answer written for that
 * connection names the right proxy without the name being threaded through each caller.
 */
export function nameProxy(client: Socket, name: string): void {
  (client as NamedSocket)[kProxyName] = name;
}

function proxyNameOf(client: NamedSocket | null | undefined): string {
  return client?.[kProxyName] ?? DEFAULT_PROXY_NAME;
}

/** The one-line body of every error answer: status, reason phrase, target and cause (SPEC §4.4). */
export function errorText(err: ProxyError): string {
  return `hopwise: ${err.status} ${reasonPhrase(err.status)}: ${err.message}`;
}

/** The `Proxy-Status` value for `err` as answered on `client`'s connection. */
export function proxyStatusFor(err: ProxyError, client: Socket | null | undefined): string {
  return proxyStatusValue(proxyNameOf(client), proxyStatusTypeFor(err.code), err.message);
}

/** Write a short plain-text answer. Returns the number of body bytes written. */
export function writeText(res: ServerResponse, status: number, text: string, extra: readonly string[] = []): number {
  const body = `${text}\n`;
  const length = Buffer.byteLength(body);
  res.writeHead(status, reasonPhrase(status), [
    'Content-Type', TEXT,
    'Content-Length', String(length),
    'Cache-Control', 'no-store',
    ...extra,
  ]);
  res.end(body);
  return length;
}

/**
 * Answer a ProxyError: status from the one table, a one-line body naming the target and the cause (SPEC §4.4), and
 * `Proxy-Status`. `extra` carries the few headers an error needs (`Proxy-Authenticate` on a `407`).
 */
export function writeProxyError(res: ServerResponse, err: ProxyError, extra: readonly string[] = []): number {
  if (res.headersSent) throw new Error('writeProxyError after headers were sent: abort the connection instead');
  // `res.req.socket`, not `res.socket`: a pipelined response has no socket until the ones before it are done.
  return writeText(res, err.status, errorText(err), ['Proxy-Status', proxyStatusFor(err, res.req.socket), ...extra]);
}

/**
 * The same answer as complete raw HTTP/1.1 bytes with `Connection: close`, for a connection Node's HTTP server does
 * not write on (accept time, a parse error, CONNECT or Upgrade before the switch). Returns the bytes and the body
 * length.
 */
export function rawErrorResponse(err: ProxyError, client: Socket, extra: readonly string[] = []): { bytes: string; bodyLength: number } {
  const body = `${errorText(err)}\n`;
  const bodyLength = Buffer.byteLength(body);
  let head = `Proxy-Status: ${proxyStatusFor(err, client)}\r\n`;
  for (let i = 0; i + 1 < extra.length; i += 2) head += `${extra[i]}: ${extra[i + 1]}\r\n`;
  const bytes =
    `HTTP/1.1 ${err.status} ${reasonPhrase(err.status)}\r\nContent-Type: ${TEXT}\r\nContent-Length: ${bodyLength}\r\n` +
    `Cache-Control: no-store\r\n${head}Connection: close\r\n\r\n${body}`;
  return { bytes, bodyLength };
}

/**
 * Write {@link rawErrorResponse} on `client` and half-close it (nothing parses the client's bytes any more). The
 * caller owns the socket and decides how long it may linger ({@link refuseAndLinger}). Returns the body length.
 */
export function writeRawProxyError(client: Socket, err: ProxyError, extra: readonly string[] = []): number {
  const { bytes, bodyLength } = rawErrorResponse(err, client, extra);
  client.end(bytes);
  return bodyLength;
}
