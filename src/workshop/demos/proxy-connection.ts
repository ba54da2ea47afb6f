/**
 * `hopwise demo proxy-connection` (SPEC §9.2; HTTP: The Definitive Guide §4.5.6.6): the browsers' workaround,
 * `Proxy-Connection: Keep-Alive`, sent by the same HTTP/1.0 client through three chains, each with its own origin:
 *   (a) client → dumb proxy → origin: the origin ignores the unknown header and closes — no hang;
 *   (b) client → hopwise → dumb proxy (hopwise's parent) → origin: hopwise strips Proxy-Connection, answers the
 *       HTTP/1.0 client with Connection: close, and (configured for a legacy parent) never reuses its connection to
 *       the dumb proxy;
 *   (c) client → naive smart proxy → dumb proxy → origin: the smart proxy upgrades Proxy-Connection to
 *       Connection: Keep-Alive, the dumb proxy relays it, and the hang is back.
 *
 * Wiring of (b): a real chain. hopwise runs as the forward proxy it is, with the dumb proxy as its parent
 * (`upstream.proxy` and an `upstream.proxyRules` entry, because loopback destinations otherwise go direct), so it sends
 * the dumb proxy absolute-form requests (RFC 9112 §3.2.2) over its pool for that parent. The client sends the very
 * same bytes as in (a) and (c).
 */
import type { DeepPartial } from '../../config/merge.js';
import type { Config, ConfigInput } from '../../config/schema.js';
import type { TelemetryEvent } from '../../observability/events.js';
import { createDumbProxy } from '../dumb-proxy.js';
import type { BeforeTraffic, DemoResult, Fact, Scenario } from '../timeline.js';
import { TimelineRecorder, ms } from '../timeline.js';
import { keepAliveRequests, spanThreshold } from './dumb-proxy.js';
import { startDemoHopwise, type DemoHopwise } from './hopwise.js';
import { NaiveSmartProxy } from './naive-smart-proxy.js';
import { runKeepAliveClient, type RequestOutcome } from './scripted-client.js';
import { ScriptedOrigin, type OriginEvent } from './scripted-origin.js';
import type { ClientTimes } from './wiring.js';
import { clientEvents, dumbEvents, heldSpans, hopwiseEvents, longestWait, originEvents, smartEvents, stallSpans } from './wiring.js';

export interface ProxyConnectionDemoOptions {
  readonly config: Config;
  /** The origin's keep-alive idle timeout; 3000 ms by default. */
  readonly idleTimeoutMs?: number;
  /**
   * Chain (b): configure hopwise for a legacy parent, i.e. never reuse a connection to it (an `upstream.origins`
   * entry for the parent with `maxRequestsPerSocket: 1`, so every request to it carries `Connection: close`). True by
   * default; false shows what default pooling does towards a dumb parent (one stall, then the stale retry).
   */
  readonly legacyNextHop?: boolean;
  /** Called when a chain's listeners are up, before its traffic (a packet capture starts there). */
  readonly beforeTraffic?: BeforeTraffic;
}

/**
 * hopwise's settings for chain (b): the dumb proxy at `parent` is its parent for every destination. The rule is needed
 * because loopback destinations (the demo's origin) go direct unless a rule says otherwise. `legacy`: hopwise is also
 * told that this parent cannot keep a connection persistent (it cannot recognise one from outside), so it never
 * reuses a connection to it; its other upstreams would keep pooling.
 */
export function dumbParentSettings(parent: string, legacy: boolean): DeepPartial<ConfigInput> {
  return {
    upstream: {
      proxy: parent,
      proxyRules: [{ hosts: ['127.0.0.1'], proxy: parent }],
      ...(legacy ? { origins: [{ origin: parent, maxRequestsPerSocket: 1 }] } : {}),
    },
  };
}

type Chain = 'a' | 'b' | 'c';

const TITLES: Record<Chain, string> = {
  a: '(a) client → dumb proxy → origin',
  b: "(b) client → hopwise → dumb proxy (hopwise's parent) → origin",
  c: '(c) client → naive smart proxy → dumb proxy → origin',
};

const LANES: Record<Chain, string[]> = {
  a: ['client', 'dumb proxy', 'origin'],
  b: ['client', 'hopwise', 'dumb proxy', 'origin'],
  c: ['client', 'naive smart proxy', 'dumb proxy', 'origin'],
};

