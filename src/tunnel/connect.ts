/**
 * CONNECT tunnels (SPEC §6.1, RFC 9110 §9.3.6): `CONNECT host:port` → allowed-port check → TCP connect within
 * `tunnel.connectTimeout` → `200 Connection Established` → a spliced {@link Tunnel}. Failures before the tunnel exists
 * are answered through the one error table as a raw response on the client socket (`403` port not allowed, `502`
 * refused or unresolvable, `504` connect timeout) and the connection is closed. A CONNECT carries no forwarded
 * headers and none of its headers go anywhere: `Proxy-Authorization` is for this proxy only.
 *
 * Node's HTTP server gives the client socket up on 'connect'; the downstream tracker hands it to this module
 * (`handOff`), which from then on owns it, registered in {@link Tunnels} so shutdown reaches it.
 */
import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/schema.js';
import type { ConnectionTracker, DownstreamConnection } from '../downstream/connections.js';
import { ProxyError, classifyUpstreamError } from '../errors/index.js';
import type { TunnelVerdict as TunnelAdmission } from '../access/verdict.js';
import type { Telemetry } from '../observability/events.js';
import { unpooledRecord } from '../observability/events.js';
import { authorityTarget } from '../policy/index.js';
import { refuseAndClose } from './linger.js';
import type { TunnelCloseReason, TunnelMember, Tunnels } from './registry.js';
import { ReusedReadBuffer, Tunnel } from './splice.js';
import type { Connector } from '../upstream/connector.js';

export interface ConnectDeps {
  readonly telemetry: Telemetry;
  readonly tracker: ConnectionTracker;
  readonly tunnels: Tunnels;
  readonly tunnel: Config['tunnel'];
  /** The one upstream connector (SPEC §4.8): dials, vets the address connected to, sets the socket options. */
  readonly connector: Connector;
  /** Forward mode opens tunnels; a gateway answers CONNECT with `501`. */
  readonly enabled: boolean;
  /**
   * Access control for a tunnel (issue 7: auth 407, loop 508, destination 403): the vetted address to dial (never the
   * name again), or a refusal answered through the one table with the headers it needs (`Proxy-Authenticate`).
   */
  readonly admit: (req: IncomingMessage, hostname: string, port: number, conn: DownstreamConnection) => Promise<TunnelAdmission>;
}

const ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

export class ConnectHandler {
  readonly #deps: ConnectDeps;

  constructor(deps: ConnectDeps) {
    this.#deps = deps;
  }

  /** Handle one CONNECT (http.Server 'connect'): take the client socket over and open or refuse the tunnel. */
  handle(req: IncomingMessage, head: Buffer, conn: DownstreamConnection): void {
    const deps = this.#deps;
    const connReq = deps.tracker.beginRequest(conn);
    const client = deps.tracker.handOff(conn);
    deps.tracker.endRequest(conn);
    if (client === undefined) return;
    // Our own idle timer governs from now on; Node's keep-alive timeout must not fire on a tunnel.
    client.setTimeout(0);
    const attempt = new ConnectAttempt(deps, client, req.url ?? '', conn.id, connReq);
    const checked = this.#check(attempt.target);
    if (checked instanceof ProxyError) {
      attempt.refuse(checked);
      return;
    }
    attempt.admit(req, checked.hostname, checked.port, conn, head);
  }

  /** Where the tunnel may go, or why not (SPEC §6.1: allowed ports are configurable). */
  #check(requestTarget: string): ProxyError | { hostname: string; port: number } {
    const deps = this.#deps;
    const where = { leg: 'downstream', phase: 'target' } as const;
    if (!deps.enabled) {
      return new ProxyError('CONNECT_UNSUPPORTED', 'CONNECT is not available in gateway mode', where);
    }
    const parsed = authorityTarget(requestTarget);
    if (!parsed.ok) return new ProxyError('BAD_REQUEST_TARGET', parsed.reason, where);
    const allowed = deps.tunnel.allowedPorts;
    if (allowed.length > 0 && !allowed.includes(parsed.port)) {
      const why = `CONNECT to port ${parsed.port} is not allowed (tunnel.allowedPorts: ${allowed.join(', ')})`;
      return new ProxyError('TUNNEL_PORT_DENIED', why, where);
    }
    if (deps.tunnels.closing) return new ProxyError('SHUTTING_DOWN', 'the proxy is shutting down', where);
    return parsed;
  }
}

