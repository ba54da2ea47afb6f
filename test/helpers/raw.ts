/**
 * Raw `net` helpers for tests where exact bytes matter: a scripted origin, a raw client connection, and a small
 * HTTP/1.1 response reader (Content-Length, chunked, or until close) that keeps the raw bytes.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** Wait for an event with a bound, so no test can hang. */
export function within<T>(ms: number, p: Promise<T>, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface RawOrigin {
  readonly port: number;
  readonly origin: string;
  readonly sockets: net.Socket[];
  /** Every byte each connection sent us, by connection index. */
  readonly received: Buffer[];
  close(): Promise<void>;
}

/**
 * A scripted origin: `onData(socket, all, index)` is called with everything received so far on that connection.
 */
export async function startRawOrigin(
  onData: (socket: net.Socket, all: Buffer, index: number) => void,
): Promise<RawOrigin> {
  const sockets: net.Socket[] = [];
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    const index = sockets.length;
    sockets.push(socket);
    received.push(Buffer.alloc(0));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received[index] = Buffer.concat([received[index]!, chunk]);
      onData(socket, received[index], index);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    sockets,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  readonly status: number;
  readonly statusLine: string;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  /** Was the message complete by its own framing (false when cut by a close before the end). */
  readonly complete: boolean;
}

export function header(r: { rawHeaders: readonly string[] }, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.rawHeaders.length; i += 2) {
    if (r.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(r.rawHeaders[i + 1]!);
  }
  return out;
}

/** A raw client connection with a byte buffer and a response reader. */
export class RawClient {
  readonly socket: net.Socket;
  #buf = Buffer.alloc(0);
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  /** Connect to 127.0.0.1:`port`; `localAddress` picks the source (another loopback address, e.g. 127.0.0.2). */
  static connect(port: number, opts: { localAddress?: string } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', ...opts }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #more(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  /** Resolves when the peer has closed the connection. */
  async waitClosed(ms = 5000): Promise<void> {
    await within(ms, (async () => {
      while (!this.#closed) await this.#more();
    })(), 'connection close');
  }

  /** Read one response; `head` = true for a response to HEAD (no body). */
  async readResponse(opts: { ms?: number; head?: boolean } = {}): Promise<RawResponse> {
    return within(opts.ms ?? 5000, this.#read(opts.head === true), 'a response');
  }

  async #read(head: boolean): Promise<RawResponse> {
    let end: number;
    while ((end = this.#buf.indexOf('\r\n\r\n')) < 0) {
      if (this.#closed) throw new Error(`connection closed before a response head (${this.#buf.length} bytes)`);
      await this.#more();
    }
    const lines = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
    this.#buf = this.#buf.subarray(end + 4);
    const statusLine = lines[0]!;
    const status = Number(statusLine.split(' ')[1]);
    const rawHeaders: string[] = [];
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      rawHeaders.push(l.slice(0, i), l.slice(i + 1).trim());
    }
    const r = { rawHeaders };
    if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      return { status, statusLine, rawHeaders, body: Buffer.alloc(0), complete: true };
    }
    const cl = header(r, 'content-length')[0];
    if (cl !== undefined) return this.#readLength(status, statusLine, rawHeaders, Number(cl));
    if (header(r, 'transfer-encoding').some((v) => /chunked/i.test(v))) return this.#readChunked(status, statusLine, rawHeaders);
    while (!this.#closed) await this.#more();
    const body = this.#buf;
    this.#buf = Buffer.alloc(0);
    return { status, statusLine, rawHeaders, body, complete: true };
  }

  async #readLength(status: number, statusLine: string, rawHeaders: string[], n: number): Promise<RawResponse> {
    while (this.#buf.length < n && !this.#closed) await this.#more();
    const body = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(Math.min(n, this.#buf.length));
    return { status, statusLine, rawHeaders, body, complete: body.length === n };
  }

  async #readChunked(status: number, statusLine: string, rawHeaders: string[]): Promise<RawResponse> {
    const parts: Buffer[] = [];
    for (;;) {
      let eol: number;
      while ((eol = this.#buf.indexOf('\r\n')) < 0) {
        if (this.#closed) return { status, statusLine, rawHeaders, body: Buffer.concat(parts), complete: false };
        await this.#more();
      }
      const size = parseInt(this.#buf.subarray(0, eol).toString('latin1'), 16);
      while (this.#buf.length < eol + 2 + size + 2) {
        if (this.#closed) return { status, statusLine, rawHeaders, body: Buffer.concat(parts), complete: false };
        await this.#more();
      }
      if (size === 0) {
        this.#buf = this.#buf.subarray(eol + 4);
        return { status, statusLine, rawHeaders, body: Buffer.concat(parts), complete: true };
      }
      parts.push(this.#buf.subarray(eol + 2, eol + 2 + size));
      this.#buf = this.#buf.subarray(eol + 2 + size + 2);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Poll `check` until it returns true, bounded by `ms`. For state that has no event of its own in the test's reach
 * (log lines are written asynchronously through the logger's stream); never a fixed sleep.
 */
export async function eventually(check: () => boolean, ms = 2000, what = 'a condition'): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
