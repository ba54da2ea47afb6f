// The targets compared side by side: what each one is, whether it can run here, and how to start it.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, getJson, waitForPort } from './net.js';
import { squidUnavailable, startSquid } from './squid.js';

/**
 * @typedef {object} ProxyCounters  a proxy's own view, from its admin endpoint, when it has one
 * @property {number | null} upstreamSockets   upstream sockets created
 * @property {number | null} upstreamRequests  requests sent upstream
 * @property {number | null} downstreamConnections  client connections accepted
 * @property {Record<string, number> | null} closedBy  upstream sockets closed so far, by reason
 */

/**
 * @typedef {object} RunningTarget
 * @property {number} port            where the load generator connects
 * @property {boolean} proxy          true: absolute-form requests for the origin; false: it answers itself
 * @property {import('./managed-child.js').ManagedChild | null} process  null when the target is the origin itself
 * @property {(() => Promise<ProxyCounters | null>) | null} counters
 */

/**
 * @typedef {object} TargetContext
 * @property {import('./processes.js').ProcessGroup} group
 * @property {import('./tempdirs.js').TempDirs} tempDirs
 * @property {number} originPort
 * @property {string} repoRoot
 * @property {number} startTimeoutMs
 * @property {string[]} hopwiseArgs  extra CLI flags for hopwise (e.g. `--workers 2`)
 * @property {string[]} [nodeArgs]  flags for the node running a Node target (bench/profile.js: `--cpu-prof`)
 */

/**
 * @typedef {object} TargetDef
 * @property {string} name
 * @property {string} description   one line for the report and BENCHMARKS.md
 * @property {(repoRoot: string) => string | null} unavailable  why it is skipped here, or null
 * @property {(ctx: TargetContext) => Promise<RunningTarget>} start
 * @property {boolean} [optIn]  only when named in --targets (not part of the default suite)
 */

const READY = /listening/i;
/**
 * Idle client connections are kept this long by every target the harness configures (Node's default is 5 s, squid's
 * 2 min), so that scenario (d) counts connections that are idle, not ones the target already timed out. It changes
 * nothing for busy connections.
 */
export const IDLE_KEEP_ALIVE_MS = 120_000;

/**
 * A bench script under bench/targets/, started on the target core; it prints `listening on 127.0.0.1:PORT`.
 * @param {string} name
 * @param {boolean} proxy
 * @returns {(ctx: TargetContext) => Promise<RunningTarget>}
 */