/** One CONNECT from its head to an established tunnel or a refusal. Registered while it owns sockets. */
class ConnectAttempt implements TunnelMember {
  readonly target: string;
  readonly #deps: ConnectDeps;
  readonly #client: Socket;
  readonly #conn: number;
  readonly #connReq: number;
  readonly #started = performance.now();
  #abort: AbortController | undefined;

  constructor(deps: ConnectDeps, client: Socket, target: string, conn: number, connReq: number) {
    this.#deps = deps;
    this.#client = client;
    this.target = target;
    this.#conn = conn;
    this.#connReq = connReq;
  }

  destroy(_reason: TunnelCloseReason): void {
    this.#abort?.abort();
    this.#client.destroy();
    this.#deps.tunnels.delete(this);
  }

  /** Run access control (which may resolve the name), then dial the vetted address or answer the refusal. */
  admit(req: IncomingMessage, hostname: string, port: number, conn: DownstreamConnection, head: Buffer): void {
    const deps = this.#deps;
    // Registered while the check runs: shutdown must find this socket too.
    deps.tunnels.add(this);
    deps.admit(req, hostname, port, conn).then(
      (verdict) => {
        deps.tunnels.delete(this);
        if (this.#client.destroyed) return;
        if (verdict.ok) this.dial(verdict.address, port, head);
        else this.refuse(verdict.error, verdict.headers);
      },
      (err: unknown) => {
        deps.tunnels.delete(this);
        if (!this.#client.destroyed) this.refuse(classifyUpstreamError(err, { origin: this.target, phase: 'connect', responseStarted: false }));
      },
    );
  }

  /** Connect to the target through the one connector; on success answer `200` and splice, else answer the error. */
  dial(hostname: string, port: number, head: Buffer): void {
    const deps = this.#deps;
    const client = this.#client;
    deps.tunnels.add(this);
    // allowHalfOpen: the origin's FIN must not end our sending side; the client may still be talking (SPEC §6.1).
    // The download direction reads into one reused buffer (splice.ts ReusedReadBuffer, issue 8), unless disabled.
    const size = deps.tunnel.readBufferSize;
    const reads = size > 0 ? new ReusedReadBuffer(size) : undefined;
    const abort = new AbortController();
    this.#abort = abort;
    const onClientClose = (): void => abort.abort();
    client.once('close', onClientClose);
    const target = { origin: this.target, secure: false, hostname, port };
    const opts = { connectTimeout: deps.tunnel.connectTimeout, allowHalfOpen: true, report: false, ...(reads === undefined ? {} : { onread: reads.onread }) };
    deps.connector.dial(target, abort.signal, opts).then(
      (dialed) => {
        client.off('close', onClientClose);
        this.#abort = undefined;
        const origin = dialed.socket;
        if (client.destroyed) {
          origin.destroy();
          deps.tunnels.delete(this);
          this.#record(499, new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'connect' }));
          return;
        }
        client.write(ESTABLISHED);
        this.#record(200, undefined);
        const t = { kind: 'connect', conn: this.#conn, target: this.target, idleTimeout: deps.tunnel.idleTimeout } as const;
        // The tunnel registers itself before this attempt leaves the registry: shutdown never misses the sockets.
        new Tunnel(deps, client, origin, { ...t, splice: true, head, ...(reads === undefined ? {} : { originReads: reads }) });
        deps.tunnels.delete(this);
      },
      (err: ProxyError) => {
        client.off('close', onClientClose);
        this.#abort = undefined;
        deps.tunnels.delete(this);
        if (err.code === 'CLIENT_ABORTED' || client.destroyed) {
          this.#record(499, new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'connect' }));
          return;
        }
        this.refuse(err);
      },
    );
  }

  /** Answer the error through the one table and close the connection (SPEC §4.4). */
  refuse(err: ProxyError, extra: readonly string[] = []): void {
    const bytes = refuseAndClose(this.#deps.tunnels, this.#client, err, extra);
    this.#record(err.status, err, bytes);
  }

  #record(status: number, err: ProxyError | undefined, bytes = 0): void {
    this.#deps.telemetry.emit({
      type: 'request',
      record: unpooledRecord({
        conn: this.#conn,
        connReq: this.#connReq,
        method: 'CONNECT',
        target: this.target,
        origin: undefined,
        status,
        bytes,
        started: this.#started,
        error: err?.code,
      }),
    });
  }
}
