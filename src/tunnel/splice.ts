/**
 * One established tunnel (SPEC §6.1, §7.1): the client socket and the origin socket, owned together after the
 * hand-off (STYLE rule 2), with byte counts each way, an idle timer, the close reason, and exactly one
 * `tunnel.open` / `tunnel.close` pair of telemetry events.
 *
 * With `splice: true` (CONNECT) the bytes are relayed here with back-pressure both ways, and a FIN from one side
 * becomes `end()` towards the other (half-close), so a client that has finished sending still receives everything
 * the origin has left to say. Client to origin is a `pipe()`. Origin to client, the download direction, reads into
 * one reused buffer when the origin socket was opened with {@link ReusedReadBuffer}'s `onread` (issue 8: a fresh
 * 64 KiB Buffer per read, and the garbage collection of them, cost a fifth of the tunnel's CPU; the buffer's size is
 * `tunnel.readBufferSize`). The tunnel is over when both sockets have closed: both sides ended, or
 * either one failed (which takes the other down). With `splice: false` someone else relays the bytes; the tunnel only
 * counts, times out and closes. WebSocket upgrades (forward/upgrade.ts) splice like CONNECT, starting with the bytes
 * either side sent after its head (`head`, `originHead`).
 */
import type { Socket } from 'node:net';
import { elapsedMs } from '../observability/events.js';
import type { Telemetry } from '../observability/events.js';
import type { TunnelCloseReason, TunnelKind, TunnelMember, Tunnels } from './registry.js';

export interface TunnelDeps {
  readonly telemetry: Telemetry;
  readonly tunnels: Tunnels;
}

export interface TunnelOptions {
  readonly kind: TunnelKind;
  /** Downstream connection id the client socket came from. */
  readonly conn: number;
  /** What the tunnel reaches, for logs: `host:port` or the upgraded URL. */
  readonly target: string;
  /** Milliseconds without a byte in either direction before both sockets are closed; 0 disables. */
  readonly idleTimeout: number;
  /** True: relay the bytes here (CONNECT). False: only watch a relay someone else set up (Upgrade). */
  readonly splice: boolean;
  /** Client bytes read together with the CONNECT (or Upgrade) head: sent to the origin first (splice mode only). */
  readonly head?: Buffer;
  /** Origin bytes read together with the `101` head: sent to the client first (splice mode only). */
  readonly originHead?: Buffer;
  /** The reused read buffer the origin socket was opened with (splice mode); without it, `origin.pipe(client)`. */
  readonly originReads?: ReusedReadBuffer;
}

/**
 * One buffer that an origin socket reads into (`net.connect({ onread })`), handed to the tunnel once it exists. A
 * handler that returns false pauses the socket (it must `resume()` it): the tunnel does so while the client has not
 * yet taken a chunk, since the next read would overwrite the bytes still waiting to be written.
 */
export class ReusedReadBuffer {
  readonly #buffer: Buffer;
  #handler: ((chunk: Buffer) => boolean) | undefined;
  /** Bytes read before a handler was attached (none in practice: the tunnel attaches on 'connect'), copied. */
  #early: Buffer[] = [];
  readonly onread: { readonly buffer: Buffer; readonly callback: (n: number) => boolean };

