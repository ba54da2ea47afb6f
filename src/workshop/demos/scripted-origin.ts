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
    const state = { buffered: Buffer.alloc(0), n: 0, idle: undefined as NodeJS.Timeout | undefined, closing: false };
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(state.idle);
      state.buffered = Buffer.concat([state.buffered, chunk]);
      for (let request = takeRequest(state); request !== null && !state.closing; request = takeRequest(state)) {
        this.#requests++;
        this.#serve(socket, conn, ++state.n, request, state, emit);
      }
    });
    socket.on('end', () => {
      if (!state.closing) emit({ type: 'peer-closed', conn });
      state.closing = true;
      socket.end();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(state.idle);
      this.#sockets.delete(socket);
    });
  }

  /** Answers request `n`; keeps the connection and arms the exact idle timer, or closes after the response. */
  #serve(socket: Socket, conn: number, n: number, request: ParsedRequest, state: ConnState, emit: (e: OriginEvent) => void): void {
    const keepAlive = wantsKeepAlive(request.version, request.headers);
    emit({ type: 'request', conn, n, requestLine: request.line, headers: request.headers, keepAlive });
    const response = responseFor(request.path, keepAlive);
    emit({ type: 'response', conn, n, keepAlive, head: response.slice(0, response.indexOf('\r\n\r\n')) });
    if (!keepAlive) {
      state.closing = true;
      socket.end(response);
      return;
    }
    socket.write(response, () => {
      // Armed once the response is flushed, and only if no later request arrived meanwhile.
      if (state.closing || socket.destroyed || state.n !== n) return;
      state.idle = setTimeout(() => {
        state.closing = true;
        emit({ type: 'idle-close', conn, idleMs: this.#opts.idleTimeoutMs });
        socket.end();
      }, this.#opts.idleTimeoutMs);
    });
  }
}

interface ConnState {
  buffered: Buffer;
  n: number;
  idle: NodeJS.Timeout | undefined;
  closing: boolean;
}

interface ParsedRequest {
  readonly line: string;
  readonly path: string;
  readonly version: string;
  readonly headers: readonly HeaderPair[];
}

/** Removes one complete request (head and Content-Length body) from `state.buffered`, or returns null. */
function takeRequest(state: ConnState): ParsedRequest | null {
  const end = findHeadEnd(state.buffered);
  if (end < 0) return null;
  const head = parseResponseHead(state.buffered.subarray(0, end)); // the same line/header split serves a request head
  const body = Number(head.headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1] ?? 0);
  if (state.buffered.length < end + body) return null;
  state.buffered = state.buffered.subarray(end + body);
  const [, path = '/', version = 'HTTP/1.0'] = head.statusLine.split(' ');
  return { line: head.statusLine, path, version, headers: head.headers };
}

function responseFor(path: string, keepAlive: boolean): string {
  const body = `hello from the origin: ${path}\n`;
  return (
    'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: ${keepAlive ? 'Keep-Alive' : 'close'}\r\n\r\n${body}`
  );
}
