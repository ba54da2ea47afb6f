/**
 * The forwarding engine for plain HTTP (SPEC §1, §2, §4): resolves the target, applies Max-Forwards, builds the
 * upstream head with the hop-by-hop policy (stripping first, proxy headers after — SPEC §1.2), and runs one Exchange.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { DownstreamConnection } from '../downstream/connections.js';
import { ProxyError } from '../errors/index.js';
import type { TargetResult } from '../policy/index.js';
import { applyMaxForwards, hopByHopPass } from '../policy/index.js';
import type { ExchangeDeps } from './exchange.js';
import { Exchange, responsePass } from './exchange.js';
import { limitBody } from './body-limit.js';
import type { Refusal, RequestGate } from '../access/request-gate.js';
import { answerMaxForwards } from './respond.js';

/** Maps a downstream request to its upstream target (forward: absolute-form; gateway: the fixed target). */
export type TargetResolver = (req: IncomingMessage) => TargetResult;

/**
 * Completes the upstream head with the proxy's own fields (Via, optional X-Forwarded-* / Forwarded): it receives the
 * stripped end-to-end headers and returns the head to send, so the additions come after stripping (SPEC §1.2) and
 * may extend a list the client started (X-Forwarded-For).
 */
export type RequestAdditions = (req: IncomingMessage, stripped: string[]) => string[];

export interface EngineDeps extends ExchangeDeps {
  readonly resolve: TargetResolver;
  readonly additions: RequestAdditions;
  readonly maxRequestsPerConnection: number;
  /** Issue 7: framing, proxy auth, loops, destination access, declared body size (request-gate.ts). */
  readonly gate: RequestGate;
  /** `downstream.maxBodySize` for bodies without a declared length; 0 = unlimited. */
  readonly maxBodySize: number;
}

const CLOSE_TOKEN = /(?:^|,)\s*close\s*(?:,|$)/i;

export class ForwardEngine {
  readonly #deps: EngineDeps;

  constructor(deps: EngineDeps) {
    this.#deps = { ...deps, responsePass: responsePass(deps.responseVia) };
  }

  /** Handle one downstream request (http.Server 'request'). */
  handle(req: IncomingMessage, res: ServerResponse, conn: DownstreamConnection): void {
    const deps = this.#deps;
    const connReq = deps.tracker.beginRequest(conn);
    this.#noteDownstreamPolicy(req, res, conn, connReq);
    // SPEC §10.1: a request that arrives while draining is answered, with Connection: close (whichever path answers).
    if (deps.tracker.lastResponse(conn, connReq)) res.shouldKeepAlive = false;
    const exchange = new Exchange(deps, req, res, conn, connReq);
    const resolved = deps.resolve(req);
    // Issue 7: refusals come first (framing, auth, loops, access, size); async only while scrypt runs.
    const refusal = deps.gate(req, conn, resolved.ok ? resolved.target : undefined);
    if (refusal instanceof Promise) {
      void refusal.then((r) => {
        if (!exchange.clientGone) this.#proceed(req, res, conn, exchange, resolved, r);
      });
    } else {
      this.#proceed(req, res, conn, exchange, resolved, refusal);
    }
  }

