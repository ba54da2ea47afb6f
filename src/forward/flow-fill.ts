/**
 * Filling a flow record from an exchange (issue 14): the few lines the exchange runs when `Telemetry.flows` is on,
 * kept here so the exchange's state machine gains only one call per phase. Each call is a handful of field stores;
 * header arrays are stored by reference, nothing is copied or formatted (that happens when a flow is read).
 */
import type { IncomingMessage } from 'node:http';
import type { DownstreamConnection } from '../downstream/connections.js';
import { FlowRecord, type FlowOutcome } from '../observability/flow-record.js';
import type { UpstreamConnection } from '../upstream/connection.js';

/** A new record for a request as received: client connection, request line, received fields. */
export function beginFlow(req: IncomingMessage, conn: DownstreamConnection, connReq: number, t0: number): FlowRecord {
  const f = new FlowRecord('http', t0);
  f.conn = conn.id;
  f.remote = conn.remoteAddress;
  f.httpVersion = req.httpVersion;
  f.connReq = connReq;
  f.method = req.method ?? '';
  f.target = req.url ?? '';
  f.requestHeaders = req.rawHeaders;
  const declared = req.headers['content-length'];
  // Bodies are streamed, never counted on the hot path: the declared length is what the record says went up.
  if (declared !== undefined) f.bytesUp = Number(declared) || 0;
  return f;
}

/** The request is handed to the upstream pool (the origin's, or a parent proxy's): what is forwarded, and where. */
export function flowQueued(f: FlowRecord, origin: string, pool: string, path: string, headers: readonly string[]): void {
  f.tQueued = performance.now();
  f.origin = origin;
  f.pool = pool;
  f.forwardedTarget = path;
  f.forwardedHeaders = headers;
}

/**
 * A connection carries the request (the first attempt's, or the retry's fresh one): its id and request count, and
 * either how long it sat idle (reused) or how its dial went (new).
 */
export function flowSocket(f: FlowRecord, conn: UpstreamConnection, reused: boolean): void {
  const now = performance.now();
  f.tSocket = now;
  f.socket = conn.id;
  f.socketReq = conn.requests;
  f.reused = reused;
  if (reused) {
    f.idleMs = Math.round((now - conn.idleSince) * 100) / 100;
    f.tConnect = f.tDns = f.tTcp = f.tTls = -1;
  } else if (conn.dial !== undefined && conn.dial.start >= f.tQueued) {
    // Dialled for this request (a connection dialled earlier for another waiter tells nothing about this one).
    f.tConnect = conn.dial.start;
    f.tDns = conn.dial.dns;
    f.tTcp = conn.dial.tcp;
    f.tTls = conn.dial.tls > conn.dial.tcp ? conn.dial.tls : -1; // -1: no TLS (HAR's ssl: -1)
  }
}

/** The response head: received and relayed fields, the origin's Keep-Alive hint. */
export function flowHead(f: FlowRecord, status: number, received: readonly string[], relayed: readonly string[], keepAlive: string | undefined): void {
  f.tHead = performance.now();
  if (f.tSent === -1) f.tSent = f.tSocket;
  f.status = status;
  f.responseHeaders = received;
  f.relayedHeaders = relayed;
  f.keepAliveHint = keepAlive;
}

/** The exchange is over; returns the record, complete, for the `flow` event. */
export function endFlow(
  f: FlowRecord,
  status: number,
  bytes: number,
  error: string | undefined,
  clientGone: boolean,
  responseStarted: boolean,
  retried: boolean,
): FlowRecord {
  f.tEnd = performance.now();
  f.status = status;
  f.bytesDown = bytes;
  f.retried = retried;
  f.error = error;
  let outcome: FlowOutcome = 'ok';
  if (clientGone) outcome = 'client-aborted';
  else if (error !== undefined) outcome = responseStarted ? 'truncated' : 'error';
  f.outcome = outcome;
  return f;
}

/**
 * The `Server-Timing` value of a response (flows.serverTiming): the proxy's own work, the wait for a socket and the
 * origin's time to the head, as `name;dur=ms` (the W3C Server Timing header syntax).
 */
export function serverTiming(t0: number, queued: number, socket: number, head: number): string {
  const d = (a: number, b: number): string => (a < 0 || b < a ? '0' : (b - a).toFixed(1));
  return `proxy;dur=${d(t0, queued)}, queue;dur=${d(queued, socket)}, origin;dur=${d(socket, head)}`;
}
