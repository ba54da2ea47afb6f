/**
 * The downstream connection tracker (SPEC §3): it owns every accepted client socket (STYLE rule 2). It gives each
 * connection an id and a request counter, records why it closed, and is the only module that destroys client
 * sockets — the engine asks it to (`abort`), the tunnel takes a socket over by an explicit `handOff`.
 */
import type { Socket } from 'node:net';
import type { DownstreamCloseReason, Telemetry } from '../observability/events.js';

/** One accepted client connection, as the rest of the proxy sees it. */
export class DownstreamConnection {
  readonly id: number;
  readonly remoteAddress: string;
  /** Requests started on this connection; the n-th request gets `connReq = n`. */
  requests = 0;
  /** Requests started but not finished (more than one while pipelining). */
  inFlight = 0;
  reason: DownstreamCloseReason | undefined;
  /** True once a CONNECT/upgrade took the socket over. */
  handedOff = false;

  constructor(id: number, remoteAddress: string) {
    this.id = id;
    this.remoteAddress = remoteAddress;
  }
}

const kConn = Symbol('hopwise.downstreamConnection');
type TrackedSocket = Socket & { [kConn]?: DownstreamConnection };

export class ConnectionTracker {
  readonly #telemetry: Telemetry;
  readonly #sockets = new Map<DownstreamConnection, Socket>();
  #nextId = 1;
  #closing = false;
  #allClosed: (() => void) | undefined;

  constructor(telemetry: Telemetry) {
    this.#telemetry = telemetry;
  }

  /** Register an accepted socket (http.Server 'connection'). */
  accept(socket: Socket): DownstreamConnection {
    const conn = new DownstreamConnection(this.#nextId++, socket.remoteAddress ?? 'unknown');
    (socket as TrackedSocket)[kConn] = conn;
    this.#sockets.set(conn, socket);
    let errored = false;
    socket.on('error', () => {
      errored = true;
    });
    socket.on('timeout', () => {
      // Node's server arms the socket timeout with keepAliveTimeout between requests (SPEC §3.1).
      if (conn.inFlight === 0) conn.reason ??= 'idle-timeout';
    });
    socket.once('close', () => {
      this.#sockets.delete(conn);
      if (!conn.handedOff) {
        const reason = conn.reason ?? (errored ? 'error' : 'client-closed');
        this.#telemetry.emit({ type: 'downstream.close', conn: conn.id, reason, requests: conn.requests });
      }
      if (this.#sockets.size === 0) this.#allClosed?.();
    });
    this.#telemetry.emit({ type: 'downstream.open', conn: conn.id, remote: conn.remoteAddress });
    return conn;
  }

  /** The connection a socket belongs to. */
  of(socket: Socket): DownstreamConnection | undefined {
    return (socket as TrackedSocket)[kConn];
  }

  /** Start the next request on a connection; returns its number on that connection. */
  beginRequest(conn: DownstreamConnection): number {
    conn.inFlight++;
    return ++conn.requests;
  }

  endRequest(conn: DownstreamConnection): void {
    conn.inFlight = Math.max(0, conn.inFlight - 1);
    if (this.#closing && conn.inFlight === 0) this.#sockets.get(conn)?.end();
  }

  /** Record the reason a connection will close; the first specific reason wins. */
  note(conn: DownstreamConnection, reason: DownstreamCloseReason): void {
    conn.reason ??= reason;
  }

  /** Destroy a connection now (truncated upstream response, malformed input). */
  abort(conn: DownstreamConnection, reason: DownstreamCloseReason): void {
    conn.reason ??= reason;
    this.#sockets.get(conn)?.destroy();
  }

  /**
   * A tunnel takes the socket over (CONNECT, Upgrade): from now on the tunnel owns it and counts it. The connection's
   * close is reported now, with reason `tunnel`.
   */
  handOff(conn: DownstreamConnection): Socket | undefined {
    const socket = this.#sockets.get(conn);
    if (socket === undefined || conn.handedOff) return undefined;
    conn.handedOff = true;
    this.#sockets.delete(conn);
    this.#telemetry.emit({ type: 'downstream.close', conn: conn.id, reason: 'tunnel', requests: conn.requests });
    return socket;
  }

  /** True while shutting down: responses must carry Connection: close. */
  get closing(): boolean {
    return this.#closing;
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** Begin a graceful shutdown: idle connections close now, busy ones after their in-flight exchanges (SPEC §10.1). */
  startClosing(): void {
    this.#closing = true;
    for (const [conn, socket] of this.#sockets) {
      conn.reason ??= 'shutdown';
      if (conn.inFlight === 0) socket.end();
    }
  }

  /** Resolves when every tracked connection has closed. */
  whenAllClosed(): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#allClosed = resolve;
    });
  }

  /** Destroy every remaining connection (end of the drain period, or destroy()). */
  destroyAll(reason: DownstreamCloseReason = 'shutdown'): void {
    for (const [conn, socket] of this.#sockets) {
      conn.reason ??= reason;
      socket.destroy();
    }
  }
}
