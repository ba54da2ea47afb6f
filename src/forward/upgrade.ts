/**
 * WebSocket upgrades (SPEC §7.1, RFC 9110 §7.8, RFC 6455 §4.1) on hopwise's own upstream leg (issues 12 and 17):
 * dialled through the one connector (which vets the address actually connected to, so a DNS answer that changes
 * between the access check and the dial is caught), the handshake written by us as one buffer from the policy's flat
 * header list, and the answer read by the response parser (upstream/response-parser.ts).
 *
 * The upstream head is built exactly as for a plain request (hop-by-hop stripped, Host from the target, Via and
 * forwarded headers after stripping) except that `Connection: Upgrade` + `Upgrade` are kept. The answer:
 * - `101` naming a protocol the client offered: stripped the same way (keeping the upgrade pair), Via added, written
 *   raw to the client; then a splicing `Tunnel` (kind `upgrade`) owns both sockets, starting with the bytes either
 *   side sent after its head. A `101` to anything else is answered `502` (RFC 9110 §7.8).
 * - Interim 1xx: relayed stripped, with Via (RFC 9110 §15.2; a WebSocket client speaks HTTP/1.1).
 * - Any other final status: a declined upgrade, which is an ordinary response (issue 17 findings 7–9): the same
 *   framing checks as the forwarding path (`502` before any byte), the same hop-by-hop pass with Via, the origin's
 *   name case, the body re-framed (chunked stays chunked, a length stays a length) with `Connection: close`. A body
 *   cut short is never masked: the client connection is destroyed and so is the origin's.
 *
 * Only a `GET` with `Upgrade: websocket` is relayed. Any other upgrade offer (`h2c` from curl --http2 or Java's
 * HttpClient) is declined: `handle` returns false and the downstream server parses the request again without its
 * `Upgrade` field, so it is forwarded as an ordinary request (RFC 9110 §7.8: a server MAY ignore Upgrade).
 *
 * `WebSocketAttempt` is one state machine (dialling → awaiting the head → switched | declined body | answered), kept
 * in one file although the file runs past the usual budget (STYLE rule 10). It owns the client socket from the
 * hand-off and the origin socket from the dial until the tunnel takes both, or until it closes them.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionTracker, DownstreamConnection } from '../downstream/connections.js';
import { ProxyError, classifyUpstreamError } from '../errors/index.js';
import type { ErrorCode } from '../errors/index.js';
import type { Telemetry } from '../observability/events.js';
import { unpooledRecord } from '../observability/events.js';
import { hopByHopPass, isUpgradeRequest, stripHopByHop, vetResponseFraming } from '../policy/index.js';
import type { UpstreamTarget } from '../policy/index.js';
import { refuseAndClose } from '../tunnel/linger.js';
import type { TunnelCloseReason, TunnelMember, Tunnels } from '../tunnel/registry.js';
import { Tunnel } from '../tunnel/splice.js';
import type { Connector } from '../upstream/connector.js';
import type { ParentSet } from '../upstream/parents.js';
import { parentAuthorization, type ParentProxy } from '../policy/parent.js';
import type { RouteChooser } from './engine.js';
import { dialViaParent } from './parent-dial.js';
import { createResponseParser } from '../upstream/response-parser.js';
import type { ParsedHead, ResponseParseError, ResponseParser } from '../upstream/response-parser.js';
import type { RequestAdditions, TargetResolver } from './engine.js';
import { upstreamHeaders } from './engine.js';
import type { Refusal, RequestGate } from '../access/request-gate.js';
import { LAST_CHUNK, chunkHeader, endAndLinger, requestHead, responseHead, switchIssue } from './upgrade-wire.js';

export interface UpgradeDeps {
  readonly telemetry: Telemetry;
  readonly tracker: ConnectionTracker;
  readonly tunnels: Tunnels;
  readonly resolve: TargetResolver;
  readonly additions: RequestAdditions;
  /** The Via member added to the `101` (and to a declining response), e.g. `1.1 hopwise`. */
  readonly responseVia: string;
  /** The one connector: resolves, vets the address connected to, applies the connect timeout (→ 504). */
  readonly connector: Connector;
  /** Issue 13: direct, or through a parent with a CONNECT of our own (ws: counts as http, wss: as https). */
  readonly route: RouteChooser;
  readonly parents: ParentSet;
  /** upstream.responseTimeout: time from connect to the `101` or response head (→ 504), and the longest wait for a
   *  byte of a declined response's body (then the client connection is cut). */
  readonly responseTimeout: number;
  /** tunnel.idleTimeout for the upgraded connection; 0 disables. */
  readonly idleTimeout: number;
  /** The same checks as plain HTTP (issue 7): framing, auth, loops, destination. */
  readonly gate: RequestGate;
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

