/**
 * Composition: wires the downstream listeners, the forwarding engine, the tunnels (CONNECT, Upgrade), the upstream
 * pools, telemetry, stats, logs and the admin listener into one proxy with `listen`, `close` (graceful, SPEC §10.1),
 * `destroy` and `stats`. A gateway may have several listeners (`routes`), each with its own target; they share the
 * pools, the connection tracker, the tunnels and the statistics.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.js';
import { ConnectionTracker } from './downstream/connections.js';
import { createDownstreamServer } from './downstream/server.js';
import { ForwardEngine } from './forward/engine.js';
import type { RequestAdditions, TargetResolver } from './forward/engine.js';
import { UpgradeRelay } from './forward/upgrade.js';
import { createAdminServer } from './observability/admin.js';
import { Telemetry } from './observability/events.js';
import type { Logger } from './observability/logger.js';
import { silentLogger } from './observability/logger.js';
import { attachLogging } from './observability/log-events.js';
import { Stats } from './observability/stats.js';
import type { StatsSnapshot } from './observability/stats.js';
import { forwardTarget, forwardedStyle, gatewayTarget, viaValue, withForwarded } from './policy/index.js';
import { ConnectHandler } from './tunnel/connect.js';
import { Tunnels } from './tunnel/registry.js';
import { UpstreamPools } from './upstream/pools.js';

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface ListenInfo {
  /**
   * The main listener: forward mode, or a gateway's top-level `target`. A gateway configured with `routes` only has
   * no listener of its own; this is then its first route.
   */
  readonly proxy: Address;
  /** Gateway mode: one address per `routes` entry, in config order (empty otherwise). */
  readonly routes: readonly Address[];
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

/** One listening socket and where its requests go. */
interface ListenerPlan {
  readonly host: string;
  readonly port: number;
  readonly resolve: TargetResolver;
}

/** The main listener (absent in a routes-only gateway) and one per gateway route. */
function listenerPlans(config: Config): { main: ListenerPlan | undefined; routes: ListenerPlan[] } {
  const { host, port } = config.listen;
  if (config.mode !== 'gateway') {
    return { main: { host, port, resolve: (req) => forwardTarget(req.url ?? '', req.method ?? 'GET') }, routes: [] };
  }
  const gateway =
    (target: string, preserveHost: boolean): TargetResolver =>
    (req) =>
      gatewayTarget(req.url ?? '/', req.method ?? 'GET', target, req.headers.host, preserveHost);
  const main = config.target === null ? undefined : { host, port, resolve: gateway(config.target, config.preserveHost) };
  const routes = config.routes.map((r) => ({
    host: r.listen.host,
    port: r.listen.port,
    resolve: gateway(r.target, r.preserveHost ?? config.preserveHost),
  }));
  if (main === undefined && routes.length === 0) throw new Error('gateway mode needs a target or at least one route');
  return { main, routes };
}

/** Via, then the configured client-address headers, both after stripping (SPEC §1.2, §1.4). */
function additionsFor(config: Config): RequestAdditions {
  const pseudonym = config.via.pseudonym;
  const via11 = viaValue('1.1', pseudonym);
  const style = forwardedStyle(config.forwarded, config.mode);
  return (req, head) => {
    head.push('Via', req.httpVersion === '1.1' ? via11 : viaValue(req.httpVersion, pseudonym));
    if (style === 'none') return head;
    // Plain-HTTP listeners only, so the client's scheme is always http.
    return withForwarded(head, style, { clientAddress: req.socket.remoteAddress, proto: 'http', host: req.headers.host });
  };
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
  const tunnels = new Tunnels();
  const responseVia = viaValue('1.1', config.via.pseudonym);
  const additions = additionsFor(config);
  const connect = new ConnectHandler({ telemetry, tracker, tunnels, tunnel: config.tunnel, enabled: config.mode === 'forward' });
  const onClientError = (conn: { id: number } | undefined, code: string, status: number): void =>
    logger.info('bad-request', { leg: 'downstream', conn: conn?.id, code, status });

  const listener = (plan: ListenerPlan): http.Server => {
    const engine = new ForwardEngine({
      telemetry,
      tracker,
      pools,
      retryStale: config.upstream.retryStale,
      responseVia,
      resolve: plan.resolve,
      additions,
      maxRequestsPerConnection: config.downstream.maxRequestsPerConnection,
    });
    const upgrades = new UpgradeRelay({
      telemetry,
      tracker,
      tunnels,
      resolve: plan.resolve,
      additions,
      responseVia,
      connectTimeout: config.upstream.connectTimeout,
      responseTimeout: config.upstream.responseTimeout,
      idleTimeout: config.tunnel.idleTimeout,
    });
    return createDownstreamServer(config.downstream, tracker, (req, res, conn) => engine.handle(req, res, conn), onClientError, {
      onConnect: (req, head, conn) => connect.handle(req, head, conn),
      onUpgrade: (req, head, conn) => upgrades.handle(req, head, conn),
    });
  };
  const plans = listenerPlans(config);
  const main = plans.main === undefined ? undefined : { plan: plans.main, server: listener(plans.main) };
  const routes = plans.routes.map((plan) => ({ plan, server: listener(plan) }));
  const servers = [...(main === undefined ? [] : [main.server]), ...routes.map((r) => r.server)];
  const admin = config.admin.enabled ? createAdminServer({ stats: () => stats.snapshot() }) : undefined;
  let closing: Promise<void> | undefined;

  const shutdown = async (graceful: boolean): Promise<void> => {
    const stopped = Promise.all(servers.map(closeServer));
    tracker.startClosing();
    tunnels.startClosing();
    if (graceful) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, config.shutdown.drainTimeout);
      });
      await Promise.race([Promise.all([tracker.whenAllClosed(), tunnels.whenAllClosed()]), deadline]);
      clearTimeout(timer);
    }
    tunnels.destroyAll();
    tracker.destroyAll();
    await Promise.all([tracker.whenAllClosed(), tunnels.whenAllClosed()]);
    await stopped;
    await (graceful ? pools.close() : pools.destroy());
    if (admin !== undefined) {
      admin.closeAllConnections();
      await closeServer(admin);
    }
  };

  const bindAll = async (): Promise<ListenInfo> => {
    const mainAddr = main === undefined ? undefined : await listenOn(main.server, main.plan.host, main.plan.port);
    const routeAddrs: Address[] = [];
    for (const r of routes) routeAddrs.push(await listenOn(r.server, r.plan.host, r.plan.port));
    let adminAddr: Address | undefined;
    if (admin !== undefined) {
      const port = config.admin.port ?? (config.listen.port === 0 ? 0 : config.listen.port + 1);
      adminAddr = await listenOn(admin, config.admin.host, port);
    }
    return { proxy: mainAddr ?? routeAddrs[0]!, routes: routeAddrs, admin: adminAddr };
  };

  return {
    telemetry,
    async listen() {
      try {
        return await bindAll();
      } catch (err) {
        await Promise.all(servers.map(closeServer));
        throw err;
      }
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
