/**
 * Naive mode (SPEC §9, issue 6): the modern version of the dumb-proxy mistake, for contrast in workshops. A forward
 * proxy written the way many are: http-proxy-3 with the library's defaults — `createProxyServer({})`, no agent,
 * `web(req, res, { target })` — and nothing else. What that does, read from http-proxy-3 1.x
 * (`common.setupOutgoing`, `passes/web-incoming`, `passes/web-outgoing`) and pinned by
 * `test/integration/naive-mode.test.ts`:
 * - request headers are copied as they are; only `Connection` is replaced, by `close` (no agent: one connection per
 *   request). The headers the client's `Connection` listed, `Proxy-Connection` and `Keep-Alive` reach the origin
 *   (RFC 9110 §7.6.1 says they must not). No `Via` is added (RFC 9110 §7.6.3 says it must be);
 * - every request opens and closes its own upstream connection: no pooling, one TCP handshake and one TIME_WAIT
 *   socket per request;
 * - a chunked `DELETE`/`OPTIONS` without Content-Length is re-labelled `Content-Length: 0` while its body is still
 *   streamed (`deleteLength`), so the body reaches the origin as bytes after the message: a smuggled request;
 * - response headers are copied too (`Keep-Alive` and the headers the origin's `Connection` lists reach the client),
 *   and `Connection` follows the library's `setConnection`: an HTTP/1.0 client gets its own `Connection` value echoed
 *   back, so a `keep-alive` one is kept alive (RFC 9112 §9.3 forbids it); otherwise the origin's value is relayed, and
 *   the `close` it answers to the proxy's own `Connection: close` closes the client's connection too.
 *
 * The only importer of http-proxy-3 (STYLE: one importer per third-party library): WebSocket upgrades no longer use it
 * (forward/upgrade.ts relays them on hopwise's own connector and response parser). Loopback only.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { isLoopbackHost } from '../policy/address.js';

/** The warning printed when naive mode starts (SPEC §9.1 applies to it as to dumb mode). */
export const NAIVE_BANNER: string = [
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '!!  WORKSHOP MODE: this proxy is deliberately naive.                          !!',
  '!!  It forwards with http-proxy-3 and the library defaults: the headers the   !!',
  '!!  client lists in Connection reach the origin, no Via is added, and every   !!',
  '!!  request opens a new upstream connection (no pooling).                     !!',
  '!!  Loopback only. Never use it for real traffic.                             !!',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
].join('\n');

/** One finished exchange through the naive proxy (for logs). */
export interface NaiveRequestEvent {
  readonly type: 'request';
  /** Client connection id, 1-based. */
  readonly conn: number;
  readonly method: string;
  readonly target: string;
  /** Status sent to the client; 0 when the client went away first. */
  readonly status: number;
  readonly ms: number;
  /** Why the exchange failed (an errno code such as ECONNREFUSED), if it did. */
  readonly error?: string;
}

/** Options for {@link createNaiveProxy}. */
export interface NaiveProxyOptions {
  /** Address to bind; 127.0.0.1 by default. Must be loopback. */
  readonly host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Called once per finished exchange. It must not throw. */
  readonly onRequest?: (e: NaiveRequestEvent) => void;
}

/** A naive-mode proxy; nothing is bound until {@link NaiveProxy.listen}. */
export interface NaiveProxy {
  listen(): Promise<{ host: string; port: number }>;
  /** Stops accepting, closes idle client connections, resolves when in-flight exchanges are done. */
  close(): Promise<void>;
  /** Closes every client connection now (their upstream requests are aborted by http-proxy-3). */
  destroy(): void;
}

const plain = (res: http.ServerResponse, status: number, message: string): void => {
  const body = `${message}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
};

type HttpProxy = ProxyServer<typeof http.IncomingMessage, typeof http.ServerResponse, Error>;

/** One request: the absolute URI's origin is the target; everything else is http-proxy-3's default behaviour. */
function forward(proxy: HttpProxy, req: http.IncomingMessage, res: http.ServerResponse, conn: number, onRequest: NaiveProxyOptions['onRequest']): void {
  const started = performance.now();
  let error: string | undefined;
  res.once('close', () => {
    onRequest?.({
      type: 'request',
      conn,
      method: req.method ?? '',
      target: req.url ?? '',
      status: res.headersSent ? res.statusCode : 0,
      ms: Math.round((performance.now() - started) * 100) / 100,
      ...(error === undefined ? {} : { error }),
    });
  });
  let target: string;
  try {
    const url = new URL(req.url ?? '');
    if (url.protocol !== 'http:') throw new Error('not http');
    target = url.origin;
  } catch {
    plain(res, 400, 'naive proxy: the request target must be an absolute http:// URI');
    return;
  }
  proxy.web(req, res, { target }, (err) => {
    error = (err as NodeJS.ErrnoException).code ?? err.message;
    if (!res.headersSent) plain(res, 502, `naive proxy: cannot reach ${target} (${error})`);
    else res.destroy();
  });
}

/** Creates a naive-mode proxy; throws if `host` is not a loopback address. See {@link NAIVE_BANNER}. */
export function createNaiveProxy(opts: NaiveProxyOptions = {}): NaiveProxy {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new Error(`naive proxy refuses to bind ${host}: it is for workshops only and listens on loopback addresses only`);
  }
  // The library's defaults, on purpose: this is the mistake being demonstrated.
  const proxy = createProxyServer({});
  const connIds = new WeakMap<Socket, number>();
  let nextConn = 1;
  const server = http.createServer((req, res) => forward(proxy, req, res, connIds.get(req.socket) ?? 0, opts.onRequest));
  server.on('connection', (socket: Socket) => connIds.set(socket, nextConn++));
  // CONNECT is not part of the demonstration: refuse it plainly rather than let Node drop the socket.
  server.on('connect', (_req: http.IncomingMessage, socket: Socket) => {
    socket.end('HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(opts.port ?? 0, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          resolve({ host: a.address, port: a.port });
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    destroy: () => {
      if (server.listening) server.close();
      server.closeAllConnections();
    },
  };
}
