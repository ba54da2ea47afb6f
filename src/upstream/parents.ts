/**
 * Parent proxies at run time (issue 13, SPEC §4.7): which parents are down, failover over a list, and the "dial via
 * parent" step for CONNECT tunnels and WebSocket upgrades — a `CONNECT host:port` of hopwise's own, sent to the parent
 * over a socket from the one connector, with hopwise's credentials for that hop.
 *
 * Failover: a parent whose connect fails or times out is marked down for `upstream.proxyRetryAfter` and the next one
 * of the list is tried (policy/proxy-route.ts `failoverOrder`); nothing was sent to it, so nothing is replayed. A
 * parent that connects but refuses (`407`, an error status) or answers garbage is not a connect failure: that answer
 * is the outcome, named after the parent (`PARENT_*` codes), and its own `Proxy-Authenticate` is never relayed.
 *
 * The socket a tunnel gets back is owned by the caller (STYLE rule 2); any bytes that followed the parent's `200` are
 * unshifted into it and it is left paused, so a tunnel's `pipe()` starts from the first byte.
 */
import type { Socket } from 'node:net';
import { ProxyError } from '../errors/index.js';
import type { Telemetry } from '../observability/events.js';
import type { ParentProxy } from '../policy/parent.js';
import { failoverOrder } from '../policy/proxy-route.js';
import type { Connector, DialOptions, Dialed } from './connector.js';

/** A connect failure: the parent is unusable for now, the next one may be tried (nothing was sent). */
const FAILOVER_CODES: ReadonlySet<string> = new Set(['UPSTREAM_REFUSED', 'UPSTREAM_DNS', 'UPSTREAM_CONNECT_TIMEOUT', 'UPSTREAM_RESET', 'UPSTREAM_TLS']);
/** Largest CONNECT response head accepted from a parent (Node's default max header size). */
const MAX_HEAD = 16 * 1024;

export interface ParentSetOptions {
  readonly connector: Connector;
  readonly telemetry: Telemetry;
  /** `upstream.proxyRetryAfter` (ms). */
  readonly retryAfter: number;
  /** Time allowed for a parent's answer to our CONNECT (`upstream.responseTimeout`); 0 disables. */
  readonly responseTimeout: number;
  readonly now?: () => number;
}

/** The dialled parent and its socket. */
export interface ParentDial {
  readonly parent: ParentProxy;
  readonly dialed: Dialed;
}

export class ParentSet {
  readonly #o: ParentSetOptions;
  readonly #downUntil = new Map<string, number>();

  constructor(opts: ParentSetOptions) {
    this.#o = opts;
  }

