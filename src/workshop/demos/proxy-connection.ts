/**
 * `hopwise demo proxy-connection` (SPEC §9.2; HTTP: The Definitive Guide §4.5.6.6): the browsers' workaround,
 * `Proxy-Connection: Keep-Alive`, sent by the same HTTP/1.0 client through three chains, each with its own origin:
 *   (a) client → dumb proxy → origin: the origin ignores the unknown header and closes — no hang;
 *   (b) client → hopwise → dumb proxy → origin: hopwise strips Proxy-Connection, answers the HTTP/1.0 client with
 *       Connection: close, and (configured for a legacy next hop) never reuses its connection to the dumb proxy;
 *   (c) client → naive smart proxy → dumb proxy → origin: the smart proxy upgrades Proxy-Connection to
 *       Connection: Keep-Alive, the dumb proxy relays it, and the hang is back.
 *
 * Wiring of (b): hopwise has no parent-proxy setting, so it runs in gateway mode with the dumb proxy as its fixed
 * target, and the dumb proxy is a dumb gateway in front of the origin (`createDumbProxy({ origin })`, like the
 * HTTP/1.0 reverse proxies and interception caches of the time). The client sends the very same bytes as in (a) and
 * (c): gateway mode accepts the absolute-form target (RFC 9112 §3.2.2) and keeps the client's Host.
 */
import type { Config } from '../../config/schema.js';
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
   * Chain (b): configure hopwise for a legacy next hop, i.e. never reuse a connection to it (an `upstream.origins`
   * entry with `maxRequestsPerSocket: 1`, so every upstream request carries `Connection: close`). True by default;
   * false shows what default pooling does through a dumb hop (one stall, then the stale retry).
   */
  readonly legacyNextHop?: boolean;
  /** Called when a chain's listeners are up, before its traffic (a packet capture starts there). */
  readonly beforeTraffic?: BeforeTraffic;
}

/**
 * What hopwise needs to be told about a next hop it cannot recognise as pre-HTTP/1.1 (see chain (b)): no reuse of a
 * connection to that one origin; every other origin keeps pooling.
 */
export function legacyNextHopSettings(origin: string): { upstream: { origins: [{ origin: string; maxRequestsPerSocket: 1 }] } } {
  return { upstream: { origins: [{ origin, maxRequestsPerSocket: 1 }] } };
}

type Chain = 'a' | 'b' | 'c';

const TITLES: Record<Chain, string> = {
  a: '(a) client → dumb proxy → origin',
  b: '(b) client → hopwise → dumb proxy → origin',
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
  readonly hopwise: DemoHopwise | undefined;
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
  const dumbToTimeline = dumbEvents(rec, { prev: lanes[1] ?? '', dumb: 'dumb proxy', drawPrevHop: chain !== 'a' });
  const dumb = createDumbProxy({
    origin: { host: '127.0.0.1', port: originPort },
    onEvent: (e) => {
      dumbToTimeline(e);
      if (e.type === 'client-connected') dumbConnections++;
    },
  });
  stops.push(() => dumb.destroy());
  const dumbPort = (await dumb.listen()).port;
  const common = { originPort, origin, saw, dumbConnections: () => dumbConnections };
  const ports = { 'dumb proxy': dumbPort, origin: originPort };
  if (chain === 'b') {
    const hopwise = await startHopwiseInFrontOfDumb(config, dumbPort, legacyNextHop, rec);
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
 * Chain (b)'s wiring, in one place: how hopwise is put in front of the dumb proxy. hopwise has no parent-proxy
 * setting yet, so it runs in gateway mode with the dumb proxy as its fixed target (the dumb proxy then acts as a dumb
 * gateway in front of the origin), told not to reuse connections to it unless `legacyNextHop` is off. When hopwise
 * can use a parent proxy, this function is where the chain becomes client → hopwise → dumb proxy (as hopwise's
 * parent) → origin; nothing else in the demo needs to change.
 */
async function startHopwiseInFrontOfDumb(config: Config, dumbPort: number, legacyNextHop: boolean, rec: TimelineRecorder): Promise<DemoHopwise> {
  const dumbOrigin = `http://127.0.0.1:${dumbPort}`;
  return startDemoHopwise(
    config,
    { mode: 'gateway', target: dumbOrigin, ...(legacyNextHop ? legacyNextHopSettings(dumbOrigin) : {}) },
    hopwiseEvents(rec, { hopwise: 'hopwise', next: 'dumb proxy', drawReused: true }),
  );
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
        summary: `hopwise's own pooled hop: ${String(f.hopwiseReusedRequests)} request(s) on a reused socket, ${String(f.hopwiseStaleRetries)} stale retry(ies)`,
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
      columns: ['', '(a) dumb', '(b) hopwise → dumb', '(c) smart → dumb'],
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
        'connection it wrongly believes persistent. Its own upstream hop needs one more thing: a dumb proxy breaks ' +
        'every persistent connection that crosses it, and no proxy can recognise one from outside (it relays the ' +
        "origin's HTTP/1.1 status line). hopwise is told so — an upstream.origins entry for this next hop with " +
        'maxRequestsPerSocket: 1 — ' +
        'and sends Connection: close upstream, so the dumb proxy sees a close after every response. ' +
        (legacy
          ? 'With default pooling instead, the request on the reused socket would wait for the idle timeout and be ' +
            'answered by the stale retry: run the demo with --pooled-next-hop to see it.'
          : 'This run used default pooling: the request on the reused socket waited for the idle timeout and was ' +
            'answered by the stale retry.'),
    ],
  };
}
