/**
 * Composition: wires the downstream listeners, the forwarding engine, the tunnels (CONNECT, Upgrade), the upstream
 * pools, telemetry, stats, logs and the admin listener into one proxy with `listen`, `close` (graceful, SPEC §10.1),
 * `destroy` and `stats`. A gateway may have several listeners (`routes`), each with its own target; they share the
 * pools, the connection tracker, the tunnels and the statistics.
 */
import type http from 'node:http';
import { readFileSync } from 'node:fs';
import type { LookupFunction } from 'node:net';
import tls from 'node:tls';
import type { Config } from './config/schema.js';
import { resolvedAdminPort } from './config/validate.js';
import { ConnectionTracker } from './downstream/connections.js';
import { connectionLimits } from './downstream/admission.js';
import type { ConnectionAdmission } from './downstream/admission.js';
import { closeServer, listenOn } from './downstream/listen.js';
import type { Address } from './downstream/listen.js';
import { createDownstreamServer } from './downstream/server.js';
import type { ClientErrorListener } from './downstream/server.js';
import { shutdown } from './drain.js';
import { ForwardEngine } from './forward/engine.js';
import type { RequestAdditions } from './forward/engine.js';
import { AccessGuard, newInstanceId } from './access/guard.js';
import { headerCountRefusal, requestGate } from './access/request-gate.js';
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
import { isLoopbackHost, viaValue } from './policy/index.js';
import { additionsFor, listenerPlans } from './routes.js';
import type { ListenerPlan } from './routes.js';
import { ConnectHandler } from './tunnel/connect.js';
import { Tunnels } from './tunnel/registry.js';
import { UpstreamPools } from './upstream/pools.js';
import { Connector } from './upstream/connector.js';
import { ParentSet } from './upstream/parents.js';
import { chainingFor, selfParent, vetWithParents } from './chaining.js';
import type { Chaining } from './chaining.js';
import { parseIp } from './policy/address.js';

export type { Address } from './downstream/listen.js';

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
  /** Name resolution for upstream dials (tests inject one to answer differently from the access check). */
  readonly lookup?: LookupFunction;
  /** All addresses of a name, for the access guard's checks (tests inject one); the system resolver by default. */
  readonly resolveAll?: (hostname: string) => Promise<string[]>;
}

/** The per-proxy collaborators every listener shares: one tracker, one set of pools (SPEC §4.1), one registry. */
interface Shared {
  readonly config: Config;
  readonly telemetry: Telemetry;
  readonly tracker: ConnectionTracker;
  readonly pools: UpstreamPools;
  /** Dials every upstream socket: the pools', CONNECT tunnels', WebSocket upgrades' (SPEC §4.8). */
  readonly connector: Connector;
  readonly tunnels: Tunnels;
  readonly connect: ConnectHandler;
  readonly additions: RequestAdditions;
  readonly responseVia: string;
  /** Access control, proxy auth, loops and framing, before any request goes upstream (issue 7). */
  readonly gate: RequestGate;
  readonly admit: ConnectionAdmission;
  readonly onClientError: ClientErrorListener;
  /** Issue 13: the parents' down marks and the dial-via-parent step. */
  readonly parents: ParentSet;
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
    route: plan.route,
    parents: s.parents,
  });
  const upgrades = new UpgradeRelay({
    telemetry,
    tracker,
    tunnels,
    resolve: plan.resolve,
    additions,
    responseVia,
    connector: s.connector,
    responseTimeout: config.upstream.responseTimeout,
    idleTimeout: config.tunnel.idleTimeout,
    gate: s.gate,
    route: plan.route,
    parents: s.parents,
  });
  return createDownstreamServer(config.downstream, tracker, (req, res, conn) => engine.handle(req, res, conn), s.onClientError, {
    onConnect: (req, head, conn) => s.connect.handle(req, head, conn),
    onUpgrade: (req, head, conn) => upgrades.handle(req, head, conn),
  }, s.admit, config.via.pseudonym);
}

/** The per-proxy parts that outlive any one listener: counting, logging, the tracker and access control. */
interface Core {
  readonly telemetry: Telemetry;
  readonly stats: Stats;
  /** The flow ring (issue 14). */
  readonly flows: FlowRing;
  readonly tracker: ConnectionTracker;
  readonly guard: AccessGuard;
  /** Dials every upstream socket: the pools', CONNECT tunnels', WebSocket upgrades' (SPEC §4.8). */
  readonly connector: Connector;
  /** Issue 13: the parent-proxy routing table (and the parents' keys, listed in the stats from the start). */
  readonly chaining: Chaining;
  /** Issue 13: the parents' down marks and the dial-via-parent step, over the same connector. */
  readonly parents: ParentSet;
}

/**
 * `upstream.ca`: extra CAs for https origins, added to Node's bundled store (tls.connect's `ca` replaces the store, so
 * both are passed). Read once at start-up.
 */
function upstreamCa(path: string | null): string[] | undefined {
  if (path === null) return undefined;
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`upstream.ca: cannot read ${path}: ${(err as Error).message}`);
  }
  return [...tls.rootCertificates, pem];
}

