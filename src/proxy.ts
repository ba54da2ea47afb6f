/**
 * Composition: wires the downstream listeners, the forwarding engine, the tunnels (CONNECT, Upgrade), the upstream
 * pools, telemetry, stats, logs and the admin listener into one proxy with `listen`, `close` (graceful, SPEC §10.1),
 * `destroy` and `stats`. A gateway may have several listeners (`routes`), each with its own target; they share the
 * pools, the connection tracker, the tunnels and the statistics.
 */
import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/schema.js';
import { isLoopbackHost } from './config/validate.js';
import { ConnectionTracker } from './downstream/connections.js';
import { connectionLimits } from './downstream/admission.js';
import type { ConnectionAdmission } from './downstream/admission.js';
import { createDownstreamServer } from './downstream/server.js';
import type { ClientErrorListener } from './downstream/server.js';
import { ForwardEngine } from './forward/engine.js';
import type { RequestAdditions } from './forward/engine.js';
import { AccessGuard, newInstanceId } from './access/guard.js';
import { requestGate } from './access/request-gate.js';
import type { RequestGate } from './access/request-gate.js';
import { UpgradeRelay } from './forward/upgrade.js';
import { createAdminServer } from './observability/admin.js';
import { FlowRing } from './observability/flows.js';
import { Telemetry } from './observability/events.js';
import type { Logger } from './observability/logger.js';
import { silentLogger } from './observability/logger.js';
import { attachLogging } from './observability/log-events.js';
import { Stats } from './observability/stats.js';
import type { StatsSnapshot } from './observability/stats.js';
import { StatsSummary } from './observability/summary.js';
import { viaValue } from './policy/index.js';
import { additionsFor, listenerPlans } from './routes.js';
import type { ListenerPlan } from './routes.js';
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
  /** This instance's id, the comment of its `Via` member (`1.1 hopwise (hw-3f9a1c)`): loop detection, SPEC §2.4. */
  readonly instanceId: string;
  /** The flow ring (issue 14): recent exchanges and tunnels; size 0 when `flows.size` is 0. */
  readonly flows: FlowRing;
}

