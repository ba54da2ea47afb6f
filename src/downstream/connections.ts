/**
 * The downstream connection tracker (SPEC §3): it owns every accepted client socket (STYLE rule 2). It gives each
 * connection an id and a request counter, records why it closed, and is the only module that destroys client
 * sockets — the engine asks it to (`abort`), the tunnel takes a socket over by an explicit `handOff`.
 */
import type { Socket } from 'node:net';
import { closeLingering } from '../errors/index.js';
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
  /** True when the connection was refused at accept time (issue 7): requests parsed on it are ignored. */
  refused = false;
  /** Called once when the socket closes (see ConnectionTracker.watch). */
  readonly watchers = new Set<() => void>();
  /** Called once when no request is in flight any more (see ConnectionTracker.whenIdle). */
  onIdle: (() => void) | undefined;
  /**
   * True once the connection takes no more requests (shutdown, SPEC §10.1): its last response said `Connection: close`
   * or it was closed idle. A request parsed on it afterwards is never forwarded (issue 17: its answer could not be
   * delivered).
   */
  retired = false;

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
  /** Open client sockets per remote address, tunnels included (downstream.maxConnectionsPerClient). */
  readonly #perClient = new Map<string, number>();
  /** Open client sockets, tunnels included (downstream.maxConnections). */
  #open = 0;
  #nextId = 1;
  #closing = false;
  #allClosed: (() => void) | undefined;
  /** Handed-off connections whose tunnel has not opened yet, by id; `tunnel.open` settles them (see handOff). */
  readonly #pendingTunnels = new Map<number, DownstreamConnection>();
  #unsubscribe: (() => void) | undefined;

  /** False when nothing asks {@link connectionsFrom} (`downstream.maxConnectionsPerClient` = 0): no per-address map. */
  readonly #countPerClient: boolean;

  constructor(telemetry: Telemetry, opts: { readonly countPerClient?: boolean } = {}) {
    this.#telemetry = telemetry;
    this.#countPerClient = opts.countPerClient ?? true;
  }

  /** Register an accepted socket (http.Server 'connection'). */
  accept(socket: Socket): DownstreamConnection {
    const conn = new DownstreamConnection(this.#nextId++, socket.remoteAddress ?? 'unknown');
    (socket as TrackedSocket)[kConn] = conn;
    this.#sockets.set(conn, socket);
    this.#open++;
    const perClient = this.#countPerClient;
    if (perClient) this.#perClient.set(conn.remoteAddress, (this.#perClient.get(conn.remoteAddress) ?? 0) + 1);
    let errored = false;
    socket.on('error', () => {
      errored = true;
    });
    socket.on('timeout', () => {
      // Node's server arms the socket timeout with keepAliveTimeout between requests (SPEC §3.1).
      if (conn.inFlight === 0) conn.reason ??= 'idle-timeout';
    });
    // 'close' is emitted once: `on` spares the once-wrapper (issue 8).
    socket.on('close', () => {
      for (const w of conn.watchers) w();
      conn.watchers.clear();
      this.#sockets.delete(conn);
      this.#open--;
      if (perClient) {
        const n = (this.#perClient.get(conn.remoteAddress) ?? 1) - 1;
        if (n === 0) this.#perClient.delete(conn.remoteAddress);
        else this.#perClient.set(conn.remoteAddress, n);
      }
      if (!conn.handedOff) {
        const reason = conn.reason ?? (errored ? 'error' : 'client-closed');
        this.#telemetry.emit({ type: 'downstream.close', conn: conn.id, reason, requests: conn.requests });
      } else if (this.#pendingTunnels.has(conn.id)) {
        this.#settleTunnel(conn, 'tunnel-failed');
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

  /**
   * Call `onClose` when the connection's socket closes; returns the function that cancels it. For exchanges whose
   * response is queued behind others (pipelining) and so never sees its own 'close'.
   */
  watch(conn: DownstreamConnection, onClose: () => void): () => void {
    conn.watchers.add(onClose);
    return () => conn.watchers.delete(onClose);
  }

  /** Start the next request on a connection; returns its number on that connection. */
  beginRequest(conn: DownstreamConnection): number {
    conn.inFlight++;
    return ++conn.requests;
  }

  endRequest(conn: DownstreamConnection): void {
    conn.inFlight = Math.max(0, conn.inFlight - 1);
    if (conn.inFlight !== 0) return;
    const idle = conn.onIdle;
    conn.onIdle = undefined;
    if (idle !== undefined) idle();
    else if (this.#closing) this.#retire(conn);
  }

  /**
   * While shutting down: true when the response to request `connReq` is to be the connection's last (it carries
   * `Connection: close`), i.e. no later request has started on it and no declined upgrade offer waits behind it
   * ({@link whenIdle}); the connection then takes no more requests. A response with pipelined requests behind it stays
   * keep-alive, so theirs are delivered too (SPEC §3.3, §10.1).
   */
  lastResponse(conn: DownstreamConnection, connReq: number): boolean {
    if (!this.#closing || connReq !== conn.requests || conn.onIdle !== undefined) return false;
    conn.reason ??= 'shutdown';
    conn.retired = true;
    return true;
  }

  /**
   * Run `fn` once every request started on the connection has finished (at once when none is in flight): a declined
   * upgrade offer is parsed again only then, so its response queues behind the ones still owed (SPEC §3.3). Called
   * from a response's 'close', when Node has already detached that response from the socket. One waiter at a time:
   * the connection's parser is detached while it waits, so no other request can start.
   */
  whenIdle(conn: DownstreamConnection, fn: () => void): void {
    if (conn.inFlight === 0) fn();
    else conn.onIdle = fn;
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
   * Refuse a connection: write `response` (a complete raw HTTP response with `Connection: close`, or nothing when the
   * answers already given suffice) and close through the one lingering close (src/errors/linger.ts), so a peer that
   * never closes cannot hold the slot. Used at accept time (access.clients, connection limits; issue 7) and for parse
   * and timeout errors. Requests parsed on it afterwards are ignored (`conn.refused`).
   */
  refuse(conn: DownstreamConnection, reason: DownstreamCloseReason, response?: string): void {
    const socket = this.#sockets.get(conn);
    if (socket === undefined || conn.refused) return;
    conn.refused = true;
    conn.reason ??= reason;
    closeLingering(socket, response);
  }

  /** Open client connections from `remoteAddress`, tunnels included; throws when the tracker was built not to count. */
  connectionsFrom(remoteAddress: string): number {
    if (!this.#countPerClient) throw new Error('ConnectionTracker: built with countPerClient: false');
    return this.#perClient.get(remoteAddress) ?? 0;
  }

  /** Open client connections, tunnels included (`size` counts only those still tracked for HTTP). */
  get open(): number {
    return this.#open;
  }

  /**
   * A tunnel takes the socket over (CONNECT, Upgrade): from now on the tunnel owns it and counts it. The connection's
   * close is reported once the tunnel module says what became of it: reason `tunnel` when its `tunnel.open` event
   * comes, `tunnel-failed` when the socket closes first (a refused or failed CONNECT, a declined upgrade). The tracker
   * listens to telemetry only while such a hand-off is pending, so a proxy without tunnels pays nothing.
   */
  handOff(conn: DownstreamConnection): Socket | undefined {
    const socket = this.#sockets.get(conn);
    if (socket === undefined || conn.handedOff) return undefined;
    conn.handedOff = true;
    this.#sockets.delete(conn);
    this.#pendingTunnels.set(conn.id, conn);
    this.#unsubscribe ??= this.#telemetry.on((e) => {
      if (e.type !== 'tunnel.open') return;
      const opened = this.#pendingTunnels.get(e.conn);
      if (opened !== undefined) this.#settleTunnel(opened, 'tunnel');
    });
    return socket;
  }

  #settleTunnel(conn: DownstreamConnection, reason: 'tunnel' | 'tunnel-failed'): void {
    this.#pendingTunnels.delete(conn.id);
    if (this.#pendingTunnels.size === 0) {
      this.#unsubscribe?.();
      this.#unsubscribe = undefined;
    }
    this.#telemetry.emit({ type: 'downstream.close', conn: conn.id, reason, requests: conn.requests });
  }

  /** True while shutting down: responses must carry Connection: close. */
  get closing(): boolean {
    return this.#closing;
  }

  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Begin a graceful shutdown (SPEC §10.1): idle connections close now, busy ones after their in-flight exchanges,
   * with `Connection: close` on their last response. `parserIdle` says whether the socket's HTTP parser is between
   * messages: a connection on which part of a request has arrived is busy, so that request is answered (issue 17).
   */
  startClosing(parserIdle: (socket: Socket) => boolean = () => true): void {
    this.#closing = true;
    for (const [conn, socket] of this.#sockets) {
      conn.reason ??= 'shutdown';
      if (conn.inFlight === 0 && conn.onIdle === undefined && parserIdle(socket)) this.#retire(conn);
    }
  }

  /** No more requests on this connection: half-close it; anything parsed later is ignored (`retired`). */
  #retire(conn: DownstreamConnection): void {
    conn.retired = true;
    this.#sockets.get(conn)?.end();
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
