/**
 * The downstream http.Server (SPEC §3): Node's strict parser (never the insecure one, SPEC §5.3), the configured
 * timeouts and limits, TCP keepalive and TCP_NODELAY on accepted sockets (SPEC §3.5), and the clientError answers
 * (400 malformed, 408 slow head, 431 oversized head: client-error.ts). Every accepted socket is registered with the
 * tracker, named for `Proxy-Status`, then admitted or refused at once (access.clients, connection limits:
 * admission.ts). Every answer hopwise writes here comes from the one writer (src/errors/respond.ts).
 *
 * `Expect` (RFC 9110 §10.1.1): `100 Continue` is sent only when the body is first read, so a request the head alone
 * refuses (`407`, `413`, ...) gets its final status instead; any other expectation goes to the request handler like
 * any request, where the gate answers `417` (and the access log records it).
 *
 * CONNECT and Upgrade requests (SPEC §6, §7) leave Node's HTTP parser: they are passed on with their connection.
 * An upgrade the handler declines is parsed again as an ordinary request, without its `Upgrade` field.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/schema.js';
import { DEFAULT_PROXY_NAME, nameProxy, rawErrorResponse } from '../errors/index.js';
import { checkingInterval, type ConnectionAdmission } from './admission.js';
import { handleClientError, noteResponse, type ClientErrorListener } from './client-error.js';
import type { ConnectionTracker, DownstreamConnection } from './connections.js';

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse, conn: DownstreamConnection) => void;
export type { ClientErrorListener } from './client-error.js';
/** http.Server 'connect': the socket now belongs to whoever takes it with `tracker.handOff(conn)`. */
export type ConnectHandler = (req: http.IncomingMessage, head: Buffer, conn: DownstreamConnection) => void;
/** http.Server 'upgrade': returns false to decline, and the request is then served as an ordinary one. */
export type UpgradeHandler = (req: http.IncomingMessage, head: Buffer, conn: DownstreamConnection) => boolean;

export interface TunnelHandlers {
  readonly onConnect: ConnectHandler;
  readonly onUpgrade: UpgradeHandler;
}

/** Marks a socket fed back into the server by {@link reparseWithoutUpgrade}: it is already tracked. */
const kReparsed = Symbol('hopwise.reparsed');
type ReparsedSocket = Socket & { [kReparsed]?: true };

/**
 * Send `100 Continue` when the body is first read (RFC 9110 §10.1.1): a request refused on its head alone is answered
 * with its final status and the client never sends the body.
 */
function continueOnRead(req: http.IncomingMessage, res: http.ServerResponse): void {
  // An own property shadowing IncomingMessage.prototype._read (which reads from the socket) for one call.
  req._read = (size: number): void => {
    delete (req as Partial<http.IncomingMessage>)._read;
    if (!res.headersSent && !res.writableEnded) res.writeContinue();
    req._read(size);
  };
}

export function createDownstreamServer(
  cfg: Config['downstream'],
  tracker: ConnectionTracker,
  onRequest: RequestHandler,
  onClientError: ClientErrorListener,
  tunnels?: TunnelHandlers,
  admit: ConnectionAdmission = () => undefined,
  proxyName: string = DEFAULT_PROXY_NAME,
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
  // Node keeps the first maxHeadersCount fields and silently drops the rest (issue 17). Keeping one more than allowed
  // lets the request gate see that the head is over the limit and refuse it (431) instead of acting on part of it.
  server.maxHeadersCount = cfg.maxHeaderCount === 0 ? 0 : cfg.maxHeaderCount + 1;
  server.maxRequestsPerSocket = cfg.maxRequestsPerConnection;
  server.on('connection', (socket: ReparsedSocket) => {
    // A declined upgrade re-injects its socket: it was accepted (and admitted) already.
    if (socket[kReparsed] === true) return;
    nameProxy(socket, proxyName);
    const conn = tracker.accept(socket);
    const refusal = admit(conn);
    if (refusal !== undefined) {
      const reason = refusal.error.code === 'FORBIDDEN' ? 'access-denied' : 'over-limit';
      tracker.refuse(conn, reason, rawErrorResponse(refusal.error, socket, refusal.headers).bytes);
    }
  });
  const onHttpRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const conn = tracker.of(req.socket);
    if (conn === undefined) {
      res.destroy();
      return;
    }
    if (conn.refused) return; // answered already (accept time, a parse error); the connection is closing
    if (conn.retired) {
      ignoreAfterLast(tracker, conn);
      return;
    }
    noteResponse(req.socket, res);
    onRequest(req, res, conn);
  };
  server.on('request', onHttpRequest);
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    continueOnRead(req, res);
    onHttpRequest(req, res);
  });
  // Without this listener Node answers `417` itself, bypassing the writer and the access log.
  server.on('checkExpectation', onHttpRequest);
  if (tunnels !== undefined) {
    server.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const conn = tracker.of(socket);
      if (conn === undefined) socket.destroy();
      else if (conn.retired) ignoreAfterLast(tracker, conn);
      else tunnels.onConnect(req, head, conn);
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const conn = tracker.of(socket);
      if (conn === undefined) socket.destroy();
      else if (conn.retired) ignoreAfterLast(tracker, conn);
      // A declined offer waits for the responses still owed on the connection (pipelining, SPEC §3.3): Node detached
      // its parser at the offer, so the requests before it would otherwise answer into a parser state nobody reads.
      else if (!tunnels.onUpgrade(req, head, conn)) tracker.whenIdle(conn, () => reparseWithoutUpgrade(server, req, socket, head, conn));
    });
  }
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) =>
    handleClientError(tracker, cfg.maxHeaderSize, onClientError, err, socket),
  );
  return server;
}