  /** `size` bytes (`tunnel.readBufferSize`); resident only as far as reads have filled it. */
  constructor(size: number) {
    this.#buffer = Buffer.allocUnsafe(size);
    this.onread = { buffer: this.#buffer, callback: (n: number): boolean => this.#deliver(n) };
  }

  #deliver(n: number): boolean {
    const chunk = this.#buffer.subarray(0, n);
    if (this.#handler !== undefined) return this.#handler(chunk);
    this.#early.push(Buffer.from(chunk));
    return true;
  }

  /** From now on every read goes to `handler`; returns (copies of) what was read before. */
  attach(handler: (chunk: Buffer) => boolean): Buffer[] {
    this.#handler = handler;
    const early = this.#early;
    this.#early = [];
    return early;
  }
}

export class Tunnel implements TunnelMember {
  readonly id: number;
  readonly #deps: TunnelDeps;
  readonly #opts: TunnelOptions;
  readonly #client: Socket;
  readonly #origin: Socket;
  readonly #started = performance.now();
  #reason: TunnelCloseReason | undefined;
  #bytesIn = 0;
  #bytesOut = 0;
  #open = 2;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: TunnelDeps, client: Socket, origin: Socket, opts: TunnelOptions) {
    this.#deps = deps;
    this.#opts = opts;
    this.#client = client;
    this.#origin = origin;
    this.id = deps.tunnels.nextId();
    deps.telemetry.emit({ type: 'tunnel.open', tunnel: this.id, conn: opts.conn, kind: opts.kind, target: opts.target });
    deps.tunnels.add(this);
    if (opts.idleTimeout > 0) this.#timer = setTimeout(this.#onIdle, opts.idleTimeout);
    const reads = opts.splice ? opts.originReads : undefined;
    this.#watch(client, origin, 'client-closed', true);
    this.#watch(origin, client, 'origin-closed', reads === undefined);
    if (!opts.splice) return;
    const originHead = opts.originHead;
    if (originHead !== undefined && originHead.length > 0) {
      this.#bytesOut += originHead.length;
      client.write(originHead);
    }
    const head = opts.head;
    if (head !== undefined && head.length > 0) {
      this.#bytesIn += head.length;
      origin.write(head);
    }
    // pipe() ends the destination when the source ends: that is the half-close propagation (SPEC §6.1).
    client.pipe(origin);
    if (reads === undefined) {
      origin.pipe(client);
      return;
    }
    for (const early of reads.attach(this.#relayDown)) {
      this.#bytesOut += early.length;
      client.write(early); // a copy: nothing points into the shared buffer
    }
    origin.once('end', () => client.end());
  }

  /** Origin to client from the reused buffer: counted, written, and no further read until the client has taken it. */
  readonly #relayDown = (chunk: Buffer): boolean => {
    this.#bytesOut += chunk.length;
    this.#timer?.refresh();
    const client = this.#client;
    if (client.destroyed) return false;
    client.write(chunk);
    if (client.writableLength === 0) return true;
    // The kernel did not take it all: the write still points into the shared buffer, so read on only after 'drain'.
    client.once('drain', () => this.#origin.resume());
    return false;
  };

  /** Close both sockets now (idle timeout, shutdown). */
  destroy(reason: TunnelCloseReason): void {
    this.#reason ??= reason;
    this.#client.destroy();
    this.#origin.destroy();
  }

  #watch(socket: Socket, other: Socket, endReason: TunnelCloseReason, countData: boolean): void {
    const inbound = socket === this.#client;
    // A socket reading into a reused buffer emits no 'data': its bytes are counted by #relayDown.
    if (countData) {
      socket.on('data', (chunk: Buffer) => {
        if (inbound) this.#bytesIn += chunk.length;
        else this.#bytesOut += chunk.length;
        this.#timer?.refresh();
      });
    }
    socket.on('end', () => {
      this.#reason ??= endReason;
    });
    socket.on('error', () => {
      this.#reason ??= 'error';
    });
    const onClose = (): void => {
      // A side gone without a clean half-close (reset, error, destroy) takes the other with it; after a clean one
      // the other side is left to flush what it still holds and close by itself.
      if (this.#opts.splice && !(socket.readableEnded && socket.writableFinished)) other.destroy();
      if (--this.#open === 0) this.#finish();
    };
    if (socket.closed) queueMicrotask(onClose);
    else socket.once('close', onClose);
  }

  readonly #onIdle = (): void => {
    this.destroy('idle-timeout');
  };

  #finish(): void {
    clearTimeout(this.#timer);
    this.#deps.tunnels.delete(this);
    const opts = this.#opts;
    this.#deps.telemetry.emit({
      type: 'tunnel.close',
      tunnel: this.id,
      kind: opts.kind,
      target: opts.target,
      reason: this.#reason ?? 'error',
      bytesIn: this.#bytesIn,
      bytesOut: this.#bytesOut,
      ms: elapsedMs(this.#started),
    });
  }
}
