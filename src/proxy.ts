/**
 * Composition: wires the downstream server, the forwarding engine, the upstream pools, telemetry, stats, logs and the
 * admin listener into one proxy with `listen`, `close` (graceful, SPEC §10.1), `destroy` and `stats`.
 */
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.js';
import { ConnectionTracker } from './downstream/connections.js';
import { createDownstreamServer } from './downstream/server.js';
import { ForwardEngine } from './forward/engine.js';
import type { RequestAdditions, TargetResolver } from './forward/engine.js';
import { createAdminServer } from './observability/admin.js';
import { Telemetry } from './observability/events.js';
import type { Logger } from './observability/logger.js';
import { silentLogger } from './observability/logger.js';
import { attachLogging } from './observability/log-events.js';
import { Stats } from './observability/stats.js';
import type { StatsSnapshot } from './observability/stats.js';
import { StatsSummary } from './observability/summary.js';
import { forwardTarget, gatewayTarget, viaValue } from './policy/index.js';
import { UpstreamPools } from './upstream/pools.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface ListenInfo {
  readonly proxy: Address;
  readonly admin: Address | undefined;
}

/** A running (or ready to run) hopwise instance. */
export interface Proxy {
  /** Bind the proxy (and admin) listeners; resolves with the bound addresses. */
  listen(): Promise<ListenInfo>;
  /** Graceful: stop accepting, finish in-flight exchanges with Connection: close, then close (SPEC §10.1). */
  close(): Promise<void>;
  /** Immediate: destroy every connection on both sides. */
  destroy(): Promise<void>;
  /** A fresh, frozen statistics snapshot (SPEC §8). */
  stats(): StatsSnapshot;
  /** The telemetry stream (subscribe for custom reporting). */
  readonly telemetry: Telemetry;
}

export interface ProxyOptions {
  readonly logger?: Logger;
}

function listenOn(server: http.Server, host: string, port: number): Promise<Address> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/**
 * Stop accepting first (SPEC §10.1), then let the tracker close idle connections. `http.Server.close()` does it the
 * other way round (it closes idle connections, then the listener), so a client whose idle connection was just closed
 * could reconnect into the still-open listener and be reset. Resolves when every connection is gone.
 */
function stopAccepting(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    // net.Server's close, not http.Server's: the listener only. Node's connection-checking interval is unref'd and
    // keeps enforcing headersTimeout on draining connections, which is what we want.
    net.Server.prototype.close.call(server, () => resolve());
  });
}

function resolverFor(config: Config): TargetResolver {
  if (config.mode === 'gateway') {
    const target = config.target;
    if (target === null) throw new Error('gateway mode needs a target');
    return (req) => gatewayTarget(req.url ?? '/', req.method ?? 'GET', target, req.headers.host, config.preserveHost);
  }
  return (req) => forwardTarget(req.url ?? '', req.method ?? 'GET');
}

/** Create a proxy for a validated config (forward or gateway mode). No sockets are opened until `listen()`. */
export function createProxy(config: Config, opts: ProxyOptions = {}): Proxy {
  if (config.mode !== 'forward' && config.mode !== 'gateway') {
    throw new Error(`createProxy: mode "${config.mode}" is a workshop mode; start it through the workshop module`);
  }
  const logger = opts.logger ?? silentLogger();
  const telemetry = new Telemetry();
  const stats = new Stats();
  telemetry.on((e) => stats.record(e));
  attachLogging(telemetry, logger, { access: config.log.access });
  const tracker = new ConnectionTracker(telemetry);
  const pools = new UpstreamPools(config.upstream, telemetry);
  const pseudonym = config.via.pseudonym;
  const engine = new ForwardEngine({
    telemetry,
    tracker,
    pools,
    retryStale: config.upstream.retryStale,
    responseVia: viaValue('1.1', pseudonym),
    resolve: resolverFor(config),
    additions: ((req) => ['Via', viaValue(req.httpVersion, pseudonym)]) satisfies RequestAdditions,
    maxRequestsPerConnection: config.downstream.maxRequestsPerConnection,
  });
  const server = createDownstreamServer(
    config.downstream,
    tracker,
    (req, res, conn) => engine.handle(req, res, conn),
    (conn, code, status) => logger.info('bad-request', { leg: 'downstream', conn: conn?.id, code, status }),
  );
  const admin = config.admin.enabled ? createAdminServer({ stats: () => stats.snapshot() }) : undefined;
  const summary = new StatsSummary(() => stats.snapshot(), logger, config.stats.interval);
  let listening = false;
  let closing: Promise<void> | undefined;

  const shutdown = async (graceful: boolean): Promise<void> => {
    const stopped = stopAccepting(server);
    tracker.startClosing();
    if (graceful) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, config.shutdown.drainTimeout);
      });
      await Promise.race([tracker.whenAllClosed(), deadline]);
      clearTimeout(timer);
    }
    tracker.destroyAll();
    await tracker.whenAllClosed();
    await stopped;
    await (graceful ? pools.close() : pools.destroy());
    if (admin !== undefined) {
      admin.closeAllConnections();
      await closeServer(admin);
    }
    // SPEC §8.3: always a summary at shutdown, after every connection is gone so it has the final numbers, and before
    // close()/destroy() resolve, so it is written before the caller closes the logger.
    if (listening) summary.finish();
    else summary.stop();
  };

  return {
    telemetry,
    async listen() {
      const proxyAddr = await listenOn(server, config.listen.host, config.listen.port);
      let adminAddr: Address | undefined;
      if (admin !== undefined) {
        const port = config.admin.port ?? (config.listen.port === 0 ? 0 : config.listen.port + 1);
        try {
          adminAddr = await listenOn(admin, config.admin.host, port);
        } catch (err) {
          await closeServer(server);
          throw err;
        }
      }
      listening = true;
      summary.start();
      return { proxy: proxyAddr, admin: adminAddr };
    },
    close() {
      closing ??= shutdown(true);
      return closing;
    },
    destroy() {
      closing ??= shutdown(false);
      return closing;
    },
    stats: () => stats.snapshot(),
  };
}