/**
 * A request parsed on a connection that takes no more (shutdown: its last response said `Connection: close`, or it
 * was closed idle) is never forwarded, since its answer could not be delivered; the connection is closed once the
 * responses before it are out (RFC 9112 §9.6: the client retries it elsewhere if it may).
 */
function ignoreAfterLast(tracker: ConnectionTracker, conn: DownstreamConnection): void {
  tracker.whenIdle(conn, () => tracker.abort(conn, 'shutdown'));
}

/**
 * Node's own view of which connections are between messages: `http.Server[kConnections].idle()`, the list
 * `closeIdleConnections()` reads. A connection whose parser has seen the first byte of a request and not its end is
 * not idle; nor, for the headers timeout, is one that has not completed a first request, so a socket from which no
 * byte was ever read counts as idle here too. `closeIdleConnections()` itself would also destroy a connection whose
 * last response is ended but still being flushed, so the list is read directly. The symbol is internal: on a Node
 * version without it every socket counts as idle (the behaviour before issue 17). Returns a predicate over sockets,
 * taken once at shutdown.
 */
export function parserIdle(servers: readonly http.Server[]): (socket: Socket) => boolean {
  const idle = new Set<Socket>();
  let known = true;
  for (const server of servers) {
    const key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'http.server.connections');
    const list = key === undefined ? undefined : (server as unknown as Record<symbol, { idle?: () => { socket: Socket }[] }>)[key];
    if (typeof list?.idle !== 'function') {
      known = false;
      continue;
    }
    for (const parser of list.idle()) idle.add(parser.socket);
  }
  return known ? (socket) => idle.has(socket) || socket.bytesRead === 0 : () => true;
}

/**
 * Serve a declined upgrade (e.g. `Upgrade: h2c`) as an ordinary request (RFC 9110 §7.8: a server MAY ignore Upgrade).
 * Node detached the socket from its parser when it saw the offer, so the head is written back without its `Upgrade`
 * field lines, ahead of the bytes already read after it, and the socket is handed to the server again
 * ('connection' is the documented way to inject one): bodies, keep-alive and pipelining then work as usual, and the
 * remaining `Connection` options (e.g. `HTTP2-Settings`) are stripped by the engine like any other. Re-serialising is
 * safe: the method, target and fields were accepted by the strict parser, so none contains CR, LF or NUL.
 */
function reparseWithoutUpgrade(
  server: http.Server,
  req: http.IncomingMessage,
  socket: ReparsedSocket,
  head: Buffer,
  conn: DownstreamConnection,
): void {
  // The connection closed, or is closing after a response that ended it (Connection: close, or the last response
  // of a shutdown): the offer is never served (RFC 9112 §9.6). While draining otherwise, it is answered like any
  // request that arrived in time, with Connection: close (SPEC §10.1).
  if (socket.destroyed || !socket.writable || conn.retired) {
    socket.destroySoon();
    return;
  }
  let text = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === 7 && raw[i]!.toLowerCase() === 'upgrade') continue;
    text += `${raw[i]!}: ${raw[i + 1]!}\r\n`;
  }
  socket[kReparsed] = true;
  if (head.length > 0) socket.unshift(head);
  socket.unshift(Buffer.from(`${text}\r\n`, 'latin1'));
  server.emit('connection', socket);
}
