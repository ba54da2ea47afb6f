/**
 * Per-origin upstream pools (SPEC §4.1): one {@link OriginPool} per pool key (`scheme://host:port`), independent of
 * any downstream connection, so sockets are reused across clients. Pools are kept in least-recently-used order and an
 * idle pool is evicted beyond `upstream.maxOrigins`. `upstream.origins` overrides `maxSockets`, `idleTimeout` and
 * `maxRequestsPerSocket` for single origins (a legacy next hop that mishandles persistent connections gets
 * `maxRequestsPerSocket: 1`, the rest keep pooling).
 *
 * The pool key and the dial target are separate parameters ({@link UpstreamPools.request}): a parent proxy's pool is
 * keyed by the parent and carries absolute-form targets; a direct pool by the origin with origin-form targets.
 */
import type { Config } from '../config/schema.js';
import type { Telemetry } from '../observability/events.js';
import { originKey } from '../policy/target.js';
import type { Connector, DialTarget } from './connector.js';
import type { OutgoingRequest, ResponseSink } from './connection.js';
import { OriginPool, type PoolSettings } from './origin-pool.js';

type UpstreamConfig = Config['upstream'];

/** The settings one origin's pool uses: the upstream defaults, or its `upstream.origins` entry where it has one. */
interface OriginLimits {
  readonly maxSockets: number;
  readonly idleTimeout: number;
  readonly maxRequestsPerSocket: number;
}

/** The dial target a pool key such as `http://host:port` names (IPv6 in brackets in the key, not in the hostname). */
export function dialTargetOf(key: string): DialTarget {
  const u = new URL(key);
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  const hostname = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  return { origin: key, secure, hostname, port };
}

/** Owns one pool per origin and, through them, every pooled upstream socket. `close()` is graceful, `destroy()` immediate. */
export class UpstreamPools {
  readonly #cfg: UpstreamConfig;
  readonly #telemetry: Telemetry;
  readonly #connector: Connector;
  readonly #pools = new Map<string, OriginPool>();
  /** The most recently used pool: the last one in Map (LRU) order. */
  #newest: OriginPool | undefined;
  #closing = false;
  readonly #defaults: OriginLimits;
  /** `upstream.origins`, by pool key (`scheme://host:port`, as requests are keyed: policy/target.ts `originKey`). */
  readonly #perOrigin = new Map<string, OriginLimits>();

  constructor(cfg: UpstreamConfig, telemetry: Telemetry, connector: Connector) {
    this.#cfg = cfg;
    this.#telemetry = telemetry;
    this.#connector = connector;
    this.#defaults = { maxSockets: cfg.maxSockets, idleTimeout: cfg.idleTimeout, maxRequestsPerSocket: cfg.maxRequestsPerSocket };
    for (const o of cfg.origins) {
      // Validated at load (config/validate.ts): every entry has a key and no key appears twice.
      const key = originKey(o.origin);
      if (key === undefined) throw new Error(`upstream.origins: not an origin URL: ${JSON.stringify(o.origin)}`);
      this.#perOrigin.set(key, {
        maxSockets: o.maxSockets ?? cfg.maxSockets,
        idleTimeout: o.idleTimeout ?? cfg.idleTimeout,
        maxRequestsPerSocket: o.maxRequestsPerSocket ?? cfg.maxRequestsPerSocket,
      });
    }
  }

  /**
   * Send `req` through the pool for `key` (created on first use; least-recently-used idle pools are evicted). `fresh`
   * sends it on a brand-new one-shot connection (the stale retry, SPEC §4.3). `dial` defaults to what `key` names.
   */
  request(key: string, req: OutgoingRequest, sink: ResponseSink, fresh = false, dial?: DialTarget): void {
    const pool = this.#pool(key, dial);
    if (fresh) pool.requestFresh(req, sink);
    else pool.request(req, sink);
  }

  /** Withdraw a request still waiting for a socket (its client went away). */
  cancel(key: string, sink: ResponseSink): void {
    this.#pools.get(key)?.cancel(sink);
  }

  /** Number of origins with a pool. */
  get size(): number {
    return this.#pools.size;
  }

  /** Graceful: let in-flight requests finish, then close every socket. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#pools.values()].map((p) => p.close('shutdown', false)));
    this.#pools.clear();
  }

  /** Immediate: abort in-flight requests and destroy every socket. */
  async destroy(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#pools.values()].map((p) => p.close('shutdown', true)));
    this.#pools.clear();
  }

  #pool(key: string, dial: DialTarget | undefined): OriginPool {
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      this.#evictIfFull();
      pool = new OriginPool(this.#settings(key), dial ?? dialTargetOf(key), this.#connector, this.#closing);
      this.#pools.set(key, pool);
    } else if (pool !== this.#newest) {
      // Map order is the LRU order: re-insert on use (not needed when it is already the most recent: issue 8).
      this.#pools.delete(key);
      this.#pools.set(key, pool);
    }
    this.#newest = pool;
    return pool;
  }

  #settings(key: string): PoolSettings {
    const c = this.#cfg;
    const l = this.#perOrigin.size === 0 ? this.#defaults : (this.#perOrigin.get(key) ?? this.#defaults);
    return {
      origin: key,
      telemetry: this.#telemetry,
      maxSockets: l.maxSockets,
      limits: { maxRequests: l.maxRequestsPerSocket, idleTimeout: Math.max(1, l.idleTimeout) },
      timeouts: { response: c.responseTimeout, body: c.bodyTimeout, hintMargin: c.keepAliveHintMargin },
      queueTimeout: c.queueTimeout,
    };
  }

  #evictIfFull(): void {
    if (this.#pools.size < this.#cfg.maxOrigins) return;
    for (const [key, pool] of this.#pools) {
      if (pool.quiet) {
        this.#pools.delete(key);
        if (this.#newest === pool) this.#newest = undefined;
        void pool.close('evicted', false);
        return;
      }
    }
    // Every pool is busy: keep them all (a soft cap) rather than abort in-flight work.
  }
}
