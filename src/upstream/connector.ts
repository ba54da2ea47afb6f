/**
 * The one connector (SPEC §4.8, §3.5): every upstream socket — plain HTTP exchanges, CONNECT tunnels, WebSocket
 * upgrades — is dialled here. It resolves the name (the lookup is injectable so a test can answer differently from the
 * access guard's pre-DNS check), vets the address actually connected to (DNS rebinding and numeric spellings cannot
 * slip past), sets TCP_NODELAY and SO_KEEPALIVE, enforces the connect timeout, speaks TLS to https origins (SNI,
 * ALPN `http/1.1`) and numbers the socket. The caller that receives a {@link Dialed} owns its socket (STYLE rule 2).
 */
import net from 'node:net';
import type { LookupFunction, Socket } from 'node:net';
import tls from 'node:tls';
import { ProxyError, classifyUpstreamError } from '../errors/index.js';
import type { Telemetry } from '../observability/events.js';

/**
 * Checks the address a new upstream socket actually connected to (issue 7: access rules, cloud-metadata and loop
 * protection that no DNS answer can dodge). Returns the error to fail the dial with, or undefined to use it.
 */
export type ConnectionVetter = (hostname: string, address: string | undefined, port: number) => Error | undefined;

export interface DialTarget {
  /** `scheme://host:port`, the pool key (telemetry). */
  readonly origin: string;
  readonly secure: boolean;
  /** A name or an IP literal, without brackets. */
  readonly hostname: string;
  readonly port: number;
}

export interface Dialed {
  /** A tls.TLSSocket when the target is secure. */
  readonly socket: Socket;
  /** Unique per proxy, one numbering for every upstream socket. */
  readonly id: number;
  /** The address actually connected to (vetted). */
  readonly address: string;
  readonly connectMs: number;
  /** When the dial's phases ended (`performance.now()`), for flow records (issue 14). */
  readonly phases: DialPhases;
}

/**
 * The phases of one dial: started, name resolved (= started for an IP literal, or when a lookup reports no event),
 * TCP connected, TLS done (= TCP for plain http).
 */
export interface DialPhases {
  readonly start: number;
  readonly dns: number;
  readonly tcp: number;
  readonly tls: number;
}

export interface ConnectorOptions {
  readonly telemetry: Telemetry;
  /** Milliseconds for TCP (and TLS) to complete; 0 disables. */
  readonly connectTimeout: number;
  readonly noDelay: boolean;
  readonly tcpKeepAlive: boolean;
  readonly tcpKeepAliveInitialDelay: number;
  readonly vet?: ConnectionVetter | undefined;
  /** Name resolution for the dial (dns.lookup's shape); tests inject one. */
  readonly lookup?: LookupFunction | undefined;
  /** TLS towards https origins: extra trusted CAs, and whether certificates are verified (default true). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[] | undefined;
  readonly rejectUnauthorized?: boolean | undefined;
}

/** Per-dial variations: the tunnel's own timeout, half-open sockets and its reused read buffer. */
export interface DialOptions {
  readonly connectTimeout?: number;
  readonly allowHalfOpen?: boolean;
  readonly onread?: net.OnReadOpts;
  /** Emit `upstream.connect-error` on failure (default true; tunnels have no pool statistics to feed). */
  readonly report?: boolean;
}

export class Connector {
  readonly #o: ConnectorOptions;
  #nextId = 1;

  constructor(opts: ConnectorOptions) {
    this.#o = opts;
  }

  /** Rejects with a ProxyError: refused/DNS/TLS → 502 codes, timeout → 504, denied by access rules → its code. */
  dial(target: DialTarget, signal?: AbortSignal, opts: DialOptions = {}): Promise<Dialed> {
    return new Promise<Dialed>((resolve, reject) => new Dial(this, target, signal, opts, resolve, reject).start());
  }

  get options(): ConnectorOptions {
    return this.#o;
  }

  /** The next socket id (shared numbering for every upstream socket of this proxy). */
  nextId(): number {
    return this.#nextId++;
  }
}

/** One dial from `connect()` to a vetted socket or a ProxyError. */
class Dial {
  readonly #c: Connector;
  readonly #t: DialTarget;
  readonly #signal: AbortSignal | undefined;
  readonly #opts: DialOptions;
  readonly #resolve: (d: Dialed) => void;
  readonly #reject: (e: ProxyError) => void;
  readonly #started = performance.now();
  #dnsAt = -1;
  #tcpAt = -1;
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #done = false;