function core(config: Config, logger: Logger, instanceId: string, opts: ProxyOptions): Core {
  const telemetry = new Telemetry();
  const chaining = chainingFor(config);
  const stats = new Stats(Date.now, { maxOrigins: config.stats.maxOrigins, parents: chaining.keys });
  telemetry.on((e) => stats.record(e));
  attachLogging(telemetry, logger, { access: config.log.access });
  // Issue 14: with flows.size 0 the ring does not subscribe and telemetry.flows stays false (no records built).
  const flows = new FlowRing(config.flows.size, telemetry);
  const tracker = new ConnectionTracker(telemetry, { countPerClient: config.downstream.maxConnectionsPerClient > 0 });
  // Issue 7: access control, proxy auth, loop detection; destinations are checked in forward mode only.
  const guard = new AccessGuard({
    access: config.access,
    telemetry,
    pseudonym: config.via.pseudonym,
    instanceId,
    checkDestinations: config.mode === 'forward',
    ...(opts.resolveAll === undefined ? {} : { resolveAll: opts.resolveAll }),
  });
  const isSelf = (address: string, port: number): boolean => {
    const ip = parseIp(address);
    return ip !== null && guard.isSelf(ip, port);
  };
  const connector = new Connector({
    telemetry,
    connectTimeout: config.upstream.connectTimeout,
    noDelay: config.upstream.noDelay,
    tcpKeepAlive: config.upstream.tcpKeepAlive,
    tcpKeepAliveInitialDelay: config.upstream.tcpKeepAliveInitialDelay,
    vet: vetWithParents(chaining, isSelf, (host, address, port) => guard.vetConnection(host, address, port)),
    lookup: opts.lookup,
    ca: upstreamCa(config.upstream.ca),
  });
  const parents = new ParentSet({ connector, telemetry, retryAfter: config.upstream.proxyRetryAfter, responseTimeout: config.upstream.responseTimeout });
  return { telemetry, stats, flows, tracker, guard, connector, chaining, parents };
}

/** The collaborators every listener shares: the upstream pools, the CONNECT handler, the request gate, admission. */
function share(config: Config, logger: Logger, instanceId: string, parts: Core): Shared {
  const { telemetry, tracker, guard, connector, chaining, parents } = parts;
  const tunnels = new Tunnels();
  const limits = connectionLimits(config.downstream, tracker, telemetry);
  return {
    config,
    telemetry,
    tracker,
    pools: new UpstreamPools(config.upstream, telemetry, connector),
    connector,
    tunnels,
    connect: new ConnectHandler({
      telemetry,
      tracker,
      tunnels,
      tunnel: config.tunnel,
      connector,
      enabled: config.mode === 'forward',
      admit: async (req, hostname, port, conn, resolve) =>
        headerCountRefusal(req.rawHeaders, config.downstream.maxHeaderCount) ?? guard.admitTunnel(req.rawHeaders, hostname, port, conn, resolve),
      route: (hostname, port) => chaining.router.route({ hostname, port, scheme: 'https' }),
      parents,
    }),
    additions: additionsFor(config, instanceId),
    responseVia: viaValue('1.1', config.via.pseudonym),
    gate: requestGate(guard, config.downstream.maxBodySize, config.downstream.maxHeaderCount),
    admit: (conn) => guard.admitClient(conn) ?? limits(conn),
    onClientError: (conn, code, status) => logger.info('bad-request', { leg: 'downstream', conn: conn?.id, code, status }),
    parents,
  };
}

/** Binds every listener in order (main, routes, admin); a failure names the listener (ListenError). */
async function bindAll(
  config: Config,
  listeners: readonly { plan: ListenerPlan; server: http.Server }[],
  hasMain: boolean,
  admin: http.Server | undefined,
): Promise<ListenInfo> {
  const addresses: Address[] = [];
  for (const [i, { plan, server }] of listeners.entries()) {
    const role = hasMain && i === 0 ? 'proxy' : (`routes[${hasMain ? i - 1 : i}]` as const);
    addresses.push(await listenOn(server, plan.host, plan.port, role));
  }
  const adminAddr = admin === undefined ? undefined : await listenOn(admin, config.admin.host, resolvedAdminPort(config), 'admin');
  return { proxy: addresses[0]!, routes: hasMain ? addresses.slice(1) : addresses, admin: adminAddr };
}

/** Create a proxy for a validated config (forward or gateway mode). No sockets are opened until `listen()`. */
export function createProxy(config: Config, opts: ProxyOptions = {}): Proxy {
  if (config.mode !== 'forward' && config.mode !== 'gateway') {
    throw new Error(`createProxy: mode "${config.mode}" is a workshop mode; start it through the workshop module`);
  }
  const logger = opts.logger ?? silentLogger();
  const instanceId = opts.instanceId ?? newInstanceId();
  const parts = core(config, logger, instanceId, opts);
  const { telemetry, stats, flows, guard } = parts;
  const shared = share(config, logger, instanceId, parts);
  const plans = listenerPlans(config, parts.chaining.router);
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
  const stop = (graceful: boolean): Promise<void> => (closing ??= shutdown(shared, servers, admin, graceful, finished));

  return {
    telemetry,
    instanceId,
    flows,
    async listen() {
      let info: ListenInfo;
      try {
        info = await bindAll(config, listeners, plans.main !== undefined, admin);
        // Loop detection knows every address it answers on (SPEC §2.4).
        guard.listening([info.proxy, ...info.routes]);
        const self = selfParent(parts.chaining, [info.proxy, ...info.routes]);
        if (self !== undefined) throw new Error(self);
      } catch (err) {
        await Promise.all([...servers, ...(admin === undefined ? [] : [admin])].map((server) => closeServer(server)));
        throw err;
      }
      listening = true;
      summary.start();
      return info;
    },
    close: () => stop(true),
    destroy: () => stop(false),
    stats: () => stats.snapshot(),
  };
}