export interface ProxyOptions {
  readonly logger?: Logger;
  /** The version named as the HAR creator's (`/flows.har`). */
  readonly version?: string;
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

/** The per-proxy collaborators every listener shares: one tracker, one set of pools (SPEC §4.1), one registry. */
interface Shared {
  readonly config: Config;
  readonly telemetry: Telemetry;
  readonly tracker: ConnectionTracker;
  readonly pools: UpstreamPools;
  readonly tunnels: Tunnels;
  readonly connect: ConnectHandler;
  readonly additions: RequestAdditions;
  readonly responseVia: string;
  /** Access control, proxy auth, loops and framing, before any request goes upstream (issue 7). */
  readonly gate: RequestGate;
  readonly admit: ConnectionAdmission;
  readonly onClientError: ClientErrorListener;
}

/** One downstream listener: its own target resolution for requests and upgrades, everything else shared. */
function createListener(s: Shared, plan: ListenerPlan): http.Server {
  const { config, telemetry, tracker, tunnels, additions, responseVia } = s;
  const engine = new ForwardEngine({
    telemetry,
    tracker,
    pools: s.pools,
    retryStale: config.upstream.retryStale,
    responseVia,
    serverTiming: config.flows.serverTiming,
    resolve: plan.resolve,
    additions,
    maxRequestsPerConnection: config.downstream.maxRequestsPerConnection,
    gate: s.gate,
    maxBodySize: config.downstream.maxBodySize,
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
    gate: s.gate,
  });
  return createDownstreamServer(config.downstream, tracker, (req, res, conn) => engine.handle(req, res, conn), s.onClientError, {
    onConnect: (req, head, conn) => s.connect.handle(req, head, conn),
    onUpgrade: (req, head, conn) => upgrades.handle(req, head, conn),
  }, s.admit, config.via.pseudonym);
}

/**
 * Stop accepting; when graceful, let in-flight exchanges and open tunnels finish up to `shutdown.drainTimeout`
 * (SPEC §10.1); then destroy what is left on both sides and close the pools and the admin listener.
 */
async function shutdown(
  s: Shared,
  servers: readonly http.Server[],
  admin: http.Server | undefined,
  graceful: boolean,
  finished: () => void,
): Promise<void> {
  const { tracker, tunnels } = s;
  const stopped = Promise.all(servers.map(stopAccepting));
  tracker.startClosing();
  tunnels.startClosing();
  if (graceful) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, s.config.shutdown.drainTimeout);
    });
    await Promise.race([Promise.all([tracker.whenAllClosed(), tunnels.whenAllClosed()]), deadline]);
    clearTimeout(timer);
  }
  tunnels.destroyAll();
  tracker.destroyAll();
  await Promise.all([tracker.whenAllClosed(), tunnels.whenAllClosed()]);
  await stopped;
  await (graceful ? s.pools.close() : s.pools.destroy());
  if (admin !== undefined) {
    admin.closeAllConnections();
    await closeServer(admin);
  }
  finished();
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
  // Issue 14: with flows.size 0 the ring does not subscribe and telemetry.flows stays false (no records built).
  const flows = new FlowRing(config.flows.size, telemetry);
  const tracker = new ConnectionTracker(telemetry, { countPerClient: config.downstream.maxConnectionsPerClient > 0 });
  const tunnels = new Tunnels();
  // Issue 7: access control, proxy auth, loop detection; destinations are checked in forward mode only.
  const instanceId = opts.instanceId ?? newInstanceId();
  const guard = new AccessGuard({
    access: config.access,
    telemetry,
    pseudonym: config.via.pseudonym,
    instanceId,
    checkDestinations: config.mode === 'forward',
  });
  const limits = connectionLimits(config.downstream, tracker, telemetry);
  const shared: Shared = {
    config,
    telemetry,
    tracker,
    pools: new UpstreamPools(config.upstream, telemetry, (host, address, port) => guard.vetConnection(host, address, port)),
    tunnels,
    connect: new ConnectHandler({
      telemetry,
      tracker,
      tunnels,
      tunnel: config.tunnel,
      enabled: config.mode === 'forward',
      admit: (req, hostname, port, conn) => guard.admitTunnel(req.rawHeaders, hostname, port, conn),
    }),
    additions: additionsFor(config, instanceId),
    responseVia: viaValue('1.1', config.via.pseudonym),
    gate: requestGate(guard, config.downstream.maxBodySize),
    admit: (conn) => guard.admitClient(conn) ?? limits(conn),
    onClientError: (conn, code, status) => logger.info('bad-request', { leg: 'downstream', conn: conn?.id, code, status }),
  };
  const plans = listenerPlans(config);
  const listeners = [...(plans.main === undefined ? [] : [plans.main]), ...plans.routes].map((plan) => ({
    plan,
    server: createListener(shared, plan),
  }));
  const servers = listeners.map((l) => l.server);
  const admin = config.admin.enabled
    ? createAdminServer(
        { stats: () => stats.snapshot(), flows: { ring: flows, redact: config.flows.redact, version: opts.version ?? 'dev' } },
        { loopbackOnly: isLoopbackHost(config.admin.host) },
      )
    : undefined;
  const summary = new StatsSummary(() => stats.snapshot(), logger, config.stats.interval);
  let listening = false;
  let closing: Promise<void> | undefined;
  // SPEC §8.3: always a summary at shutdown, after every connection is gone so it has the final numbers, and before
  // close()/destroy() resolve, so it is written before the caller closes the logger.
  const finished = (): void => (listening ? summary.finish() : summary.stop());

  const bindAll = async (): Promise<ListenInfo> => {
    const addresses: Address[] = [];
    for (const { plan, server } of listeners) addresses.push(await listenOn(server, plan.host, plan.port));
    const adminAddr = admin === undefined ? undefined : await listenOn(admin, config.admin.host, adminPort(config));
    const routes = plans.main === undefined ? addresses : addresses.slice(1);
    return { proxy: addresses[0]!, routes, admin: adminAddr };
  };

  return {
    telemetry,
    instanceId,
    flows,
    async listen() {
      let info: ListenInfo;
      try {
        info = await bindAll();
        // Loop detection knows every address it answers on (SPEC §2.4).
        guard.listening([info.proxy, ...info.routes]);
      } catch (err) {
        await Promise.all([...servers, ...(admin === undefined ? [] : [admin])].map(closeServer));
        throw err;
      }
      listening = true;
      summary.start();
      return info;
    },
    close() {
      closing ??= shutdown(shared, servers, admin, true, finished);
      return closing;
    },
    destroy() {
      closing ??= shutdown(shared, servers, admin, false, finished);
      return closing;
    },
    stats: () => stats.snapshot(),
  };
}

/** `admin.port`, or `listen.port + 1` (ephemeral when the proxy port is). */
function adminPort(config: Config): number {
  return config.admin.port ?? (config.listen.port === 0 ? 0 : config.listen.port + 1);
}