  constructor(c: Connector, t: DialTarget, signal: AbortSignal | undefined, opts: DialOptions, resolve: (d: Dialed) => void, reject: (e: ProxyError) => void) {
    this.#c = c;
    this.#t = t;
    this.#signal = signal;
    this.#opts = opts;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const o = this.#c.options;
    const t = this.#t;
    if (this.#signal?.aborted === true) {
      this.#fail(this.#aborted(), false);
      return;
    }
    const tcp: net.NetConnectOpts = {
      host: t.hostname,
      port: t.port,
      noDelay: o.noDelay,
      keepAlive: o.tcpKeepAlive,
      keepAliveInitialDelay: o.tcpKeepAliveInitialDelay,
      ...(o.lookup === undefined ? {} : { lookup: o.lookup }),
      ...(this.#opts.allowHalfOpen === true ? { allowHalfOpen: true } : {}),
      ...(this.#opts.onread === undefined ? {} : { onread: this.#opts.onread }),
    };
    const socket = t.secure
      ? tls.connect({
          ...tcp,
          servername: net.isIP(t.hostname) === 0 ? t.hostname : undefined,
          ALPNProtocols: ['http/1.1'],
          rejectUnauthorized: o.rejectUnauthorized ?? true,
          ...(o.ca === undefined ? {} : { ca: o.ca as string | Buffer | (string | Buffer)[] }),
        })
      : net.connect(tcp);
    this.#socket = socket;
    socket.once('error', this.#onError);
    socket.once(t.secure ? 'secureConnect' : 'connect', this.#onConnect);
    // Phase stamps for flow records: one listener each per dial, none per request.
    socket.once('lookup', () => (this.#dnsAt = performance.now()));
    if (t.secure) socket.once('connect', () => (this.#tcpAt = performance.now()));
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
    const ms = this.#opts.connectTimeout ?? o.connectTimeout;
    if (ms > 0) this.#timer = setTimeout(this.#onTimeout, ms);
  }

  readonly #onConnect = (): void => {
    const socket = this.#socket!;
    const t = this.#t;
    const address = socket.remoteAddress;
    const refused = this.#c.options.vet?.(t.hostname, address, t.port);
    if (refused !== undefined) {
      const err = refused instanceof ProxyError ? refused : classifyUpstreamError(refused, this.#where());
      this.#fail(err, true, (refused as { code?: string }).code ?? refused.name);
      return;
    }
    this.#settle();
    const c = this.#c;
    const now = performance.now();
    const tcp = this.#tcpAt < 0 ? now : this.#tcpAt;
    const phases = { start: this.#started, dns: this.#dnsAt < 0 ? this.#started : this.#dnsAt, tcp, tls: now };
    this.#resolve({ socket, id: c.nextId(), address: address ?? t.hostname, connectMs: now - this.#started, phases });
  };

  readonly #onError = (err: Error): void => {
    this.#fail(classifyUpstreamError(err, this.#where()), true, (err as { code?: string }).code ?? err.name);
  };

  readonly #onTimeout = (): void => {
    const ms = this.#opts.connectTimeout ?? this.#c.options.connectTimeout;
    const t = this.#t;
    const where = { leg: 'upstream', phase: 'connect', origin: t.origin } as const;
    this.#fail(new ProxyError('UPSTREAM_CONNECT_TIMEOUT', `${t.origin}: connect timed out after ${ms} ms`, where), true, 'UPSTREAM_CONNECT_TIMEOUT');
  };

  readonly #onAbort = (): void => {
    this.#fail(this.#aborted(), false);
  };

  #aborted(): ProxyError {
    return new ProxyError('CLIENT_ABORTED', 'client went away', { leg: 'downstream', phase: 'connect' });
  }

  #where(): { origin: string; phase: 'connect'; responseStarted: false } {
    return { origin: this.#t.origin, phase: 'connect', responseStarted: false };
  }

  #settle(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const socket = this.#socket;
    if (socket !== undefined) {
      socket.off('error', this.#onError);
      socket.off('connect', this.#onConnect);
      socket.off('secureConnect', this.#onConnect);
    }
  }

  #fail(err: ProxyError, emit: boolean, lowCode?: string): void {
    if (this.#done) return;
    this.#settle();
    // A late 'error' from the destroyed socket must not be unhandled.
    this.#socket?.on('error', noop).destroy();
    if (emit && this.#opts.report !== false) {
      this.#c.options.telemetry.emit({ type: 'upstream.connect-error', origin: this.#t.origin, code: lowCode ?? err.code });
    }
    this.#reject(err);
  }
}

function noop(): void {}