  #proceed(
    req: IncomingMessage,
    res: ServerResponse,
    conn: DownstreamConnection,
    exchange: Exchange,
    resolved: TargetResult,
    refusal: Refusal | undefined,
  ): void {
    if (refusal !== undefined) {
      this.#refuse(req, res, conn, exchange, refusal);
      return;
    }
    const method = req.method ?? 'GET';
    if (!resolved.ok) {
      exchange.reject(new ProxyError('BAD_REQUEST_TARGET', resolved.reason, { leg: 'downstream', phase: 'target' }));
      return;
    }
    // Max-Forwards applies to OPTIONS and TRACE only (RFC 9110 §7.6.2): other requests skip the policy's copy.
    let head: readonly string[] = req.rawHeaders;
    if (method === 'OPTIONS' || method === 'TRACE') {
      const mf = applyMaxForwards(method, head);
      if (mf.action === 'answer') {
        exchange.answer(200, () => answerMaxForwards(req, res));
        return;
      }
      head = mf.headers;
    }
    const target = resolved.target;
    exchange.start({
      origin: target.origin,
      path: target.path,
      method,
      headers: this.#deps.additions(req, upstreamHeaders(head, target.host)),
      body: hasBody(req) ? this.#body(req, res, conn) : null,
    });
  }

  /**
   * Answer a refusal. Broken framing, an oversized body, or any unread body closes the connection after the answer:
   * reading on would mean parsing bytes whose framing is in doubt, or draining what we just refused.
   */
  #refuse(req: IncomingMessage, res: ServerResponse, conn: DownstreamConnection, exchange: Exchange, refusal: Refusal): void {
    const status = refusal.error.status;
    // 431: Node dropped fields past the limit (one of them may have been a Content-Length), so the framing is in doubt.
    const framing = status === 400 || status === 413 || status === 431 || status === 501 || status === 505;
    if (framing || hasBody(req)) {
      res.shouldKeepAlive = false;
      this.#deps.tracker.note(conn, framing ? 'bad-request' : 'access-denied');
    }
    exchange.reject(refusal.error, refusal.headers);
  }

  /** The upstream body: the request itself, or counted against `downstream.maxBodySize` when its length is unknown. */
  #body(req: IncomingMessage, res: ServerResponse, conn: DownstreamConnection): IncomingMessage | Readable {
    const max = this.#deps.maxBodySize;
    if (max === 0 || req.headers['content-length'] !== undefined) return req;
    return limitBody(req, max, () => {
      res.shouldKeepAlive = false;
      this.#deps.tracker.note(conn, 'bad-request');
    });
  }

  /** Downstream keep-alive policy decisions that must be made before any response head (SPEC §3.1, §3.2). */
  #noteDownstreamPolicy(req: IncomingMessage, res: ServerResponse, conn: DownstreamConnection, connReq: number): void {
    const tracker = this.#deps.tracker;
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) {
      // RFC 9112 §9.3: a proxy MUST NOT keep a persistent connection with an HTTP/1.0 client.
      res.shouldKeepAlive = false;
      tracker.note(conn, 'http1.0');
    }
    const c = req.headers.connection;
    if (c !== undefined && CLOSE_TOKEN.test(c)) tracker.note(conn, 'client-asked');
    const max = this.#deps.maxRequestsPerConnection;
    if (max > 0 && connReq >= max) {
      // Node's server announces Connection: close at maxRequestsPerSocket but leaves the socket open (it only sets
      // `_last` when shouldKeepAlive is false), so the policy is enforced here.
      res.shouldKeepAlive = false;
      tracker.note(conn, 'max-requests');
    }
  }
}

/** A request has a body when it declares one (RFC 9112 §6.3): Transfer-Encoding, or a non-zero Content-Length. */
function hasBody(req: IncomingMessage): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

/**
 * The upstream request head before the proxy's additions: Host (the URI's authority, SPEC §2.1), then the end-to-end
 * headers in their original order. `Expect` is answered by this hop (100-continue is sent by the downstream server
 * before the body is read) and so is not forwarded. `upgrade` keeps `Connection: Upgrade`
 * and `Upgrade` for a WebSocket handshake (SPEC §7.1).
 */
export function upstreamHeaders(raw: readonly string[], host: string, upgrade = false): string[] {
  // One pass: strip, drop the fields this hop owns, and put Host first (issue 8: no second copy of the head).
  return hopByHopPass(raw, { direction: 'request', upgrade, drop: PROXY_SET, prepend: ['host', host] }).headers;
}

/** Request fields this hop sets or answers itself, so the client's copies are not forwarded (see upstreamHeaders). */
const PROXY_SET: ReadonlySet<string> = new Set(['host', 'expect']);
