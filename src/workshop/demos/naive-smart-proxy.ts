/**
 * The "naive smart" proxy of `hopwise demo proxy-connection` (c) (HTTP: The Definitive Guide §4.5.6, figure 4-15): a
 * proxy that does understand keep-alive and the browsers' `Proxy-Connection: Keep-Alive`, and "upgrades" it: it
 * removes `Proxy-Connection` and asks its next hop for a persistent connection with `Connection: Keep-Alive`.
 * Everything else is forwarded unchanged (request line in absolute-form: its next hop is a parent proxy).
 *
 * Like the proxies of its day, it ties one upstream connection to each client connection. It frames responses by
 * Content-Length; when its next hop grants keep-alive the client connection stays open too, and the client's next
 * request goes out on the same upstream connection. When the upstream connection closes, so does the client's —
 * with no answer if a request was waiting. Raw `net`; loopback demo use only.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { findHeadEnd, parseResponseHead, type HeaderPair } from '../dumb-head.js';

export type SmartProxyEvent =
  /** A request went upstream; `upgraded` when Proxy-Connection: Keep-Alive became Connection: Keep-Alive. */
  | { readonly type: 'forwarded'; readonly conn: number; readonly requestLine: string; readonly upgraded: boolean; readonly reused: boolean }
  | { readonly type: 'response'; readonly conn: number; readonly statusLine: string; readonly keepAlive: boolean }
  | { readonly type: 'upstream-closed'; readonly conn: number; readonly pending: boolean };

export interface SmartProxyOptions {
  /** The next hop (a parent proxy), which receives absolute-form requests. */
  readonly parent: { readonly host: string; readonly port: number };
  readonly onEvent?: (e: SmartProxyEvent) => void;
}

const PROXY_CONNECTION = /^proxy-connection:[^\r]*\r\n/gim;
const WANTS_KEEP_ALIVE = /^proxy-connection:[^\r]*\bkeep-alive\b/im;

/** Rewrites a request head as this proxy does; exported for its unit table. */
export function upgradeProxyConnection(head: string): { head: string; upgraded: boolean } {
  if (!WANTS_KEEP_ALIVE.test(head)) return { head, upgraded: false };
  const stripped = head.replace(PROXY_CONNECTION, '');
  return { head: `${stripped.slice(0, -2)}Connection: Keep-Alive\r\n\r\n`, upgraded: true };
}

const keepAlive = (headers: readonly HeaderPair[]): boolean =>
  headers.some(([k, v]) => k.toLowerCase() === 'connection' && /\bkeep-alive\b/i.test(v));

/** A naive smart proxy on an ephemeral loopback port. */
export class NaiveSmartProxy {
  readonly #opts: SmartProxyOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #conns = 0;

  constructor(opts: SmartProxyOptions) {
    this.#opts = opts;
    this.#server = createServer((client) => this.#accept(client));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        const address = this.#server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => (this.#server.listening ? this.#server.close(() => resolve()) : resolve()));
  }

  #track(socket: Socket): Socket {
    this.#sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.#sockets.delete(socket));
    return socket;
  }

  #accept(client: Socket): void {
    const conn = ++this.#conns;
    const emit = this.#opts.onEvent ?? (() => undefined);
    this.#track(client);
    let upstream: Socket | undefined;
    let request = Buffer.alloc(0);
    let response = Buffer.alloc(0);
    let pending = false;
    const onUpstreamData = (chunk: Buffer): void => {
      client.write(chunk);
      response = Buffer.concat([response, chunk]);
      const end = findHeadEnd(response);
      if (end < 0) return;
      const head = parseResponseHead(response.subarray(0, end));
      const length = Number(head.headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1] ?? 0);
      if (response.length < end + length) return;
      response = response.subarray(end + length);
      pending = false;
      emit({ type: 'response', conn, statusLine: head.statusLine, keepAlive: keepAlive(head.headers) });
    };
    client.on('data', (chunk: Buffer) => {
      request = Buffer.concat([request, chunk]);
      const end = findHeadEnd(request);
      if (end < 0) return;
      const { head, upgraded } = upgradeProxyConnection(request.subarray(0, end).toString('latin1'));
      request = request.subarray(end);
      const reused = upstream !== undefined && !upstream.destroyed;
      if (!reused) {
        upstream = this.#track(connect(this.#opts.parent));
        upstream.on('data', onUpstreamData);
        upstream.on('close', () => {
          emit({ type: 'upstream-closed', conn, pending });
          client.end();
        });
      }
      pending = true;
      upstream?.write(head);
      emit({ type: 'forwarded', conn, requestLine: head.slice(0, head.indexOf('\r\n')), upgraded, reused });
    });
    client.on('close', () => upstream?.destroy());
  }
}
