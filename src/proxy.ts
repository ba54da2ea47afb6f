/**
 * Composition: wires the downstream server, the forwarding engine, the upstream pools, telemetry, stats, logs and the
 * admin listener into one proxy with `listen`, `close` (graceful, SPEC §10.1), `destroy` and `stats`.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.js';
import { ConnectionTracker } from './downstream/connections.js';
import { connectionLimits } from './downstream/admission.js';
import type { ConnectionAdmission } from './downstream/admission.js';
import { createDownstreamServer } from './downstream/server.js';
import { ForwardEngine } from './forward/engine.js';
import type { RequestAdditions, TargetResolver } from './forward/engine.js';
import { AccessGuard, newInstanceId } from './forward/guard.js';
import { requestGate } from './forward/request-gate.js';
import { createAdminServer } from './observability/admin.js';
import { Telemetry } from './observability/events.js';
import type { Logger } from './observability/logger.js';
import { silentLogger } from './observability/logger.js';
import { attachLogging } from './observability/log-events.js';
import { Stats } from './observability/stats.js';
import type { StatsSnapshot } from './observability/stats.js';
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
  /** This instance's id, the comment of its `Via` member (`1.1 hopwise (hw-3f9a1c)`): loop detection, SPEC §2.4. */
  readonly instanceId: string;
}

export interface ProxyOptions {
  readonly logger?: Logger;
  /** Fixed instance id (tests); a random `hw-xxxxxx` by default. */
  readonly instanceId?: string;
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
  const pseudonym = config.via.pseudonym;
  // Issue 7: access control, proxy auth, loop detection; destinations are checked in forward mode only.
  const instanceId = opts.instanceId ?? newInstanceId();
  const guard = new AccessGuard({ access: config.access, telemetry, pseudonym, instanceId, checkDestinations: config.mode === 'forward' });
  const pools = new UpstreamPools(config.upstream, telemetry, (host, address, port) => guard.vetConnection(host, address, port));
  const limits = connectionLimits(config.downstream, tracker, telemetry);
  const admit: ConnectionAdmission = (conn) =>
    guard.admitClient(conn) === undefined
      ? limits(conn)
      : { status: 403, reason: 'access-denied', message: `client ${conn.remoteAddress} is not allowed by access.clients` };
  const engine = new ForwardEngine({
    telemetry,
    tracker,
    pools,
    retryStale: config.upstream.retryStale,
    responseVia: viaValue('1.1', pseudonym),
    resolve: resolverFor(config),
    additions: ((req) => ['Via', viaValue(req.httpVersion, pseudonym, instanceId)]) satisfies RequestAdditions,
    maxRequestsPerConnection: config.downstream.maxRequestsPerConnection,
    gate: requestGate(guard, config.downstream.maxBodySize),
    maxBodySize: config.downstream.maxBodySize,
  });
  const server = createDownstreamServer(
    config.downstream,
    tracker,
    (req, res, conn) => engine.handle(req, res, conn),
    (conn, code, status) => logger.info('bad-request', { leg: 'downstream', conn: conn?.id, code, status }),
    admit,
  );
  const admin = config.admin.enabled ? createAdminServer({ stats: () => stats.snapshot() }) : undefined;
  let closing: Promise<void> | undefined;

  const shutdown = async (graceful: boolean): Promise<void> => {
    const stopped = closeServer(server);
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
  };

  return {
    telemetry,
    instanceId,
    async listen() {
      const proxyAddr = await listenOn(server, config.listen.host, config.listen.port);
      guard.listening([proxyAddr]);
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