/** What the origin received, across all its requests. */
interface OriginSaw {
  proxyConnection: boolean;
  connectionKeepAlive: boolean;
}

/** The participants of one chain, up and listening; `entry` is where the client connects. */
interface RunningChain {
  readonly entry: number;
  readonly originPort: number;
  readonly origin: ScriptedOrigin;
  readonly saw: OriginSaw;
  readonly dumbConnections: () => number;
  /** Every request target the dumb proxy read, as received (absolute-form from a proxy or client in front of it). */
  readonly dumbTargets: readonly string[];
  readonly hopwise: DemoHopwise | undefined;
  /** The route of each request hopwise forwarded, from its access records: its parent's URL, or `direct`. */
  readonly hopwiseRoutes: readonly string[];
  /** Each listener's port, by participant. */
  readonly ports: Readonly<Record<string, number>>;
}

/** Starts origin, dumb proxy, then the chain's first proxy; registers each one's stop in `stops` as it goes. */
async function startChain(
  chain: Chain,
  rec: TimelineRecorder,
  config: Config,
  idleMs: number,
  stops: (() => unknown)[],
  legacyNextHop: boolean,
): Promise<RunningChain> {
  const lanes = LANES[chain];
  const saw: OriginSaw = { proxyConnection: false, connectionKeepAlive: false };
  const toTimeline = originEvents(rec, { last: lanes[lanes.length - 2] ?? '', origin: 'origin' });
  const origin = new ScriptedOrigin({
    idleTimeoutMs: idleMs,
    onEvent: (e: OriginEvent) => {
      toTimeline(e);
      if (e.type !== 'request') return;
      saw.proxyConnection ||= e.headers.some(([k]) => k.toLowerCase() === 'proxy-connection');
      saw.connectionKeepAlive ||= e.headers.some(([k, v]) => k.toLowerCase() === 'connection' && /keep-alive/i.test(v));
    },
  });
  stops.push(() => origin.close());
  const originPort = await origin.listen();
  let dumbConnections = 0;
  const dumbTargets: string[] = [];
  const dumbToTimeline = dumbEvents(rec, { prev: lanes[1] ?? '', dumb: 'dumb proxy', drawPrevHop: chain !== 'a', absoluteForm: chain === 'b' });
  const dumb = createDumbProxy({
    onEvent: (e) => {
      dumbToTimeline(e);
      if (e.type === 'client-connected') dumbConnections++;
      if (e.type === 'request-head') dumbTargets.push(e.target);
    },
  });
  stops.push(() => dumb.destroy());
  const dumbPort = (await dumb.listen()).port;
  const hopwiseRoutes: string[] = [];
  const common = { originPort, origin, saw, dumbConnections: () => dumbConnections, dumbTargets, hopwiseRoutes };
  const ports = { 'dumb proxy': dumbPort, origin: originPort };
  if (chain === 'b') {
    const hopwise = await startHopwiseWithDumbParent(config, dumbPort, legacyNextHop, rec, (route) => hopwiseRoutes.push(route));
    stops.push(() => hopwise.close());
    return { ...common, entry: hopwise.port, hopwise, ports: { hopwise: hopwise.port, ...ports } };
  }
  if (chain === 'c') {
    const smart = new NaiveSmartProxy({
      parent: { host: '127.0.0.1', port: dumbPort },
      onEvent: smartEvents(rec, { smart: 'naive smart proxy', next: 'dumb proxy' }),
    });
    stops.push(() => smart.close());
    const entry = await smart.listen();
    return { ...common, entry, hopwise: undefined, ports: { 'naive smart proxy': entry, ...ports } };
  }
  return { ...common, entry: dumbPort, hopwise: undefined, ports };
}

/**
 * Chain (b)'s wiring, in one place: hopwise as a forward proxy with the dumb proxy as its parent (see
 * {@link dumbParentSettings}), told not to reuse connections to it unless `legacyParent` is off. `onRoute` receives
 * the route of each request from hopwise's access records, the same field its access log writes.
 */