  /** The order in which to try `parents` now (down ones last). */
  order(parents: readonly ParentProxy[]): ParentProxy[] {
    return failoverOrder(parents, (k) => this.#downUntil.get(k), this.#now());
  }

  /** True when `err` is a connect failure that moves a request on to the next parent. */
  static isFailover(err: ProxyError): boolean {
    return FAILOVER_CODES.has(err.code);
  }

  /** Mark `parent` down after a connect failure; `next` is the parent tried instead, if any. */
  markDown(parent: ParentProxy, err: ProxyError, next: ParentProxy | undefined): void {
    this.#downUntil.set(parent.key, this.#now() + this.#o.retryAfter);
    this.#o.telemetry.emit({ type: 'parent.failover', parent: parent.key, code: err.code, next: next?.key });
  }

  /** Mark `parent` up again (a connect to it succeeded). */
  markUp(parent: ParentProxy): void {
    this.#downUntil.delete(parent.key);
  }

  /** Dial the first parent of the list that connects (failover on connect failures). */
  async dial(parents: readonly ParentProxy[], signal: AbortSignal | undefined, opts: DialOptions = {}): Promise<ParentDial> {
    const order = this.order(parents);
    for (let i = 0; ; i++) {
      const parent = order[i]!;
      try {
        const target = { origin: parent.key, secure: parent.secure, hostname: parent.hostname, port: parent.port };
        const dialed = await this.#o.connector.dial(target, signal, opts);
        this.markUp(parent);
        return { parent, dialed };
      } catch (err) {
        const perr = err as ProxyError;
        if (!(perr instanceof ProxyError) || !ParentSet.isFailover(perr)) throw err;
        // Tunnel dials do not report to pool statistics themselves; a parent's connect errors are counted anyway.
        if (opts.report === false) this.#o.telemetry.emit({ type: 'upstream.connect-error', origin: parent.key, code: perr.code });
        this.markDown(parent, perr, order[i + 1]);
        if (i + 1 >= order.length) throw named(perr, parent);
      }
    }
  }

  /**
   * A tunnel to `authority` (`host:port`) through the first reachable parent: dial, send our CONNECT with this hop's
   * credentials (`authorization` of the parent dialled), and read the parent's answer. Resolves once it said 2xx.
   */
  async tunnel(
    parents: readonly ParentProxy[],
    authority: string,
    authorization: (parent: ParentProxy) => string | undefined,
    signal: AbortSignal | undefined,
    opts: DialOptions = {},
  ): Promise<ParentDial> {
    const got = await this.dial(parents, signal, opts);
    const socket = got.dialed.socket;
    const value = authorization(got.parent);
    const auth = value === undefined ? '' : `Proxy-Authorization: ${value}\r\n`;
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${auth}\r\n`);
    try {
      await readConnectAnswer(socket, got.parent, authority, this.#o.responseTimeout, signal);
    } catch (err) {
      socket.destroy();
      throw err;
    }
    return got;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}

/** `err` as the answer about a parent (its message names the parent, which the connector already did by key). */
function named(err: ProxyError, parent: ParentProxy): ProxyError {
  return err.message.startsWith(parent.key) ? err : new ProxyError(err.code, `parent ${parent.key}: ${err.message}`, { leg: 'upstream', phase: 'connect', origin: parent.key, cause: err });
}

/**
 * Reads the parent's answer to our CONNECT: a status line and header fields up to the empty line (RFC 9112 §2.1).
 * 2xx: the bytes after the head are unshifted and the socket is left paused. Anything else is a ProxyError naming the
 * parent; garbage, a head over {@link MAX_HEAD}, a close or the timeout too.
 */
function readConnectAnswer(socket: Socket, parent: ParentProxy, authority: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const where = { leg: 'upstream', phase: 'response-head', origin: parent.key } as const;
    const done = (err: ProxyError | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buffered.length > MAX_HEAD) done(new ProxyError('UPSTREAM_BAD_RESPONSE', `parent ${parent.key}: CONNECT answer head over ${MAX_HEAD} bytes`, where));
        return;
      }
      const status = statusOf(buffered.subarray(0, end).toString('latin1'));
      if (status === undefined) {
        done(new ProxyError('UPSTREAM_BAD_RESPONSE', `parent ${parent.key}: invalid answer to CONNECT ${authority}`, where));
        return;
      }
      if (status >= 200 && status < 300) {
        socket.pause();
        const rest = buffered.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        done(undefined);
        return;
      }
      done(refusal(parent, authority, status));
    };
    const onClose = (): void => done(new ProxyError('UPSTREAM_RESET', `parent ${parent.key}: closed the connection before answering CONNECT ${authority}`, where));
    const onError = (err: Error): void => done(new ProxyError('UPSTREAM_RESET', `parent ${parent.key}: ${err.message}`, { ...where, cause: err }));
    const onAbort = (): void => done(new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'connect' }));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0) {
      timer = setTimeout(() => done(new ProxyError('UPSTREAM_RESPONSE_TIMEOUT', `parent ${parent.key}: no answer to CONNECT ${authority} in ${timeoutMs} ms`, where)), timeoutMs);
    }
  });
}

/** The status code of `HTTP/1.x NNN reason`, or undefined when the first line is not a status line. */
function statusOf(head: string): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?(?:\r\n|$)/.exec(head);
  return m === null ? undefined : Number(m[1]);
}

/** The parent's refusal as our answer: 407 → our credentials are wrong (502); 504 → 504; else 502. */
export function refusal(parent: ParentProxy, what: string, status: number): ProxyError {
  const where = { leg: 'upstream', phase: 'response-head', origin: parent.key } as const;
  if (status === 407) {
    const why = parent.auth.kind === 'none' ? 'it requires credentials (set them in its URL or upstream.proxyAuth)' : 'it did not accept the credentials';
    return new ProxyError('PARENT_AUTH_REQUIRED', `parent ${parent.key} answered 407 to ${what}: ${why}`, where);
  }
  if (status === 504) return new ProxyError('PARENT_TIMEOUT', `parent ${parent.key} answered 504 to ${what}`, where);
  return new ProxyError('PARENT_REFUSED', `parent ${parent.key} answered ${status} to ${what}`, where);
}
