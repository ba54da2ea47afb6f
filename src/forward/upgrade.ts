/**
 * WebSocket upgrades (SPEC §7.1, RFC 9110 §7.8, RFC 6455 §4.1), relayed with http-proxy-3's `ws()` — this module is
 * the only importer of that package (STYLE: one importer per library). Our policy runs first: the upstream head is
 * built exactly as for a plain request (hop-by-hop stripped, Host from the target, Via and forwarded headers after
 * stripping) except that `Connection: Upgrade` + `Upgrade` are kept, and that head — not the library's copy of the
 * client's headers — is what goes out. The `101` is stripped the same way (keeping the upgrade pair) and gets Via; an
 * origin that declines with an ordinary response has it relayed stripped, with Via and `Connection: close`.
 *
 * Only a `GET` with `Upgrade: websocket` is relayed. Any other upgrade offer (`h2c` from curl --http2 or Java's
 * HttpClient) is declined: `handle` returns false and the downstream server parses the request again without its
 * `Upgrade` field, so it is forwarded as an ordinary request (RFC 9110 §7.8: a server MAY ignore Upgrade).
 *
 * Library behaviour we rely on and why: it copies `req.headers` and sets `Connection: close` unless the value names
 * `upgrade`, so we replace the outgoing headers in its `proxyReqWs` hook; it writes the `101` from
 * `proxyRes.headers`, so our 'upgrade' listener, prepended to its own, replaces those; on errors it calls our
 * callback before `destroySoon()` on the client socket, so the error answer is written first. It also sets
 * `setTimeout(0)`, `setNoDelay(true)` and `setKeepAlive(true, 0)` on the client socket we hand it: the one place
 * another module touches a socket this proxy owns (STYLE rule 2), accepted as the price of the library.
 *
 * `WebSocketAttempt` is one state machine (pending → switched | declined | failed | client gone), kept in one file
 * although the file runs past the usual budget (STYLE rule 10).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ProxyServer } from 'http-proxy-3';
import type { ConnectionTracker, DownstreamConnection } from '../downstream/connections.js';
import { ProxyError, classifyUpstreamError } from '../errors/index.js';
import type { ErrorCode } from '../errors/index.js';
import type { Telemetry } from '../observability/events.js';
import { unpooledRecord } from '../observability/events.js';
import { isUpgradeRequest, stripHopByHop } from '../policy/index.js';
import type { UpstreamTarget } from '../policy/index.js';
import { refuseAndClose } from '../tunnel/linger.js';
import type { TunnelCloseReason, TunnelMember, Tunnels } from '../tunnel/registry.js';
import { Tunnel } from '../tunnel/splice.js';
import type { RequestAdditions, TargetResolver } from './engine.js';
import { upstreamHeaders } from './engine.js';
import { writeRawProxyError } from './respond.js';
import type { Refusal, RequestGate } from '../access/request-gate.js';
import type { RouteChooser } from './engine.js';
import type { ParentSet } from '../upstream/parents.js';
import { ParentTunnelAgent } from './parent-agent.js';
import { parentAuthorization } from './via-parent.js';

export interface UpgradeDeps {
  readonly telemetry: Telemetry;
  readonly tracker: ConnectionTracker;
  readonly tunnels: Tunnels;
  readonly resolve: TargetResolver;
  readonly additions: RequestAdditions;
  /** The Via member added to the `101` (and to a declining response), e.g. `1.1 hopwise`. */
  readonly responseVia: string;
  /** upstream.connectTimeout (→ 504). */
  readonly connectTimeout: number;
  /** upstream.responseTimeout: time from connect to the `101` (→ 504). */
  readonly responseTimeout: number;
  /** tunnel.idleTimeout for the upgraded connection; 0 disables. */
  readonly idleTimeout: number;
  /** The same checks as plain HTTP (issue 7): framing, auth, loops, destination. */
  readonly gate: RequestGate;
  /** Issue 13: direct, or through a parent with a CONNECT of our own (ws: counts as http, wss: as https). */
  readonly route: RouteChooser;
  readonly parents: ParentSet;
}

export class UpgradeRelay {
  readonly #deps: UpgradeDeps;

  constructor(deps: UpgradeDeps) {
    this.#deps = deps;
  }

