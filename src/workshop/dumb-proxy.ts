/**
 * The workshop "dumb proxy" (SPEC §9.1): a faithful pre-HTTP/1.1 proxy that does not understand `Connection`.
 * It exists to reproduce, on demand, the keep-alive hang of HTTP: The Definitive Guide §4.5.6 and the
 * `Proxy-Connection` workaround, side by side with hopwise's correct behaviour (SPEC §9.2).
 *
 * Raw `net` sockets only: no `http` parsing, no hop-by-hop processing, no `Via`. Per client connection it reads one
 * request head, relays it with the request line in origin-form and every header line byte-for-byte, relays a body by
 * Content-Length only, then relays origin bytes until the ORIGIN closes, and only then ends the client connection.
 * The per-connection state machine lives in `dumb-exchange.ts`; this module owns the listener and the clock.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DumbExchange } from './dumb-exchange.js';
import type { DumbEvent, DumbEventBody } from './dumb-events.js';
import { isLoopbackHost } from './dumb-head.js';

export type { DumbEvent, DumbEventType } from './dumb-events.js';
export type { HeaderPair } from './dumb-head.js';

/** The warning printed when dumb mode starts (SPEC §9.1). */
export const DUMB_BANNER: string = [
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
  '!!  WORKSHOP MODE: this proxy is deliberately broken.                         !!',
  '!!  It behaves like a pre-HTTP/1.1 "dumb" proxy: it relays Connection and     !!',
  '!!  Keep-Alive headers verbatim and ends a response only when the origin      !!',
  '!!  closes, so keep-alive clients hang (HTTP: The Definitive Guide §4.5.6).   !!',
  '!!  Loopback only. Never use it for real traffic.                             !!',
  '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
].join('\n');

/** Options for {@link createDumbProxy}. */
export interface DumbProxyOptions {
  /** Address to bind; 127.0.0.1 by default. Must be loopback: the dumb proxy is for workshops only. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Receives every timeline event synchronously, in order. It must not throw. */
  onEvent?: (e: DumbEvent) => void;
}

/** A dumb proxy instance; nothing is bound until {@link DumbProxy.listen}. */
export interface DumbProxy {
  /** Starts accepting connections; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }>;
  /**
   * Graceful shutdown: stops accepting, drops connections that have not sent a byte, and resolves once every
   * in-flight exchange has ended (which, for a dumb proxy, means once each origin has closed).
   */
  close(): Promise<void>;
  /** Closes the listener and every client and origin socket now. */
  destroy(): void;
}

class DumbProxyServer implements DumbProxy {
  readonly #host: string;
  readonly #port: number;
  readonly #onEvent: ((e: DumbEvent) => void) | undefined;
  readonly #createdAt = performance.now();
  readonly #server: Server;
  readonly #exchanges = new Set<DumbExchange>();
  #nextConn = 1;

  constructor(opts: DumbProxyOptions) {
    this.#host = opts.host ?? '127.0.0.1';
    this.#port = opts.port ?? 0;
    this.#onEvent = opts.onEvent;
    if (!isLoopbackHost(this.#host)) {
      throw new Error(
        `dumb proxy refuses to bind ${this.#host}: it is deliberately broken and for workshops only, ` +
          'so it listens on loopback addresses only (127.0.0.0/8, ::1, localhost)',
      );
    }
    this.#server = createServer((client) => this.#accept(client));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', onError);
        const address = this.#server.address();
        if (address === null || typeof address === 'string') return reject(new Error('unexpected listener address'));
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const exchange of this.#exchanges) if (exchange.idle) exchange.destroy();
    await Promise.all([closed, ...[...this.#exchanges].map((e) => e.done)]);
  }

  destroy(): void {
    if (this.#server.listening) this.#server.close();
    for (const exchange of this.#exchanges) exchange.destroy();
  }

  #accept(client: Socket): void {
    const conn = this.#nextConn++;
    const emit = (body: DumbEventBody): void => {
      const event = Object.freeze({ t: performance.now() - this.#createdAt, conn, ...body }) as DumbEvent;
      this.#onEvent?.(event);
    };
    const exchange = new DumbExchange(client, emit);
    this.#exchanges.add(exchange);
    void exchange.done.then(() => this.#exchanges.delete(exchange));
  }
}

/** Creates a workshop dumb proxy; throws if `host` is not a loopback address. See {@link DUMB_BANNER}. */
export function createDumbProxy(opts: DumbProxyOptions = {}): DumbProxy {
  return new DumbProxyServer(opts);
}
