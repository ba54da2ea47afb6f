// The targets compared side by side: what each one is, whether it can run here, and how to start it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
 * How a hopwise target logs. `off`: error level, no access log, no periodic summary (the proxy's own cost alone).
 * `default`: the embedded defaults (info, access log on, JSON, a summary every 60 s), as a user runs it. Either way
 * stdout goes to a file in the target's temp dir, as a production log does, not to a pipe the harness must drain.
 * @typedef {'off' | 'default'} HopwiseLogging
 */

/** @type {Record<HopwiseLogging, string[]>} */
const LOGGING_FLAGS = {
  off: ['--log-level', 'error', '--no-access-log', '--stats-interval', '0'],
  default: [],
};

/**
 * @param {TargetContext} ctx
 * @param {{ root?: string, flags?: string[], logging?: HopwiseLogging }} [options]  `root`: another build of
 *   hopwise (a checkout with `dist/`), for a same-run comparison; `flags`: its extra flags (default: the context's
 *   `hopwiseArgs`); `logging`: see HopwiseLogging (default `off`)
 * @returns {Promise<RunningTarget>}
 */
async function startHopwise(ctx, { root = ctx.repoRoot, flags = ctx.hopwiseArgs, logging = 'off' } = {}) {
  const [port, adminPort] = [await freePort(), await freePort()];
  const dir = ctx.tempDirs.create('hopwise');
  const config = path.join(dir, 'bench.json');
  const logFile = path.join(dir, 'hopwise.log');
  writeFileSync(config, `${JSON.stringify({ downstream: { keepAliveTimeout: IDLE_KEEP_ALIVE_MS } })}\n`);
  const args = [
    ...(ctx.nodeArgs ?? []),
    path.join(root, 'bin', 'hopwise.js'),
    ...['--config', config, '--host', '127.0.0.1', '--port', String(port), '--admin-port', String(adminPort)],
    ...LOGGING_FLAGS[logging],
    ...flags,
  ];
  const child = ctx.group.spawnLeashed('hopwise', process.execPath, args, {
    core: 'target',
    cwd: ctx.repoRoot,
    removeOnExit: dir,
    stdoutFile: logFile,
  });
  const gone = () => (child.exitReason ? `hopwise ${child.exitReason}\n${child.tail()}\n${fileTail(logFile)}` : null);
  await waitForPort(port, ctx.startTimeoutMs, gone);
  const statsUrl = `http://127.0.0.1:${adminPort}/stats`;
  return { port, proxy: true, process: child, counters: async () => hopwiseCounters(await getJson(statsUrl, 2000)) };
}

/**
 * @param {string} file
 * @returns {string} its last lines, or nothing when it cannot be read
 */
function fileTail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/** @returns {string | null} */
function hopwiseUnavailable(/** @type {string} */ root) {
  return existsSync(path.join(root, 'dist', 'cli', 'main.js')) ? null : `${root}/dist/cli/main.js missing (run \`npm run build\`)`;
}

/** @type {readonly TargetDef[]} */
export const TARGETS = Object.freeze([
  {
    name: 'direct',
    description: 'client → origin, no proxy: the ceiling of this origin and load generator on their shared core',
    unavailable: () => null,
    start: (ctx) => Promise.resolve({ port: ctx.originPort, proxy: false, process: null, counters: null }),
  },
  {
    name: 'hopwise',
    description: 'this project: `node bin/hopwise.js` (forward mode, logging off: error level, no access log, no' +
      ' periodic summary; idle client connections kept 120 s)',
    unavailable: hopwiseUnavailable,
    start: (ctx) => startHopwise(ctx),
  },
  {
    name: 'hopwise-default',
    description: 'hopwise in its default config: access log on (one JSON line per request, `info`), stdout to a' +
      ' file; idle client connections kept 120 s',
    unavailable: hopwiseUnavailable,
    start: (ctx) => startHopwise(ctx, { logging: 'default' }),
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
    name: 'proxy-npm',
    description: "TooTallNate's `proxy` 4.x (proxy-agents) with its defaults: `createProxy(http.createServer())`",
    unavailable: () => null,
    start: benchScript('proxy-npm', true),
  },
  {
    name: 'squid',
    description: 'Debian squid, forward mode, `cache deny all`, generated minimal config, `squid -N -f conf`',
    unavailable: () => squidUnavailable(),
    start: (ctx) => startSquid(ctx, { accessLog: false }),
  },
  {
    name: 'squid-log',
    description: "squid as above with its access log on: native format, to a file, through squid's default" +
      ' `daemon:` logger (its log_file_daemon helper counts in its CPU and memory)',
    unavailable: () => squidUnavailable(),
    start: (ctx) => startSquid(ctx, { accessLog: true }),
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
    name: 'llhttp-minimal',
    description: 'opt-in: http.Server + a lean upstream client on `net`, responses parsed by Node\'s native llhttp' +
      ' binding (`HTTPParser`), LIFO idle sockets per origin, no policy: the floor of a client of our own',
    optIn: true,
    unavailable: () => null,
    start: benchScript('llhttp-minimal', true),
  },
  {
    name: 'node-hello',
    description: 'a one-file Node http server answering directly on the proxy core: the "0.5 × Node" anchor',
    unavailable: () => null,
    start: benchScript('node-hello', false),
  },
]);

/**
 * `hopwise-baseline` and `hopwise-baseline-default`: hopwise from another checkout (`--baseline DIR`, built), with
 * logging off and in its default config, run side by side with this one, so an optimisation's before and after are
 * measured in the same run under the same conditions.
 * @param {string} root
 * @param {string[] | null} flags  its extra flags (null: the same as hopwise's)
 * @returns {TargetDef[]}
 */
export function baselineTargets(root, flags) {
  /** @type {(ctx: TargetContext) => string[]} */
  const flagsOf = (ctx) => flags ?? ctx.hopwiseArgs;
  const unavailable = () => hopwiseUnavailable(root);
  return [
    {
      name: 'hopwise-baseline',
      description: `hopwise built from ${root} (the "before" of a comparison), logging off like \`hopwise\``,
      unavailable,
      start: (ctx) => startHopwise(ctx, { root, flags: flagsOf(ctx) }),
    },
    {
      name: 'hopwise-baseline-default',
      description: `hopwise built from ${root}, default config like \`hopwise-default\``,
      unavailable,
      start: (ctx) => startHopwise(ctx, { root, flags: flagsOf(ctx), logging: 'default' }),
    },
  ];
}

/**
 * Resolves the names asked for (null: all) to definitions, in the canonical order; throws on an unknown name.
 * @param {string[] | null} names
 * @param {string | null} [baseline]  a checkout of hopwise to compare with (adds `hopwise-baseline`)
 * @param {string[] | null} [baselineFlags]  its flags, when not the same as hopwise's
 * @returns {TargetDef[]}
 */
export function selectTargets(names, baseline = null, baselineFlags = null) {
  const all = baseline === null ? [...TARGETS] : [...TARGETS, ...baselineTargets(baseline, baselineFlags)];
  if (names === null) return all.filter((t) => !t.optIn);
  const known = new Set(all.map((t) => t.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new Error(`unknown target(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  return all.filter((t) => names.includes(t.name));
}
