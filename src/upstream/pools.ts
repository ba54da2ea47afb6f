/**
 * Per-origin upstream pools (SPEC §4.1): one undici Pool per `scheme://host:port`, independent of any downstream
 * connection, so sockets are reused across clients. This module owns every upstream socket (STYLE rule 2): it creates
 * them through its connector, tags them with ids, and reports their opening and closing as telemetry.
 *
 * Keep-alive hints (SPEC §4.2) are undici's: `keepAliveTimeoutThreshold` (our `keepAliveHintMargin`) is subtracted
 * from an origin's `Keep-Alive: timeout=N`, capped by `keepAliveMaxTimeout` (our `idleTimeout`), so a socket is retired
 * before the origin would close it, and never kept longer than our own idle timeout.
 *
 * `upstream.origins` overrides `maxSockets`, `idleTimeout` and `maxRequestsPerSocket` for single origins (a legacy
 * next hop that mishandles persistent connections gets `maxRequestsPerSocket: 1`, the rest keep pooling).
 */
import { Client, Pool } from 'undici';
import type { buildConnector } from 'undici';
import type { Dispatcher } from 'undici';
import type { Config } from '../config/schema.js';
import type { Telemetry } from '../observability/events.js';
import { originKey } from '../policy/target.js';
import type { Connector } from './connector.js';
import { UpstreamSocket, closeReason, tagSocket } from './sockets.js';

type UpstreamConfig = Config['upstream'];


/** The settings one origin's pool uses: the upstream defaults, or its `upstream.origins` entry where it has one. */
interface OriginLimits {
  readonly maxSockets: number;
  readonly idleTimeout: number;
  readonly maxRequestsPerSocket: number;
}

interface PoolEntry {
  readonly pool: Pool;
  readonly sockets: Set<UpstreamSocket>;
}

/** Owns one Pool per origin and every socket in them. `close()` is graceful, `destroy()` immediate. */
export class UpstreamPools {
  readonly #cfg: UpstreamConfig;
  readonly #telemetry: Telemetry;
  readonly #pools = new Map<string, PoolEntry>();
  readonly #dialer: Connector;
  /** The most recently used entry: the last one in Map (LRU) order. */
  #newest: PoolEntry | undefined;
  #closing = false;
  readonly #defaults: OriginLimits;
  /** `upstream.origins`, by pool key (`scheme://host:port`, as requests are keyed: policy/target.ts `originKey`). */
  readonly #perOrigin = new Map<string, OriginLimits>();

  constructor(cfg: UpstreamConfig, telemetry: Telemetry, connector: Connector) {
    this.#cfg = cfg;
    this.#telemetry = telemetry;
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
    this.#dialer = connector;
  }

  /**
   * True when every request to `origin` must close its socket (its `maxRequestsPerSocket` is 1, e.g. a legacy next
   * hop): the engine then dispatches with `reset: true`.
   */
  resetsEachRequest(origin: string): boolean {
    return this.#limits(origin).maxRequestsPerSocket === 1;
  }

  /** The dispatcher for an origin, created on first use (least-recently-used idle pools are evicted). */
  get(origin: string): Dispatcher {
    let entry = this.#pools.get(origin);
    if (entry === undefined) {
      this.#evictIfFull();
      entry = this.#createEntry(origin);
      this.#pools.set(origin, entry);
    } else if (entry !== this.#newest) {
      // Map order is the LRU order: re-insert on use (not needed when it is already the most recent: issue 8).
      this.#pools.delete(origin);
      this.#pools.set(origin, entry);
    }
    this.#newest = entry;
    return entry.pool;
  }

  /**
   * A one-shot client on a guaranteed-new connection, for the single stale-socket retry (SPEC §4.3). Its socket is
   * counted like any other and the client closes itself after the exchange.
   */
  freshClient(origin: string): Client {
    const sockets = new Set<UpstreamSocket>();
    return new Client(origin, { ...this.#clientOptions(origin), connect: this.#connector(origin, sockets) });
  }

  /** Number of origins with a pool. */
  get size(): number {
    return this.#pools.size;
  }

  /** Graceful: let in-flight requests finish, then close every socket. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#pools.values()].map((e) => this.#retire(e, 'shutdown', false)));
    this.#pools.clear();
  }

  /** Immediate: abort in-flight requests and destroy every socket. */
  async destroy(): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#pools.values()].map((e) => this.#retire(e, 'shutdown', true)));
    this.#pools.clear();
  }

  #limits(origin: string): OriginLimits {
    return this.#perOrigin.size === 0 ? this.#defaults : (this.#perOrigin.get(origin) ?? this.#defaults);
  }

  #clientOptions(origin: string): Pool.Options {
    const c = this.#cfg;
    const l = this.#limits(origin);
    return {
      pipelining: 1,
      keepAliveTimeout: Math.max(1, l.idleTimeout),
      keepAliveMaxTimeout: Math.max(1, l.idleTimeout),
      keepAliveTimeoutThreshold: c.keepAliveHintMargin,
      headersTimeout: c.responseTimeout,
      bodyTimeout: c.bodyTimeout,
      strictContentLength: true,
      // undici lets maxRequestsPerClient + 1 requests through (it marks the socket for reset when its counter, read
      // before incrementing, reaches the limit), so N requests per socket is N - 1 here; N = 1 is `resetsEachRequest`.
      ...(l.maxRequestsPerSocket > 1 ? { maxRequestsPerClient: l.maxRequestsPerSocket - 1 } : {}),
    };
  }

  #createEntry(origin: string): PoolEntry {
    const sockets = new Set<UpstreamSocket>();
    const pool = new Pool(origin, {
      ...this.#clientOptions(origin),
      connections: this.#limits(origin).maxSockets,
      connect: this.#connector(origin, sockets),
    });
    return { pool, sockets };
  }

  #connector(origin: string, sockets: Set<UpstreamSocket>): buildConnector.connector {
    const l = this.#limits(origin);
    const limits = { maxRequests: l.maxRequestsPerSocket, idleTimeout: l.idleTimeout };
    return (opts, callback) => {
      const target = { origin, secure: opts.protocol === 'https:', hostname: opts.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(opts.port) };
      this.#dialer.dial(target).then(
        ({ socket, id, connectMs }) => {
          const record = new UpstreamSocket(id, origin);
          if (this.#closing) record.presetReason = 'shutdown';
          sockets.add(record);
          tagSocket(socket, record, (r) => {
            sockets.delete(r);
            const reason = closeReason(r, limits);
            this.#telemetry.emit({ type: 'upstream.close', origin, socket: r.id, reason, requests: r.requests });
          });
          this.#telemetry.emit({ type: 'upstream.open', origin, socket: record.id, connectMs });
          callback(null, socket);
        },
        (err: Error) => callback(err, null),
      );
    };
  }

  #evictIfFull(): void {
    if (this.#pools.size < this.#cfg.maxOrigins) return;
    for (const [origin, entry] of this.#pools) {
      const s = entry.pool.stats;
      if (s.running === 0 && s.pending === 0) {
        this.#pools.delete(origin);
        if (this.#newest === entry) this.#newest = undefined;
        void this.#retire(entry, 'evicted', false);
        return;
      }
    }
    // Every pool is busy: keep them all (a soft cap) rather than abort in-flight work.
  }

  async #retire(entry: PoolEntry, reason: 'shutdown' | 'evicted', force: boolean): Promise<void> {
    for (const s of entry.sockets) s.presetReason ??= reason;
    await (force ? entry.pool.destroy() : entry.pool.close()).catch(() => undefined);
  }
}