function benchScript(name, proxy) {
  return async (ctx) => {
    const script = path.join(ctx.repoRoot, 'bench', 'targets', `${name}.js`);
    const args = ['--port', '0', '--keep-alive-timeout', String(IDLE_KEEP_ALIVE_MS)];
    const child = ctx.group.spawnNode(name, script, args, 'target', ctx.nodeArgs);
    const line = await child.waitForLine(READY, ctx.startTimeoutMs);
    const port = Number(/:(\d+)\s*$/.exec(line)?.[1]);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${name}: no port in "${line}"`);
    return { port, proxy, process: child, counters: null };
  };
}

/**
 * Maps hopwise's /stats document to the counters the bench reports; missing fields become null.
 * @param {any} stats
 * @returns {ProxyCounters | null}
 */
export function hopwiseCounters(stats) {
  if (stats === null || typeof stats !== 'object') return null;
  const num = (/** @type {unknown} */ v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    upstreamSockets: num(stats.upstream?.totals?.socketsCreated),
    upstreamRequests: num(stats.upstream?.totals?.requests),
    downstreamConnections: num(stats.downstream?.connectionsAccepted),
    closedBy: closedByReason(stats.upstream?.totals?.socketsClosed),
  };
}

/**
 * @param {unknown} v  `upstream.totals.socketsClosed` (reason → count)
 * @returns {Record<string, number> | null}
 */
function closedByReason(v) {
  if (v === null || typeof v !== 'object') return null;
  return Object.fromEntries(Object.entries(v).filter(([, n]) => typeof n === 'number' && Number.isFinite(n)));
}

/**
 * @param {TargetContext} ctx
 * @param {string} [root]  another build of hopwise (a checkout with `dist/`), for a same-run comparison
 * @param {string[]} [flags]  its extra flags (default: the context's `hopwiseArgs`)
 * @returns {Promise<RunningTarget>}
 */
async function startHopwise(ctx, root = ctx.repoRoot, flags = ctx.hopwiseArgs) {
  const [port, adminPort] = [await freePort(), await freePort()];
  const dir = ctx.tempDirs.create('hopwise');
  const config = path.join(dir, 'bench.json');
  writeFileSync(config, `${JSON.stringify({ downstream: { keepAliveTimeout: IDLE_KEEP_ALIVE_MS } })}\n`);
  const args = [
    ...(ctx.nodeArgs ?? []),
    path.join(root, 'bin', 'hopwise.js'),
    ...['--config', config, '--host', '127.0.0.1', '--port', String(port), '--admin-port', String(adminPort)],
    ...['--log-level', 'error', '--no-access-log', '--stats-interval', '0'],
    ...flags,
  ];
  const child = ctx.group.spawnLeashed('hopwise', process.execPath, args, {
    core: 'target',
    cwd: ctx.repoRoot,
    removeOnExit: dir,
  });
  // Ready when it says `listening`, or when its port accepts (in case the ready line is filtered by the log level).
  const gone = () => (child.exitReason ? `hopwise ${child.exitReason}\n${child.tail()}` : null);
  await Promise.any([child.waitForLine(READY, ctx.startTimeoutMs), waitForPort(port, ctx.startTimeoutMs, gone)]).catch(
    (/** @type {AggregateError} */ err) => {
      throw /** @type {Error} */ (err.errors[0]);
    },
  );
  const statsUrl = `http://127.0.0.1:${adminPort}/stats`;
  return { port, proxy: true, process: child, counters: async () => hopwiseCounters(await getJson(statsUrl, 2000)) };
}

/** @type {readonly TargetDef[]} */
export const TARGETS = Object.freeze([
  {
    name: 'direct',
    description: 'client → origin, no proxy: the ceiling of this origin and load generator on their shared core',
    unavailable: () => null,
    start: async (ctx) => ({ port: ctx.originPort, proxy: false, process: null, counters: null }),
  },
  {
    name: 'hopwise',
    description: 'this project: `node bin/hopwise.js` (forward mode, error-level logs, no access log, idle client' +
      ' connections kept 120 s)',
    unavailable: (root) =>
      existsSync(path.join(root, 'dist', 'cli', 'main.js')) ? null : 'dist/cli/main.js missing (run `npm run build`)',
    start: (ctx) => startHopwise(ctx),
  },
  {
    name: 'http-proxy',
    description: 'bare http-proxy 1.18.1, `createProxyServer({})`, no agent: one upstream connection per request',
    unavailable: () => null,
    start: benchScript('http-proxy', true),
  },
  {
    name: 'http-proxy-agent',
    description: 'http-proxy 1.18.1 with `new http.Agent({ keepAlive: true })`: pooled upstream connections',
    unavailable: () => null,
    start: benchScript('http-proxy-agent', true),
  },
  {
    name: 'squid',
    description: 'Debian squid, forward mode, `cache deny all`, generated minimal config, `squid -N -f conf`',
    unavailable: () => squidUnavailable(),
    start: startSquid,
  },
  {
    name: 'undici-minimal',
    description: 'opt-in: the least a forward proxy on undici does (one Pool per origin, headers as they come): the' +
      " stack's floor, for evidence",
    optIn: true,
    unavailable: () => null,
    start: benchScript('undici-minimal', true),
  },
  {
    name: 'node-hello',
    description: 'a one-file Node http server answering directly on the proxy core: the "0.5 × Node" anchor',
    unavailable: () => null,
    start: benchScript('node-hello', false),
  },
]);

/**
 * `hopwise-baseline`: hopwise from another checkout (`--baseline DIR`, built), run side by side with this one, so an
 * optimisation's before and after are measured in the same run under the same conditions.
 * @param {string} root
 * @param {string[] | null} flags  its extra flags (null: the same as hopwise's)
 * @returns {TargetDef}
 */
export function baselineTarget(root, flags) {
  return {
    name: 'hopwise-baseline',
    description: `hopwise built from ${root} (the "before" of a comparison), same flags as \`hopwise\``,
    unavailable: () =>
      existsSync(path.join(root, 'dist', 'cli', 'main.js')) ? null : `${root}/dist/cli/main.js missing`,
    start: (ctx) => startHopwise(ctx, root, flags ?? ctx.hopwiseArgs),
  };
}

/**
 * Resolves the names asked for (null: all) to definitions, in the canonical order; throws on an unknown name.
 * @param {string[] | null} names
 * @param {string | null} [baseline]  a checkout of hopwise to compare with (adds `hopwise-baseline`)
 * @param {string[] | null} [baselineFlags]  its flags, when not the same as hopwise's
 * @returns {TargetDef[]}
 */
export function selectTargets(names, baseline = null, baselineFlags = null) {
  const all = baseline === null ? [...TARGETS] : [...TARGETS, baselineTarget(baseline, baselineFlags)];
  if (names === null) return all.filter((t) => !t.optIn);
  const known = new Set(all.map((t) => t.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new Error(`unknown target(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  return all.filter((t) => names.includes(t.name));
}