  /**
   * Handle http.Server 'upgrade'. Returns false, touching nothing, when the offer is not a WebSocket handshake: the
   * caller then serves it as an ordinary request. Otherwise takes the client socket over and relays.
   */
  handle(req: IncomingMessage, head: Buffer, conn: DownstreamConnection): boolean {
    if (req.method !== 'GET' || isUpgradeRequest(req.rawHeaders) !== 'websocket') return false;
    const deps = this.#deps;
    const connReq = deps.tracker.beginRequest(conn);
    const client = deps.tracker.handOff(conn);
    deps.tracker.endRequest(conn);
    if (client === undefined) return true;
    client.setTimeout(0);
    const attempt = new WebSocketAttempt(deps, req, client, conn.id, connReq);
    const resolved = deps.resolve(req);
    if (!resolved.ok) {
      attempt.refuse(new ProxyError('BAD_REQUEST_TARGET', resolved.reason, { leg: 'downstream', phase: 'target' }));
    } else if (deps.tunnels.closing) {
      attempt.refuse(new ProxyError('SHUTTING_DOWN', 'the proxy is shutting down', { leg: 'downstream', phase: 'target' }));
    } else {
      const target = resolved.target;
      const proceed = (refusal: Refusal | undefined): void => {
        if (client.destroyed) return;
        if (refusal === undefined) attempt.start(target, head);
        else attempt.refuse(refusal.error, refusal.headers);
      };
      const refusal = deps.gate(req, conn, target);
      if (refusal instanceof Promise) {
        refusal.then(proceed, (err: unknown) => attempt.refuse(classifyUpstreamError(err, { origin: target.origin, phase: 'connect', responseStarted: false })));
      } else {
        proceed(refusal);
      }
    }
    return true;
  }
}

/** One WebSocket handshake from the client's head to an established tunnel, a relayed refusal, or an error. */
class WebSocketAttempt implements TunnelMember {
  readonly #deps: UpgradeDeps;
  readonly #req: IncomingMessage;
  readonly #client: Socket;
  readonly #conn: number;
  readonly #connReq: number;
  readonly #target: string;
  readonly #started = performance.now();
  #origin: string | undefined;
  #proxyReq: ClientRequest | undefined;
  #timer: NodeJS.Timeout | undefined;
  #answered = false;
  #agent: ParentTunnelAgent | undefined;

  constructor(deps: UpgradeDeps, req: IncomingMessage, client: Socket, conn: number, connReq: number) {
    this.#deps = deps;
    this.#req = req;
    this.#client = client;
    this.#conn = conn;
    this.#connReq = connReq;
    this.#target = req.url ?? '';
  }

  destroy(_reason: TunnelCloseReason): void {
    this.#client.destroy();
  }

  refuse(err: ProxyError, extra: readonly string[] = []): void {
    this.#record(err.status, err, refuseAndClose(this.#deps.tunnels, this.#client, err, extra));
  }

