/**
 * One client connection through the workshop dumb proxy (SPEC §9.1): a single cohesive state machine, longer than
 * usual on purpose (STYLE rule 10). It owns both sockets of its exchange (STYLE rule 2).
 *
 *   head → connecting → body → response → closing
 *
 * It behaves like a pre-HTTP/1.1 proxy that does not understand `Connection` (HTTP: The Definitive Guide §4.5.6):
 * one request per client connection, headers relayed verbatim, and a response that ends ONLY when the origin closes.
 * Client bytes arriving after the request are read and discarded (`client-bytes-ignored`) rather than left unread, so
 * the hang is visible on the timeline and a client close is still noticed while the proxy waits for the origin.
 */
import { connect, type Socket } from 'node:net';
import type { EmitEvent } from './dumb-events.js';
import {
  MAX_HEAD_BYTES,
  findHeadEnd,
  parseRequestHead,
  parseResponseHead,
  plainResponse,
  type DumbRequest,
} from './dumb-head.js';

type Phase = 'head' | 'connecting' | 'body' | 'response' | 'closing';

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');

const errorCode = (err: Error): string => (err as NodeJS.ErrnoException).code ?? err.message;

/** The exchange on one accepted client connection; created by the dumb proxy, which only awaits and destroys it. */
export class DumbExchange {
  readonly #client: Socket;
  readonly #emit: EmitEvent;
  #origin: Socket | undefined;
  #request: DumbRequest | undefined;
  /** `host:port` of the origin, for messages. */
  #target = '';
  #phase: Phase = 'head';
  /** Head bytes while reading the head; afterwards, client bytes received while the origin connects. */
  #pending: Buffer = EMPTY;
  #bodyExpected = 0;
  #bodyRelayed = 0;
  /** Response bytes not yet seen to contain CRLFCRLF; null once the head was observed or given up on. */
  #responseHead: Buffer | null = EMPTY;
  #responseBytes = 0;
  #ignoredBytes = 0;
  #clientClosing = false;
  #originConnected = false;
  #originClosing = false;
  #openSockets = 1;
  #resolveDone!: () => void;
  /** Settles when both sockets of the exchange are fully closed. */
  readonly done = new Promise<void>((resolve) => (this.#resolveDone = resolve));

  constructor(client: Socket, emit: EmitEvent) {
    this.#client = client;
    this.#emit = emit;
    emit({ type: 'client-connected', remoteAddress: client.remoteAddress ?? '', remotePort: client.remotePort ?? 0 });
    client.on('data', (chunk: Buffer) => this.#onClientData(chunk));
    client.on('end', () => this.#onClientGone());
    client.on('error', (err) => this.#onClientGone(errorCode(err)));
    client.on('close', () => {
      this.#destroyOrigin();
      this.#socketClosed();
    });
    client.on('drain', () => this.#origin?.resume());
  }

  /** True while no request byte has arrived: a graceful shutdown may drop the connection. */
  get idle(): boolean {
    return this.#phase === 'head' && this.#pending.length === 0;
  }

  /** Closes both sockets now. */
  destroy(): void {
    this.#markClientClosing();
    this.#client.destroy();
    this.#destroyOrigin();
  }

  #onClientData(chunk: Buffer): void {
    switch (this.#phase) {
      case 'head':
        return this.#readHead(chunk);
      case 'connecting':
        this.#pending = Buffer.concat([this.#pending, chunk]);
        return;
      case 'body':
        return this.#relayBody(chunk);
      case 'response':
        return this.#ignore(chunk);
      case 'closing':
        return;
    }
  }

  #readHead(chunk: Buffer): void {
    const from = this.#pending.length - 3;
    this.#pending = Buffer.concat([this.#pending, chunk]);
    const end = findHeadEnd(this.#pending, from);
    if (end < 0 ? this.#pending.length > MAX_HEAD_BYTES : end > MAX_HEAD_BYTES) {
      return this.#refuse(400, `request head larger than ${MAX_HEAD_BYTES} bytes`);
    }
    if (end < 0) return;
    const head = this.#pending.subarray(0, end);
    const verdict = parseRequestHead(head);
    if (!verdict.ok) return this.#refuse(verdict.status, verdict.message);
    const { request } = verdict;
    this.#emit({
      type: 'request-head',
      method: request.method,
      target: request.target,
      version: request.version,
      headers: request.headers,
      bytes: end,
    });
    this.#pending = this.#pending.subarray(end);
    this.#connectOrigin(request);
  }

  #connectOrigin(request: DumbRequest): void {
    const { originHost: host, originPort: port } = request;
    this.#request = request;
    this.#target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.#phase = 'connecting';
    this.#bodyExpected = request.contentLength;
    // Hold client bytes until the origin is there; they are the request body (or bytes to ignore).
    this.#client.pause();
    this.#emit({ type: 'origin-connecting', host, port });
    const origin = connect({ host, port });
    this.#origin = origin;
    this.#openSockets += 1;
    origin.once('connect', () => this.#onOriginConnect(request, origin));
    origin.on('data', (chunk: Buffer) => this.#onOriginData(chunk));
    origin.on('end', () => this.#onOriginGone());
    origin.on('error', (err) => this.#onOriginGone(errorCode(err)));
    origin.on('close', () => this.#socketClosed());
    origin.on('drain', () => this.#client.resume());
  }

  #onOriginConnect(request: DumbRequest, origin: Socket): void {
    this.#originConnected = true;
    this.#emit({ type: 'origin-connected', host: request.originHost, port: request.originPort, localPort: origin.localPort ?? 0 });
    // Origin-form request line (RFC 9112 §3.2.1), then every header line exactly as received: no hop-by-hop processing.
    const head = Buffer.concat([Buffer.from(request.originRequestLine, 'latin1'), CRLF, request.headerBlock]);
    origin.write(head);
    this.#emit({ type: 'request-forwarded', requestLine: request.originRequestLine, bytes: head.length });
    this.#phase = this.#bodyExpected > 0 ? 'body' : 'response';
    const pending = this.#pending;
    this.#pending = EMPTY;
    // Resume first: relaying the pending bytes may pause the client again for origin backpressure.
    this.#client.resume();
    if (pending.length > 0) this.#onClientData(pending);
  }

  /** Relays exactly Content-Length bytes (RFC 1945 §7.2); anything after them is a next request, ignored. */
  #relayBody(chunk: Buffer): void {
    const n = Math.min(chunk.length, this.#bodyExpected - this.#bodyRelayed);
    this.#bodyRelayed += n;
    this.#emit({ type: 'request-body-bytes', n, total: this.#bodyRelayed, expected: this.#bodyExpected });
    if (this.#origin?.write(chunk.subarray(0, n)) === false) this.#client.pause();
    if (this.#bodyRelayed < this.#bodyExpected) return;
    this.#phase = 'response';
    if (chunk.length > n) this.#ignore(chunk.subarray(n));
  }

  #ignore(chunk: Buffer): void {
    this.#ignoredBytes += chunk.length;
    this.#emit({ type: 'client-bytes-ignored', n: chunk.length, total: this.#ignoredBytes });
  }

  #onOriginData(chunk: Buffer): void {
    if (this.#clientClosing) return;
    this.#observeResponseHead(chunk);
    this.#responseBytes += chunk.length;
    this.#emit({ type: 'response-bytes', n: chunk.length, total: this.#responseBytes });
    if (!this.#client.write(chunk)) this.#origin?.pause();
  }

  /** Watches the relayed stream for the first response head, for the timeline only: the bytes are not touched. */
  #observeResponseHead(chunk: Buffer): void {
    if (this.#responseHead === null) return;
    const from = this.#responseHead.length - 3;
    const seen = Buffer.concat([this.#responseHead, chunk]);
    const end = findHeadEnd(seen, from);
    if (end < 0) {
      this.#responseHead = seen.length > MAX_HEAD_BYTES ? null : seen;
      return;
    }
    this.#responseHead = null;
    this.#emit({ type: 'response-head', ...parseResponseHead(seen.subarray(0, end)) });
  }

  /** The origin closed (FIN or error): for a pre-1.1 proxy, that is the end of the response. */
  #onOriginGone(error?: string): void {
    if (this.#originClosing) return;
    this.#originClosing = true;
    if (!this.#originConnected) {
      const { originHost: host = '', originPort: port = 0 } = this.#request ?? {};
      this.#emit({ type: 'origin-connect-failed', host, port, code: error ?? 'closed' });
      return this.#refuse(502, `cannot connect to ${this.#target} (${error ?? 'closed'})`);
    }
    this.#emit({ type: 'origin-closed', initiator: 'origin', responseBytes: this.#responseBytes, ...(error === undefined ? {} : { error }) });
    if (this.#responseBytes === 0) {
      return this.#refuse(502, `origin ${this.#target} closed the connection without a response`);
    }
    if (this.#markClientClosing()) this.#client.end();
  }

  /** The client closed or failed first: nobody is left to read the response, so the origin side goes too. */
  #onClientGone(error?: string): void {
    if (this.#clientClosing) return;
    this.#clientClosing = true;
    this.#phase = 'closing';
    this.#emit({
      type: 'client-closed',
      initiator: 'client',
      responseBytes: this.#responseBytes,
      ignoredBytes: this.#ignoredBytes,
      ...(error === undefined ? {} : { error }),
    });
    this.#destroyOrigin();
  }

  /** Answers with the proxy's own plain-text error and closes the client connection. */
  #refuse(status: 400 | 501 | 502, message: string): void {
    this.#phase = 'closing';
    this.#pending = EMPTY;
    this.#destroyOrigin();
    if (this.#clientClosing) return;
    this.#emit({ type: 'proxy-response', status, message });
    this.#markClientClosing();
    this.#client.end(plainResponse(status, message));
  }

  /** Records that the proxy initiates the client close; false if the client connection is already closing. */
  #markClientClosing(): boolean {
    if (this.#clientClosing) return false;
    this.#clientClosing = true;
    this.#phase = 'closing';
    this.#emit({
      type: 'client-closed',
      initiator: 'proxy',
      responseBytes: this.#responseBytes,
      ignoredBytes: this.#ignoredBytes,
    });
    // Keep reading (and discarding) so the client's FIN is seen and the socket can finish closing.
    this.#client.resume();
    return true;
  }

  #destroyOrigin(): void {
    const origin = this.#origin;
    if (origin === undefined || origin.destroyed) return;
    if (this.#originConnected && !this.#originClosing) {
      this.#originClosing = true;
      this.#emit({ type: 'origin-closed', initiator: 'proxy', responseBytes: this.#responseBytes });
    }
    this.#originClosing = true;
    origin.destroy();
  }

  #socketClosed(): void {
    this.#openSockets -= 1;
    if (this.#openSockets === 0) this.#resolveDone();
  }
}
