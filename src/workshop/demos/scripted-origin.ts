/**
 * The demos' origin server: raw `net`, so its timing is exact and its behaviour is the book's (HTTP: The Definitive
 * Guide §4.5.6). It understands `Connection` and nothing else (RFC 9112 §9.3): an HTTP/1.1 request is persistent
 * unless it says `close`; an HTTP/1.0 request only with `keep-alive`. `Proxy-Connection` is an unknown header to it —
 * unlike Node's llhttp, which reads `Proxy-Connection` like `Connection` (see docs/workshop.md).
 *
 * A kept-alive connection is closed after exactly `idleTimeoutMs` without a request, timed from the moment the last
 * response was flushed. A Node `http.Server` would not do: it adds a fixed 1 s to `keepAliveTimeout`.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { findHeadEnd, parseResponseHead, type HeaderPair } from '../dumb-head.js';

/** What the origin saw or did, for the timeline. `conn` is the origin's 1-based count of accepted connections. */
export type OriginEvent =
  | { readonly type: 'connection'; readonly conn: number }
  | {
      readonly type: 'request';
      readonly conn: number;
      /** 1 for the first request on this connection. */
      readonly n: number;
      readonly requestLine: string;
      readonly headers: readonly HeaderPair[];
      readonly keepAlive: boolean;
    }
  | { readonly type: 'response'; readonly conn: number; readonly n: number; readonly keepAlive: boolean; readonly head: string }
  | { readonly type: 'idle-close'; readonly conn: number; readonly idleMs: number }
  | { readonly type: 'peer-closed'; readonly conn: number };

export interface ScriptedOriginOptions {
  /** Idle time after a kept-alive response before the origin closes the connection. */
  readonly idleTimeoutMs: number;
  readonly onEvent?: (e: OriginEvent) => void;
}

const CONNECTION_TOKENS = (headers: readonly HeaderPair[]): Set<string> =>
  new Set(
    headers
      .filter(([name]) => name.toLowerCase() === 'connection')
      .flatMap(([, value]) => value.split(','))
      .map((token) => token.trim().toLowerCase()),
  );

/** RFC 9112 §9.3, reading only `Connection`. */
export function wantsKeepAlive(version: string, headers: readonly HeaderPair[]): boolean {
  const tokens = CONNECTION_TOKENS(headers);
  if (tokens.has('close')) return false;
  return version === 'HTTP/1.1' || tokens.has('keep-alive');
}

/** A loopback origin; `listen()` binds an ephemeral port. */
export class ScriptedOrigin {
  readonly #opts: ScriptedOriginOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #connections = 0;
  #requests = 0;
  #port = 0;

  constructor(opts: ScriptedOriginOptions) {
    this.#opts = opts;
    this.#server = createServer((socket) => this.#accept(socket));
  }

  get port(): number {
    return this.#port;
  }

  /** TCP connections accepted so far (each one a handshake). */
  get connections(): number {
    return this.#connections;
  }

  get requests(): number {
    return this.#requests;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address();
        this.#port = typeof address === 'object' && address !== null ? address.port : 0;
        resolve(this.#port);
      });
    });
  }

  /** Closes the listener and every connection now. */
  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => (this.#server.listening ? this.#server.close(() => resolve()) : resolve()));
  }

  #accept(socket: Socket): void {
    const conn = ++this.#connections;
    const emit = this.#opts.onEvent ?? (() => undefined);
    this.#sockets.add(socket);
    emit({ type: 'connection', conn });
    let buffered = Buffer.alloc(0);
    let n = 0;
    let idle: NodeJS.Timeout | undefined;
    let closing = false;
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(idle);
      buffered = Buffer.concat([buffered, chunk]);
      for (let end = findHeadEnd(buffered); end > 0 && !closing; end = findHeadEnd(buffered)) {
        const head = parseResponseHead(buffered.subarray(0, end)); // same line/header split as a request head
        const body = Number(head.headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1] ?? 0);
        if (buffered.length < end + body) return;
        buffered = buffered.subarray(end + body);
        const version = head.statusLine.split(' ')[2] ?? 'HTTP/1.0';
        const keepAlive = wantsKeepAlive(version, head.headers);
        this.#requests++;
        n++;
        emit({ type: 'request', conn, n, requestLine: head.statusLine, headers: head.headers, keepAlive });
        const path = head.statusLine.split(' ')[1] ?? '/';
        const response = responseFor(path, keepAlive);
        emit({ type: 'response', conn, n, keepAlive, head: response.slice(0, response.indexOf('\r\n\r\n')) });
        if (!keepAlive) {
          closing = true;
          socket.end(response);
          return;
        }
        const served = n;
        socket.write(response, () => {
          // Armed once the response is flushed, and only if no later request arrived meanwhile.
          if (closing || socket.destroyed || served !== n) return;
          idle = setTimeout(() => {
            closing = true;
            emit({ type: 'idle-close', conn, idleMs: this.#opts.idleTimeoutMs });
            socket.end();
          }, this.#opts.idleTimeoutMs);
        });
      }
    });
    socket.on('end', () => {
      if (!closing) emit({ type: 'peer-closed', conn });
      closing = true;
      socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(idle);
      this.#sockets.delete(socket);
    });
  }
}

function responseFor(path: string, keepAlive: boolean): string {
  const body = `hello from the origin: ${path}\n`;
  return (
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: ${keepAlive ? 'Keep-Alive' : 'close'}\r\n\r\n${body}`
  );
}