  start(target: UpstreamTarget, head: Buffer): void {
    const deps = this.#deps;
    const req = this.#req;
    this.#origin = target.origin;
    const upstreamHead = deps.additions(req, upstreamHeaders(req.rawHeaders, target.host, true));
    // The library builds its request from req.headers and req.url: give it ours, so it has nothing of the client's
    // to copy; the exact head (order, case, duplicates) and the byte-for-byte path are set in proxyReqWs below.
    req.headers = headerObject(upstreamHead, true);
    req.url = target.path;
    const route = deps.route(target.hostname, target.port, target.protocol === 'https:' ? 'https' : 'http');
    const agent =
      route.kind === 'direct'
        ? undefined
        : new ParentTunnelAgent(deps.parents, deps.parents.order(route.parents), target, (p) => parentAuthorization(p, req.rawHeaders)[0]);
    this.#agent = agent;
    const relay = new ProxyServer({ target: target.origin, ws: true, xfwd: false, changeOrigin: false, ...(agent === undefined ? {} : { agent }) });
    relay.on('error', this.#onError);
    relay.on('proxyReqWs', (proxyReq) => this.#prepare(proxyReq, upstreamHead, target.path));
    relay.on('open', (originSocket) => this.#open(originSocket));
    deps.tunnels.add(this);
    this.#client.once('close', this.#onClientClose);
    this.#arm('UPSTREAM_CONNECT_TIMEOUT', deps.connectTimeout, 'connect');
    relay.ws(req, this.#client, head, this.#onError);
  }

  /** The library's outgoing request, before its head is written: make it exactly ours. */
  #prepare(proxyReq: ClientRequest, upstreamHead: readonly string[], path: string): void {
    this.#proxyReq = proxyReq;
    for (const name of proxyReq.getHeaderNames()) proxyReq.removeHeader(name);
    for (const [name, value] of Object.entries(headerObject(upstreamHead, false))) proxyReq.setHeader(name, value);
    proxyReq.path = path;
    proxyReq.prependListener('upgrade', (res: IncomingMessage) => this.#onSwitching(res));
    proxyReq.prependListener('response', (res: IncomingMessage) => this.#onDeclined(res));
    proxyReq.once('socket', (socket: Socket) => {
      const onConnected = (): void => this.#arm('UPSTREAM_RESPONSE_TIMEOUT', this.#deps.responseTimeout, 'response-head');
      if (socket.connecting) socket.once('connect', onConnected);
      else onConnected();
    });
  }

  /** The `101`: strip it like any response but keep the upgrade pair (SPEC §7.1), and add Via (SPEC §1.4). */
  #onSwitching(res: IncomingMessage): void {
    clearTimeout(this.#timer);
    const headers = stripHopByHop(res.rawHeaders, { direction: 'response', upgrade: true });
    headers.push('Via', this.#deps.responseVia);
    res.headers = headerObject(headers, false);
  }

  /** The origin answered without switching: relayed stripped, with Via; the library then closes the connection. */
  #onDeclined(res: IncomingMessage): void {
    clearTimeout(this.#timer);
    const headers = stripHopByHop(res.rawHeaders, { direction: 'response' });
    headers.push('Via', this.#deps.responseVia, 'connection', 'close');
    // Lowercase keys: the library looks up content-length and connection in lowercase to frame what it writes.
    res.headers = headerObject(headers, true);
    this.#record(res.statusCode ?? 0, undefined);
  }

  /** Switched and piped by the library: from here on a tunnel (kind `upgrade`) owns and counts both sockets. */
  #open(originSocket: Socket): void {
    this.#client.off('close', this.#onClientClose);
    this.#record(101, undefined);
    const opts = { kind: 'upgrade', conn: this.#conn, target: this.#target, idleTimeout: this.#deps.idleTimeout } as const;
    new Tunnel(this.#deps, this.#client, originSocket, { ...opts, splice: false });
    this.#deps.tunnels.delete(this);
  }

  /** Errors before the switch are answered (502/504 from the one table); after it the tunnel records them. */
  readonly #onError = (err: Error): void => {
    clearTimeout(this.#timer);
    if (this.#answered || this.#client.destroyed) return;
    const perr = classifyUpstreamError(err, { origin: this.#origin ?? this.#target, phase: 'response-head', responseStarted: false });
    this.#deps.telemetry.emit({ type: 'upstream.error', origin: this.#origin ?? this.#target, code: perr.code });
    // The library calls destroySoon() on the client right after this callback: the answer is flushed first.
    this.#record(perr.status, perr, writeRawProxyError(this.#client, perr));
  };

  readonly #onClientClose = (): void => {
    clearTimeout(this.#timer);
    this.#proxyReq?.destroy();
    this.#deps.tunnels.delete(this);
    const gone = new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'response-head' });
    this.#record(499, gone);
  };

  /** One timer per phase, owned here (STYLE rule 4): its expiry fails the outgoing request with a named code. */
  #arm(code: ErrorCode, ms: number, phase: 'connect' | 'response-head'): void {
    clearTimeout(this.#timer);
    if (ms <= 0) return;
    this.#timer = setTimeout(() => {
      const origin = this.#origin ?? this.#target;
      const what = phase === 'connect' ? 'connect timed out' : 'no 101 or response head in time';
      this.#proxyReq?.destroy(new ProxyError(code, `${origin}: ${what} (${ms} ms)`, { leg: 'upstream', phase, origin }));
    }, ms);
  }

  #record(status: number, err: ProxyError | undefined, bytes = 0): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#deps.telemetry.emit({
      type: 'request',
      record: unpooledRecord({
        conn: this.#conn,
        connReq: this.#connReq,
        method: 'GET',
        target: this.#target,
        origin: this.#origin,
        status,
        bytes,
        started: this.#started,
        error: err?.code,
        route: this.#origin === undefined ? undefined : this.#agent === undefined ? 'direct' : (this.#agent.parent?.key ?? this.#agent.first),
      }),
    });
  }
}

/**
 * A flat `[name, value, ...]` list as a header object in the same order: each name keyed by its first spelling (or
 * lowercased), duplicates kept as an array, which Node and the library write back as separate lines.
 */
function headerObject(flat: readonly string[], lowercase: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const keys = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const lower = flat[i]!.toLowerCase();
    const key = keys.get(lower) ?? (lowercase ? lower : flat[i]!);
    keys.set(lower, key);
    const value = flat[i + 1]!;
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
