/**
 * The demos' HTTP/1.0 keep-alive client, as browsers of the Netscape era behaved: it asks for keep-alive, believes a
 * response that says `Connection: Keep-Alive` and sends its next request on the same connection; when a kept-alive
 * connection closes before any byte of the answer, it retries once on a new connection (the stale-connection retry
 * of RFC 9112 §9.3.1 — safe here: GET). Otherwise it waits for the server to close, then reconnects.
 *
 * Raw `net`: it writes exact bytes and timestamps what it sees. Every wait is bounded by `timeoutMs`.
 */
import { connect, type Socket } from 'node:net';
import { findHeadEnd, parseResponseHead, type HeaderPair } from '../dumb-head.js';

/** What the client did or saw. `conn` is the client's 1-based count of connections it opened. */
export type ClientEvent =
  | { readonly type: 'connect'; readonly conn: number }
  | { readonly type: 'send'; readonly conn: number; readonly request: number; readonly retry: boolean }
  | {
      readonly type: 'response';
      readonly conn: number;
      readonly request: number;
      readonly statusLine: string;
      readonly headers: readonly HeaderPair[];
      /** The response granted keep-alive: the next request goes on this connection. */
      readonly keepAlive: boolean;
    }
  /** The server side closed; `pending` is the request that was waiting for an answer, if any. */
  | { readonly type: 'closed'; readonly conn: number; readonly by: 'server' | 'client'; readonly pending: number | null }
  | { readonly type: 'gave-up'; readonly conn: number; readonly request: number; readonly why: string };

/** One request's outcome. Times are from `clock()`. */
export interface RequestOutcome {
  readonly firstSentAt: number;
  readonly doneAt: number | null;
  readonly status: number | null;
  /** Connection (client count) the answer came on. */
  readonly conn: number;
  readonly retried: boolean;
}

export interface ClientOptions {
  readonly port: number;
  /** Complete request heads, sent in order. */
  readonly requests: readonly string[];
  readonly clock: () => number;
  readonly timeoutMs: number;
  readonly onEvent?: (e: ClientEvent) => void;
}

class Conn {
  readonly socket: Socket;
  buffer = Buffer.alloc(0);
  closed = false;
  readonly #waiters = new Set<() => void>();

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.#wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  /** Resolves true when `check` holds, false after `ms`. */
  until(check: () => boolean, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = (): void => {
        if (!check()) return;
        cleanup();
        resolve(true);
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(false);
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(probe);
      };
      this.#waiters.add(probe);
      probe();
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/** Length of a complete Content-Length-framed response at the start of `buf`, or -1. */
function completeLength(buf: Buffer): number {
  const end = findHeadEnd(buf);
  if (end < 0) return -1;
  const head = parseResponseHead(buf.subarray(0, end));
  const length = head.headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1];
  if (length === undefined) return -1;
  return buf.length >= end + Number(length) ? end + Number(length) : -1;
}

const keepAliveGranted = (headers: readonly HeaderPair[]): boolean =>
  headers.some(([k, v]) => k.toLowerCase() === 'connection' && /(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(v));

/** Sends every request, in order, as described above; resolves with each one's outcome. */
export async function runKeepAliveClient(opts: ClientOptions): Promise<RequestOutcome[]> {
  const client = new KeepAliveClient(opts);
  const outcomes: RequestOutcome[] = [];
  try {
    for (let i = 0; i < opts.requests.length; i++) outcomes.push(await client.request(i));
  } finally {
    await client.finish();
  }
  return outcomes;
}

/** The client's state: at most one open connection, and how many it opened. */
class KeepAliveClient {
  readonly #opts: ClientOptions;
  readonly #emit: (e: ClientEvent) => void;
  #conns = 0;
  #current: Conn | undefined;

  constructor(opts: ClientOptions) {
    this.#opts = opts;
    this.#emit = opts.onEvent ?? (() => undefined);
  }

  /** One request: on the kept-alive connection if there is one, retried once if that connection dies unanswered. */
  async request(i: number): Promise<RequestOutcome> {
    let firstSentAt = Number.NaN;
    for (let retried = false; ; retried = true) {
      const conn = this.#current !== undefined && !this.#current.closed ? this.#current : await this.#open();
      this.#current = conn;
      conn.buffer = Buffer.alloc(0);
      conn.socket.write(this.#opts.requests[i] ?? '');
      this.#emit({ type: 'send', conn: this.#conns, request: i, retry: retried });
      if (Number.isNaN(firstSentAt)) firstSentAt = this.#opts.clock();
      await conn.until(() => conn.closed || completeLength(conn.buffer) > 0, this.#opts.timeoutMs);
      if (completeLength(conn.buffer) > 0) return this.#answered(conn, i, firstSentAt, retried);
      const diedUnanswered = conn.closed && conn.buffer.length === 0;
      if (diedUnanswered) this.#emit({ type: 'closed', conn: this.#conns, by: 'server', pending: i });
      this.#current = undefined;
      conn.socket.destroy();
      if (diedUnanswered && !retried) continue;
      const why = conn.closed ? 'connection closed without a response' : `no response within ${this.#opts.timeoutMs} ms`;
      this.#emit({ type: 'gave-up', conn: this.#conns, request: i, why });
      return { firstSentAt, doneAt: null, status: null, conn: this.#conns, retried };
    }
  }

  /** Closes the last kept-alive connection, as a browser does when the user leaves. */
  async finish(): Promise<void> {
    const last = this.#current;
    this.#current = undefined;
    if (last === undefined || last.closed) return;
    this.#emit({ type: 'closed', conn: this.#conns, by: 'client', pending: null });
    last.socket.end();
    await last.until(() => last.closed, this.#opts.timeoutMs);
    last.socket.destroy();
  }

  async #answered(conn: Conn, i: number, firstSentAt: number, retried: boolean): Promise<RequestOutcome> {
    const head = parseResponseHead(conn.buffer.subarray(0, findHeadEnd(conn.buffer)));
    const keepAlive = keepAliveGranted(head.headers);
    this.#emit({ type: 'response', conn: this.#conns, request: i, statusLine: head.statusLine, headers: head.headers, keepAlive });
    const outcome = { firstSentAt, doneAt: this.#opts.clock(), status: head.status, conn: this.#conns, retried };
    if (!keepAlive) {
      // HTTP/1.0 without keep-alive: the server ends the exchange by closing.
      if (await conn.until(() => conn.closed, this.#opts.timeoutMs)) {
        this.#emit({ type: 'closed', conn: this.#conns, by: 'server', pending: null });
      }
      conn.socket.destroy();
      this.#current = undefined;
    }
    return outcome;
  }

  async #open(): Promise<Conn> {
    const socket = connect({ host: '127.0.0.1', port: this.#opts.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.#conns++;
    this.#emit({ type: 'connect', conn: this.#conns });
    return new Conn(socket);
  }
}