/** The policy's pass for a declined or interim response head: stripped, then this proxy's Via (SPEC §1.2, §1.4). */
function passResponse(raw: readonly string[], via: string): string[] {
  return hopByHopPass(raw, { direction: 'response', append: ['Via', via] }).headers;
}

/** One WebSocket handshake from the client's head to an established tunnel, a relayed answer, or an error. */
class WebSocketAttempt implements TunnelMember {
  readonly #deps: UpgradeDeps;
  readonly #req: IncomingMessage;
  readonly #client: Socket;
  readonly #conn: number;
  readonly #connReq: number;
  readonly #target: string;
  readonly #started = performance.now();
  readonly #abort = new AbortController();
  #origin: string | undefined;
  /** Issue 13: `direct`, or the parent that carried (or refused) the upgrade. */
  #route: string | undefined;
  #upstream: Socket | undefined;
  #parser: ResponseParser | undefined;
  #clientHead: Buffer = Buffer.alloc(0);
  #timer: NodeJS.Timeout | undefined;
  /** The 101 being switched to, between its head and the end of the `execute` that found it. */
  #switching: ParsedHead | undefined;
  /** A declined response being relayed: its status, whether re-chunked, body bytes written. */
  #declined: { status: number; chunked: boolean; bytes: number } | undefined;
  #answered = false;
  #over = false;

  constructor(deps: UpgradeDeps, req: IncomingMessage, client: Socket, conn: number, connReq: number) {
    this.#deps = deps;
    this.#req = req;
    this.#client = client;
    this.#conn = conn;
    this.#connReq = connReq;
    this.#target = req.url ?? '';
  }

  destroy(_reason: TunnelCloseReason): void {
    this.#close();
    this.#client.destroy();
  }

  refuse(err: ProxyError, extra: readonly string[] = []): void {
    this.#record(err.status, err, refuseAndClose(this.#deps.tunnels, this.#client, err, extra));
  }

