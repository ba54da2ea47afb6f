/**
 * Fixtures for the dumb-proxy tests: raw `net` clients that write exact bytes and timestamp what they see, scripted
 * origins, an event log with bounded waits; what they open is registered with the test's cleanup list (useCleanup,
 * run in afterEach: STYLE rule 11).
 */
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DumbEvent } from '../../src/workshop/dumb-proxy.js';
import type { Cleanup } from './cleanup.js';
import { within } from './raw.js';

/** Total length of the first response in `buf` when framed by Content-Length and complete, else -1. */
export function completeResponseLength(buf: Buffer): number {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return -1;
  const m = /\r\ncontent-length:\s*(\d+)\r\n/i.exec(buf.subarray(0, end + 4).toString('latin1'));
  if (!m) return -1;
  const total = end + 4 + Number(m[1]);
  return buf.length >= total ? total : -1;
}

/** A raw TCP client: writes exact bytes, records every received byte and when the connection closed. */
export class RawClient {
  readonly socket: Socket;
  #received: Buffer = Buffer.alloc(0);
  #closedAt: number | undefined;
  readonly #listeners = new Set<() => void>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#received = Buffer.concat([this.#received, chunk]);
      this.#notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closedAt = performance.now();
      this.#notify();
    });
  }

  static async connect(port: number, teardown: Cleanup): Promise<RawClient> {
    const socket = connect({ host: '127.0.0.1', port });
    teardown.defer(() => void socket.destroy());
    await within(
      2000,
      new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
      'client connect',
    );
    return new RawClient(socket);
  }

  get received(): Buffer {
    return this.#received;
  }

  get closedAt(): number | undefined {
    return this.#closedAt;
  }

  /** Writes the bytes and returns the time of the write. */
  write(data: string | Buffer): number {
    this.socket.write(data);
    return performance.now();
  }

  /** Resolves with the time at which `check` first held, re-evaluated on every data or close. */
  waitUntil(check: () => boolean, ms: number, what: string): Promise<number> {
    return within(
      ms,
      new Promise<number>((resolve) => {
        const probe = (): void => {
          if (!check()) return;
          this.#listeners.delete(probe);
          resolve(performance.now());
        };
        this.#listeners.add(probe);
        probe();
      }),
      what,
    );
  }

  /** Waits for one complete Content-Length-framed response; resolves with its bytes. */
  async response(ms: number): Promise<Buffer> {
    await this.waitUntil(() => completeResponseLength(this.#received) > 0, ms, 'a complete response');
    return this.#received.subarray(0, completeResponseLength(this.#received));
  }

  /** Waits until the connection is closed; resolves with the close time. */
  async closed(ms: number): Promise<number> {
    await this.waitUntil(() => this.#closedAt !== undefined, ms, 'the client connection to close');
    return this.#closedAt ?? Number.NaN;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Collects proxy events; `next` waits (bounded) for an event of a type, counting from the start. */
export class EventLog {
  readonly events: DumbEvent[] = [];
  readonly #listeners = new Set<() => void>();
  readonly push = (e: DumbEvent): void => {
    this.events.push(e);
    for (const listener of [...this.#listeners]) listener();
  };

  waitFor<K extends DumbEvent['type']>(type: K, ms: number): Promise<Extract<DumbEvent, { type: K }>> {
    const find = (): Extract<DumbEvent, { type: K }> | undefined =>
      this.events.find((e): e is Extract<DumbEvent, { type: K }> => e.type === type);
    return within(
      ms,
      new Promise((resolve) => {
        const probe = (): void => {
          const hit = find();
          if (hit === undefined) return;
          this.#listeners.delete(probe);
          resolve(hit);
        };
        this.#listeners.add(probe);
        probe();
      }),
      `event ${type}`,
    );
  }

  of<K extends DumbEvent['type']>(type: K): Extract<DumbEvent, { type: K }>[] {
    return this.events.filter((e): e is Extract<DumbEvent, { type: K }> => e.type === type);
  }

  /** Event types in order, runs of the same type collapsed to one. */
  sequence(): string[] {
    return this.events.map((e) => e.type).filter((type, i, all) => i === 0 || all[i - 1] !== type);
  }
}

/** A Node http origin with the given keep-alive idle timeout, on an ephemeral loopback port. */
export async function httpOrigin(
  handler: RequestListener,
  keepAliveTimeout: number,
  teardown: Cleanup,
): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer(handler);
  server.keepAliveTimeout = keepAliveTimeout;
  teardown.defer(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const port = await listenPort(server);
  return { server, port };
}

/** A raw TCP origin scripted per connection; every accepted socket is destroyed at teardown. */
export async function rawOrigin(
  onConnection: (socket: Socket) => void,
  teardown: Cleanup,
): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  teardown.defer(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const port = await listenPort(server);
  return { server, port };
}

export { refusedPort } from './ports.js';

async function listenPort(server: Server | HttpServer): Promise<number> {
  await within(2000, new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 'listen');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('unexpected address');
  return address.port;
}
