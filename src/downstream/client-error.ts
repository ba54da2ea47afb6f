/**
 * Node's `clientError` on a client connection (a parse error, a slow head or request, an oversized head): one response
 * per request, in order, and never a byte written into a response that has started (SPEC §3.4, §5.2, §5.3).
 *
 * Whose error it is decides the answer:
 * - **the request being answered** (its body broke, or it timed out while uploading): if its response is complete,
 *   that response is the answer and the connection closes after it (issue 17.3: no second `400`); if its response has
 *   started, the connection is cut so the client sees the truncation (issue 17.2: no `408` appended to a body); if
 *   nothing has been answered yet and nothing is queued before it, hopwise answers it (`400`/`408`).
 * - **bytes after the last request the connection serves** (`Connection: close`, HTTP/1.0: llhttp's
 *   `HPE_CLOSED_CONNECTION`): ignored; the responses in flight are delivered and Node closes the connection after the
 *   last one (issue 17.4, RFC 9112 §9.6).
 * - **a new head** (garbage, `431`, `408`): answered in its place, after the responses to the requests before it.
 *
 * Every answer comes from the one writer (src/errors/respond.ts) and every close is the tracker's lingering close.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { ProxyError, rawErrorResponse, type ErrorCode } from '../errors/index.js';
import type { ConnectionTracker, DownstreamConnection } from './connections.js';

/** Told of every clientError hopwise acts on (logged as `bad-request`); `status` is 0 when nothing was written. */
export type ClientErrorListener = (conn: DownstreamConnection | undefined, code: string, status: number) => void;

/** The last response hopwise was asked for on a connection, and whether a clientError is being handled. */
const kLast = Symbol('hopwise.lastResponse');
const kFailed = Symbol('hopwise.clientErrorHandled');
type ClientSocket = Socket & { [kLast]?: http.ServerResponse; [kFailed]?: true };

/** Remember `res` as the latest response on its connection (called for every request). */
export function noteResponse(client: Socket, res: http.ServerResponse): void {
  (client as ClientSocket)[kLast] = res;
}

const TIMEOUTS = new Set(['ERR_HTTP_REQUEST_TIMEOUT', 'HPE_HEADERS_TIMEOUT']);

/** The error a parse or timeout failure is answered with, from the one table. */
export function clientErrorAnswer(code: string, maxHeaderSize: number): ProxyError {
  const where = { leg: 'downstream', phase: 'request-head' } as const;
  let errorCode: ErrorCode = 'BAD_REQUEST';
  let message = `the request could not be parsed (${code})`;
  if (code === 'HPE_HEADER_OVERFLOW') {
    errorCode = 'HEADER_TOO_LARGE';
    message = `the request head is larger than downstream.maxHeaderSize (${maxHeaderSize} bytes)`;
  } else if (TIMEOUTS.has(code)) {
    errorCode = 'REQUEST_TIMEOUT';
    message = 'the request did not arrive in time (downstream.headersTimeout for the head, downstream.requestTimeout for the whole request)';
  }
  return new ProxyError(errorCode, message, where);
}

/** Run `then` once `res` (and so every response before it) has been handed to the socket; at once if none. */
function afterResponse(res: http.ServerResponse | undefined, then: () => void): void {
  if (res === undefined || res.writableFinished) then();
  else res.once('finish', then);
}

/** The http.Server 'clientError' listener. */
export function handleClientError(
  tracker: ConnectionTracker,
  maxHeaderSize: number,
  onClientError: ClientErrorListener,
  err: NodeJS.ErrnoException,
  socket: Socket,
): void {
  const client = socket as ClientSocket;
  const conn = tracker.of(client);
  const code = err.code ?? 'UNKNOWN';
  if (conn === undefined || code === 'ECONNRESET' || !client.writable) {
    client.destroy();
    return;
  }
  // Node calls this again for every later chunk the dead parser refuses: the first call decided.
  if (client[kFailed] === true || conn.refused) return;
  client[kFailed] = true;
  const last = client[kLast];
  const answer = clientErrorAnswer(code, maxHeaderSize);
  const refuse = (withAnswer: boolean): void => {
    onClientError(conn, code, withAnswer ? answer.status : 0);
    tracker.refuse(conn, 'bad-request', withAnswer ? rawErrorResponse(answer, client).bytes : undefined);
  };
  if (code === 'HPE_CLOSED_CONNECTION') {
    // RFC 9112 §9.6: the rest is ignored; Node closes after the response to the last request.
    tracker.note(conn, 'bad-request');
    afterResponse(last, () => refuse(false));
    return;
  }
  if (last !== undefined && !last.req.complete) {
    if (last.writableEnded) afterResponse(last, () => refuse(false));
    else if (last.headersSent || conn.inFlight > 1) {
      onClientError(conn, code, 0);
      tracker.abort(conn, 'bad-request');
    } else refuse(true);
    return;
  }
  afterResponse(last, () => refuse(true));
}