  start(target: UpstreamTarget, head: Buffer): void {
    const deps = this.#deps;
    this.#origin = target.origin;
    this.#clientHead = head;
    const fields = deps.additions(this.#req, upstreamHeaders(this.#req.rawHeaders, target.host, true));
    const request = requestHead(target.path, fields);
    deps.tunnels.add(this);
    this.#client.on('error', () => undefined);
    this.#client.once('close', this.#onClientClose);
    const dialTarget = { origin: target.origin, secure: target.protocol === 'https:', hostname: target.hostname, port: target.port };
    // Half-open allowed, as for CONNECT: after the switch a FIN from one side is passed on as a half-close (SPEC §6.1);
    // through a parent too, whose tunnel of our own is the socket the relay splices.
    const halfOpen = { allowHalfOpen: true } as const;
    const route = deps.route(target.hostname, target.port, dialTarget.secure ? 'https' : 'http');
    let dialing: Promise<Socket>;
    if (route.kind === 'direct') {
      this.#route = 'direct';
      dialing = deps.connector.dial(dialTarget, this.#abort.signal, halfOpen).then((dialed) => dialed.socket);
    } else {
      const order = deps.parents.order(route.parents);
      this.#route = order[0]?.key;
      const auth = (p: ParentProxy): string | undefined => parentAuthorization(p, this.#req.rawHeaders)[0];
      dialing = dialViaParent(deps.parents, order, dialTarget, auth, this.#abort.signal, halfOpen).then(({ socket, parent }) => {
        this.#route = parent.key;
        return socket;
      });
    }
    dialing.then(
      (socket) => this.#connected(socket, request),
      (err: unknown) => {
        if (route.kind === 'parent' && err instanceof ProxyError && err.origin !== undefined) this.#route = err.origin;
        this.#fail(classifyUpstreamError(err, { origin: target.origin, phase: 'connect', responseStarted: false }));
      },
    );
  }

  /** Dialled and vetted: from here this attempt owns the origin socket (STYLE rule 2) until the tunnel takes it. */
  #connected(upstream: Socket, request: Buffer): void {
    if (this.#over) {
      upstream.destroy();
      return;
    }
    this.#upstream = upstream;
    this.#parser = createResponseParser({
      onHead: (head) => this.#onHead(head),
      onBody: (chunk) => this.#onBody(chunk),
      onComplete: () => this.#onComplete(),
    });
    this.#parser.expect('GET');
    upstream.on('data', this.#onData);
    upstream.on('end', this.#onEnd);
    upstream.on('error', this.#onUpstreamError);
    upstream.on('close', this.#onUpstreamClose);
    upstream.write(request);
    this.#arm('UPSTREAM_RESPONSE_TIMEOUT', 'no 101 or response head in time');
  }

  readonly #onData = (chunk: Buffer): void => {
    const parser = this.#parser!;
    const consumed = parser.execute(chunk);
    if (typeof consumed !== 'number') {
      this.#badResponse(consumed);
      return;
    }
    const head = this.#switching;
    if (head !== undefined && !this.#over) this.#switch(head, chunk.subarray(consumed));
  };

  #onHead(head: ParsedHead): void {
    if (this.#over) return;
    if (head.statusCode === 101) {
      this.#switching = head;
      return;
    }
    const via = this.#deps.responseVia;
    if (head.statusCode < 200) {
      this.#client.write(responseHead(head.statusCode, head.statusText, passResponse(head.rawHeaders, via)));
      return;
    }
    // A declined upgrade is an ordinary response: the same framing verdict as the forwarding path.
    const raw = vetResponseFraming(head.rawHeaders);
    if (typeof raw === 'string') {
      this.#fail(this.#upstreamError('UPSTREAM_BAD_RESPONSE', `invalid response (${raw})`, 'response-head'));
      return;
    }
    const fields = passResponse(raw, via);
    // The pass removed Transfer-Encoding; the only one that passes the framing check is `chunked`, re-applied here.
    const chunked = raw.some((v, i) => i % 2 === 0 && v.toLowerCase() === 'transfer-encoding');
    if (chunked) fields.push('Transfer-Encoding', 'chunked');
    fields.push('Connection', 'close');
    this.#declined = { status: head.statusCode, chunked, bytes: 0 };
    this.#client.write(responseHead(head.statusCode, head.statusText, fields));
    this.#arm('UPSTREAM_BODY_TIMEOUT', 'declined response body stalled');
  }

  #onBody(chunk: Buffer): void {
    const d = this.#declined;
    if (d === undefined || this.#over) return;
    this.#timer?.refresh();
    d.bytes += chunk.length;
    const client = this.#client;
    // The chunk may be a view into the origin socket's read, which is never reused: written without a copy.
    let flushed: boolean;
    if (d.chunked) {
      client.cork();
      client.write(chunkHeader(chunk.length));
      client.write(chunk);
      flushed = client.write('\r\n');
      client.uncork();
    } else {
      flushed = client.write(chunk);
    }
    if (!flushed) {
      this.#upstream!.pause();
      client.once('drain', () => this.#upstream?.resume());
    }
  }

  /** A declined response is complete: end the client connection (it was `Connection: close`) and the origin's. */
  #onComplete(): void {
    const d = this.#declined;
    if (d === undefined || this.#over) return;
    if (d.chunked) this.#client.write(LAST_CHUNK);
    this.#record(d.status, undefined, d.bytes);
    this.#close();
    this.#client.off('close', this.#onClientClose);
    endAndLinger(this.#deps.tunnels, this.#client);
  }

  /** The 101: relayed stripped (upgrade pair kept) with Via, then the tunnel owns and splices both sockets. */
  #switch(head: ParsedHead, rest: Buffer): void {
    const issue = switchIssue(this.#req.rawHeaders, head.rawHeaders);
    if (issue !== undefined) {
      this.#fail(this.#upstreamError('UPSTREAM_BAD_RESPONSE', issue, 'response-head'));
      return;
    }
    const upstream = this.#upstream!;
    const client = this.#client;
    const fields = stripHopByHop(head.rawHeaders, { direction: 'response', upgrade: true });
    fields.push('Via', this.#deps.responseVia);
    this.#over = true;
    clearTimeout(this.#timer);
    upstream.pause();
    upstream.off('data', this.#onData);
    upstream.off('end', this.#onEnd);
    upstream.off('error', this.#onUpstreamError);
    upstream.off('close', this.#onUpstreamClose);
    client.off('close', this.#onClientClose);
    this.#parser!.destroy();
    this.#deps.tunnels.delete(this);
    this.#record(101, undefined);
    client.write(responseHead(101, head.statusText, fields));
    const opts = { kind: 'upgrade', conn: this.#conn, target: this.#target, idleTimeout: this.#deps.idleTimeout } as const;
    new Tunnel(this.#deps, client, upstream, { ...opts, splice: true, head: this.#clientHead, originHead: rest });
  }

  /** The origin closed its side: completes a close-delimited body; anything else in progress was cut short. */
  readonly #onEnd = (): void => {
    if (this.#over) return;
    const err = this.#parser!.finish();
    if (this.#over) return;
    if (err !== undefined) this.#badResponse(err);
    else this.#fail(this.#upstreamError('UPSTREAM_RESET', 'closed the connection before a response', 'response-head'));
  };

  readonly #onUpstreamError = (err: Error): void => {
    if (this.#over) return;
    const started = this.#declined !== undefined;
    this.#fail(classifyUpstreamError(err, { origin: this.#origin ?? this.#target, phase: started ? 'response-body' : 'response-head', responseStarted: started }));
  };

  readonly #onUpstreamClose = (): void => {
    if (!this.#over) this.#onEnd();
  };

  #badResponse(err: ResponseParseError): void {
    const started = this.#declined !== undefined;
    const code: ErrorCode = started ? 'UPSTREAM_TRUNCATED' : 'UPSTREAM_BAD_RESPONSE';
    const what = err.code === 'HPE_INVALID_EOF_STATE' ? 'response cut short' : `invalid response (${err.code})`;
    this.#fail(this.#upstreamError(code, what, started ? 'response-body' : 'response-head'));
  }

  #upstreamError(code: ErrorCode, what: string, phase: 'response-head' | 'response-body'): ProxyError {
    const origin = this.#origin ?? this.#target;
    return new ProxyError(code, `${origin}: ${what}`, { leg: 'upstream', phase, origin });
  }

  /**
   * Every failure: before any byte of a final response the client is answered from the one table (502/504) and the
   * connection closes; after one (a declined body) the client connection is cut, so the truncation shows.
   */
  #fail(err: ProxyError): void {
    if (this.#over) return;
    const declined = this.#declined;
    this.#close();
    this.#client.off('close', this.#onClientClose);
    // Upstream failures count per origin; a refusal by the access rules at dial time is not the origin's error.
    if (err.leg === 'upstream') this.#deps.telemetry.emit({ type: 'upstream.error', origin: this.#origin ?? this.#target, code: err.code });
    if (declined !== undefined) {
      this.#record(declined.status, err, declined.bytes);
      this.#client.destroy();
      return;
    }
    if (this.#client.destroyed) {
      this.#record(499, err);
      return;
    }
    this.#record(err.status, err, refuseAndClose(this.#deps.tunnels, this.#client, err));
  }

  readonly #onClientClose = (): void => {
    if (this.#over) return;
    this.#close();
    const gone = new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'response-head' });
    this.#record(this.#declined?.status ?? 499, gone, this.#declined?.bytes ?? 0);
  };

  /** Release everything this attempt still owns on the origin side; the caller settles the client socket. */
  #close(): void {
    this.#over = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    this.#parser?.destroy();
    this.#upstream?.destroy();
    this.#deps.tunnels.delete(this);
  }

  /** One timer per phase, owned here (STYLE rule 4): the head, then each byte of a declined body. */
  #arm(code: ErrorCode, what: string): void {
    clearTimeout(this.#timer);
    const ms = this.#deps.responseTimeout;
    if (ms <= 0) return;
    const phase = code === 'UPSTREAM_BODY_TIMEOUT' ? 'response-body' : 'response-head';
    this.#timer = setTimeout(() => this.#fail(this.#upstreamError(code, `${what} (${ms} ms)`, phase)), ms);
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
        route: this.#route,
      }),
    });
  }
}
