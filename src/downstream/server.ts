/**
 * The downstream http.Server (SPEC §3): Node's strict parser (never the insecure one, SPEC §5.3), the configured
 * timeouts and limits, TCP keepalive and TCP_NODELAY on accepted sockets (SPEC §3.5), and the clientError answers
 * (400 malformed, 408 slow head, 431 oversized head). Every accepted socket is registered with the tracker.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import { checkingInterval, rawResponse, type ConnectionAdmission } from './admission.js';
import type { ConnectionTracker, DownstreamConnection } from './connections.js';

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse, conn: DownstreamConnection) => void;
export type ClientErrorListener = (conn: DownstreamConnection | undefined, code: string, status: number) => void;

/** Status and reason phrase for a parse/timeout failure on the client connection. */
function clientErrorStatus(code: string): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return [408, 'Request Timeout'];
  return [400, 'Bad Request'];
}

export function createDownstreamServer(
  cfg: Config['downstream'],
  tracker: ConnectionTracker,
  onRequest: RequestHandler,
  onClientError: ClientErrorListener,
  admit: ConnectionAdmission = () => undefined,
): http.Server {
  const server = http.createServer({
    keepAlive: cfg.tcpKeepAlive,
    keepAliveInitialDelay: cfg.tcpKeepAliveInitialDelay,
    noDelay: cfg.noDelay,
    maxHeaderSize: cfg.maxHeaderSize,
    requestTimeout: cfg.requestTimeout,
    headersTimeout: cfg.headersTimeout,
    connectionsCheckingInterval: checkingInterval(cfg),
    insecureHTTPParser: false,
    joinDuplicateHeaders: false,
  });
  server.keepAliveTimeout = cfg.keepAliveTimeout;
  server.maxRequestsPerSocket = cfg.maxRequestsPerConnection;
  server.on('connection', (socket: Socket) => {
    const conn = tracker.accept(socket);
    const refusal = admit(conn);
    if (refusal !== undefined) {
      const text = refusal.status === 403 ? 'Forbidden' : 'Service Unavailable';
      tracker.refuse(conn, refusal.reason, rawResponse(refusal.status, text, refusal.message));
    }
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const conn = tracker.of(req.socket);
    if (conn === undefined) {
      res.destroy();
      return;
    }
    if (conn.refused) return; // answered at accept time; the connection is closing
    onRequest(req, res, conn);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const conn = tracker.of(socket);
    const code = err.code ?? 'UNKNOWN';
    if (code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, text] = clientErrorStatus(code);
    if (conn !== undefined) tracker.note(conn, 'bad-request');
    onClientError(conn, code, status);
    const body = `hopwise: ${status} ${text}: the request could not be parsed (${code})\n`;
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    socket.destroySoon();
  });
  return server;
}