async function startHopwiseWithDumbParent(
  config: Config,
  dumbPort: number,
  legacyParent: boolean,
  rec: TimelineRecorder,
  onRoute: (route: string) => void,
): Promise<DemoHopwise> {
  const toTimeline = hopwiseEvents(rec, { hopwise: 'hopwise', next: 'dumb proxy', drawReused: true, parent: true });
  return startDemoHopwise(config, dumbParentSettings(`http://127.0.0.1:${dumbPort}`, legacyParent), (e: TelemetryEvent) => {
    toTimeline(e);
    if (e.type === 'request') onRoute(e.record.route ?? 'direct');
  });
}

async function runChain(chain: Chain, config: Config, idleMs: number, legacyNextHop: boolean, beforeTraffic: BeforeTraffic | undefined): Promise<Scenario> {
  const rec = new TimelineRecorder();
  const lanes = LANES[chain];
  const [client = '', first = ''] = lanes;
  const times: ClientTimes = { closedUnanswered: new Map() };
  const stops: (() => unknown)[] = [];
  try {
    const running = await startChain(chain, rec, config, idleMs, stops, legacyNextHop);
    await beforeTraffic?.(chain, running.ports);
    rec.restart();
    const requests = keepAliveRequests(running.originPort, 'Proxy-Connection');
    const outcomes = await runKeepAliveClient({
      port: running.entry,
      requests,
      clock: () => rec.now(),
      timeoutMs: idleMs * 3 + 5000,
      onEvent: clientEvents(rec, { client, first }, requests, times),
    });
    const threshold = spanThreshold(idleMs);
    const spans = [...stallSpans(outcomes, times, [client, first], threshold), ...heldSpans(rec, [lanes[lanes.length - 2] ?? '', 'origin'], threshold)];
    for (const s of spans) rec.span(s.kind, s.between, s.start, s.end, s.label);
    const facts = chainFacts(running, outcomes, times, idleMs, rec.now());
    return rec.scenario({ id: chain, title: TITLES[chain], lanes, hops: [], facts, ports: running.ports });
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

function chainFacts(running: RunningChain, outcomes: readonly RequestOutcome[], times: ClientTimes, idleMs: number, now: number): Record<string, Fact> {
  const longest = longestWait(outcomes, times);
  const upstream = running.hopwise?.stats().upstream.totals;
  return {
    idleTimeoutMs: idleMs,
    responses: outcomes.filter((o) => o.status !== null).length,
    longestWaitMs: longest,
    stalled: longest >= idleMs * 0.5,
    unansweredCloses: times.closedUnanswered.size,
    clientConnections: Math.max(0, ...outcomes.map((o) => o.conn)),
    dumbProxyConnections: running.dumbConnections(),
    absoluteFormAtDumbProxy: running.dumbTargets.length > 0 && running.dumbTargets.every((t) => /^http:\/\//i.test(t)),
    requestTargetsAtDumbProxy: running.dumbTargets.join(' '),
    hopwiseRoute: running.hopwise === undefined ? null : [...new Set(running.hopwiseRoutes)].join(' '),
    originConnections: running.origin.connections,
    proxyConnectionAtOrigin: running.saw.proxyConnection,
    connectionKeepAliveAtOrigin: running.saw.connectionKeepAlive,
    totalMs: Math.round(((outcomes.at(-1)?.doneAt ?? now) - (outcomes[0]?.firstSentAt ?? 0)) * 10) / 10,
    hopwiseStaleRetries: upstream?.staleRetries ?? null,
    hopwiseReusedRequests: upstream?.reusedRequests ?? null,
  };
}

function withHops(s: Scenario): Scenario {
  const f = s.facts;
  const atOrigin = f.connectionKeepAliveAtOrigin === true ? 'Connection: Keep-Alive reached the origin' : 'no keep-alive reached the origin';
  const hops: Record<string, Scenario['hops']> = {
    a: [
      { between: ['client', 'dumb proxy'], connections: Number(f.clientConnections), summary: 'closed after each response: the origin said Connection: close' },
      { between: ['dumb proxy', 'origin'], connections: Number(f.originConnections), summary: `Proxy-Connection relayed verbatim, unknown to the origin; ${atOrigin}` },
    ],
    b: [
      { between: ['client', 'hopwise'], connections: Number(f.clientConnections), summary: 'HTTP/1.0 client: Connection: close, never kept alive; Proxy-Connection stripped' },
      {
        between: ['hopwise', 'dumb proxy'],
        connections: Number(f.dumbProxyConnections),
        summary:
          `hopwise's parent: absolute-form requests, route ${String(f.hopwiseRoute)}; ` +
          `${String(f.hopwiseReusedRequests)} request(s) on a reused socket, ${String(f.hopwiseStaleRetries)} stale retry(ies)`,
      },
      { between: ['dumb proxy', 'origin'], connections: Number(f.originConnections), summary: atOrigin },
    ],
    c: [
      { between: ['client', 'naive smart proxy'], connections: Number(f.clientConnections), summary: 'kept alive: the smart proxy passed the origin’s Keep-Alive back' },
      { between: ['naive smart proxy', 'dumb proxy'], connections: Number(f.dumbProxyConnections), summary: 'Proxy-Connection upgraded to Connection: Keep-Alive; one upstream connection per client connection' },
      { between: ['dumb proxy', 'origin'], connections: Number(f.originConnections), summary: `${atOrigin}: held open until the idle timeout` },
    ],
  };
  return { ...s, hops: hops[s.id] ?? [] };
}

/** Runs (a), (b) and (c) one after the other. */
export async function runProxyConnectionDemo(opts: ProxyConnectionDemoOptions): Promise<DemoResult> {
  const idleMs = opts.idleTimeoutMs ?? 3000;
  const scenarios: Scenario[] = [];
  const legacy = opts.legacyNextHop ?? true;
  for (const chain of ['a', 'b', 'c'] as const) scenarios.push(withHops(await runChain(chain, opts.config, idleMs, legacy, opts.beforeTraffic)));
  const cell = (key: string): string[] => scenarios.map((s) => {
    const v = s.facts[key];
    return typeof v === 'number' && key.endsWith('Ms') ? ms(v) : String(v);
  });
  return {
    demo: 'proxy-connection',
    title: 'Proxy-Connection: the workaround, and where it breaks',
    params: { idleTimeoutMs: idleMs, requests: 2 },
    scenarios,
    comparison: {
      columns: ['', '(a) dumb', '(b) hopwise → dumb parent', '(c) smart → dumb'],
      rows: [
        ['Connection: Keep-Alive at the origin', ...cell('connectionKeepAliveAtOrigin')],
        ['Proxy-Connection at the origin', ...cell('proxyConnectionAtOrigin')],
        ['longest wait for an answer', ...cell('longestWaitMs')],
        ['closed with no answer', ...cell('unansweredCloses')],
        ['both responses after', ...cell('totalMs')],
      ],
    },
    explanation: [
      '(a) Browsers sent Proxy-Connection instead of Connection to proxies. A dumb proxy relays it like any header, ' +
        'but the origin does not know it, does not grant keep-alive, and closes: the dumb proxy sees the close, ' +
        'nothing hangs.',
      '(c) A smart proxy that understands Proxy-Connection turns it into Connection: Keep-Alive for its next hop. If ' +
        'that hop is a dumb proxy, the header reaches the origin again and the original hang is back, one hop further ' +
        'in: Proxy-Connection only works with a single proxy. RFC 9112 Appendix C.2.2 tells clients not to send it.',
      '(b) hopwise strips Proxy-Connection and never keeps an HTTP/1.0 client alive, so the client never waits on a ' +
        'connection it wrongly believes persistent. Its own upstream hop needs one more thing: here the dumb proxy is ' +
        "hopwise's parent (upstream.proxy, and a proxyRules entry because loopback destinations go direct), and a dumb " +
        'proxy breaks every persistent connection that crosses it; no proxy can recognise one from outside (it relays ' +
        "the origin's HTTP/1.1 status line). hopwise is told so — an upstream.origins entry for the parent with " +
        'maxRequestsPerSocket: 1 — and sends Connection: close to it, so the dumb proxy sees a close after every ' +
        'response. ' +
        (legacy
          ? 'With default pooling instead, the request on the reused socket would wait for the idle timeout and be ' +
            'answered by the stale retry: run the demo with --pooled-next-hop to see it.'
          : 'This run used default pooling: the request on the reused socket waited for the idle timeout and was ' +
            'answered by the stale retry.'),
    ],
  };
}
