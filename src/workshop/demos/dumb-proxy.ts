/**
 * `hopwise demo dumb-proxy` (SPEC §9.2; HTTP: The Definitive Guide §4.5.6): the same two HTTP/1.0 keep-alive requests
 * through the workshop dumb proxy and through hopwise, each in front of its own scripted origin with an exact idle
 * timeout. Everything is real loopback sockets; the result is the annotated timeline and the measured facts.
 */
import type { Config } from '../../config/schema.js';
import { createDumbProxy } from '../dumb-proxy.js';
import type { BeforeTraffic, DemoResult, Fact, Scenario } from '../timeline.js';
import { TimelineRecorder, ms } from '../timeline.js';
import { startDemoHopwise } from './hopwise.js';
import { runKeepAliveClient, type RequestOutcome } from './scripted-client.js';
import { ScriptedOrigin } from './scripted-origin.js';
import type { ClientTimes } from './wiring.js';
import { clientEvents, dumbEvents, heldSpans, hopwiseEvents, longestWait, originEvents, stallSpans } from './wiring.js';

export interface DumbProxyDemoOptions {
  /** hopwise's configuration (the demo moves it to an ephemeral loopback port). */
  readonly config: Config;
  /** The origin's keep-alive idle timeout; 3000 ms by default. */
  readonly idleTimeoutMs?: number;
  /** Called when a scenario's listeners are up, before its traffic (a packet capture starts there). */
  readonly beforeTraffic?: BeforeTraffic;
}

/** Two requests, one connection, `Connection: Keep-Alive`: the book's HTTP/1.0 browser. */
export function keepAliveRequests(originPort: number, header = 'Connection'): string[] {
  const host = `127.0.0.1:${originPort}`;
  return ['/first', '/second'].map((path) => `GET http://${host}${path} HTTP/1.0\r\nHost: ${host}\r\n${header}: Keep-Alive\r\n\r\n`);
}

/** A wait longer than this (and than a quarter of the idle timeout) is drawn as a stall or a held connection. */
export const spanThreshold = (idleMs: number): number => Math.max(20, Math.min(100, idleMs / 4));

/** What the scripted client saw through one chain, with the stall and held spans already recorded. */
interface ClientRun {
  readonly outcomes: readonly RequestOutcome[];
  readonly times: ClientTimes;
}

/** Runs the two keep-alive requests through `port` and records the spans on the first and last hops. */
async function twoRequests(rec: TimelineRecorder, port: number, originPort: number, proxy: string, idleMs: number): Promise<ClientRun> {
  const times: ClientTimes = { closedUnanswered: new Map() };
  const requests = keepAliveRequests(originPort);
  const outcomes = await runKeepAliveClient({
    port,
    requests,
    clock: () => rec.now(),
    timeoutMs: idleMs * 3 + 5000,
    onEvent: clientEvents(rec, { client: 'client', first: proxy }, requests, times),
  });
  const threshold = spanThreshold(idleMs);
  for (const s of [...stallSpans(outcomes, times, ['client', proxy], threshold), ...heldSpans(rec, [proxy, 'origin'], threshold)]) {
    rec.span(s.kind, s.between, s.start, s.end, s.label);
  }
  return { outcomes, times };
}

async function throughDumb(idleMs: number, beforeTraffic: BeforeTraffic | undefined): Promise<Scenario> {
  const rec = new TimelineRecorder();
  let originClosedAt: number | null = null;
  let ignoredBytes = 0;
  const toTimeline = originEvents(rec, { last: 'dumb proxy', origin: 'origin' });
  const origin = new ScriptedOrigin({
    idleTimeoutMs: idleMs,
    onEvent: (e) => {
      toTimeline(e);
      if (e.type === 'idle-close') originClosedAt ??= rec.now();
    },
  });
  const dumbToTimeline = dumbEvents(rec, { prev: 'client', dumb: 'dumb proxy', drawPrevHop: false });
  const dumb = createDumbProxy({
    onEvent: (e) => {
      dumbToTimeline(e);
      if (e.type === 'client-bytes-ignored') ignoredBytes += e.n;
    },
  });
  try {
    const originPort = await origin.listen();
    const ports = { 'dumb proxy': (await dumb.listen()).port, origin: originPort };
    await beforeTraffic?.('dumb', ports);
    rec.restart();
    const run = await twoRequests(rec, ports['dumb proxy'], originPort, 'dumb proxy', idleMs);
    const facts = dumbFacts(run, idleMs, originClosedAt, ignoredBytes, origin.connections);
    return rec.scenario({
      id: 'dumb',
      title: 'HTTP/1.0 keep-alive client → dumb proxy → origin',
      ports,
      lanes: ['client', 'dumb proxy', 'origin'],
      hops: [
        {
          between: ['client', 'dumb proxy'],
          connections: Number(facts.clientConnections),
          summary: `the client kept connection #1 for its second request; the dumb proxy never read it (${ignoredBytes} bytes ignored)`,
        },
        {
          between: ['dumb proxy', 'origin'],
          connections: origin.connections,
          summary: `held open by the origin's keep-alive until its idle timeout (${idleMs} ms): only that close ends the response`,
        },
      ],
      facts,
    });
  } finally {
    dumb.destroy();
    await origin.close();
  }
}

function dumbFacts(run: ClientRun, idleMs: number, originClosedAt: number | null, ignoredBytes: number, originConnections: number): Record<string, Fact> {
  const [first, second] = run.outcomes;
  const unanswered = run.times.closedUnanswered.get(1);
  const stallMs = unanswered === undefined ? 0 : unanswered - (second?.firstSentAt ?? 0);
  return {
    idleTimeoutMs: idleMs,
    responses: run.outcomes.filter((o) => o.status !== null).length,
    firstResponseMs: first?.doneAt == null ? null : round(first.doneAt - first.firstSentAt),
    stallMs: round(stallMs),
    longestWaitMs: longestWait(run.outcomes, run.times),
    originClosedAt,
    secondResponseAt: second?.doneAt ?? null,
    secondResponseAfterOriginClose: second?.doneAt != null && originClosedAt !== null && second.doneAt >= originClosedAt,
    secondRetried: second?.retried ?? false,
    ignoredBytes,
    clientConnections: Math.max(0, ...run.outcomes.map((o) => o.conn)),
    originConnections,
    totalMs: second?.doneAt == null ? null : round(second.doneAt - (first?.firstSentAt ?? 0)),
  };
}

async function throughHopwise(config: Config, idleMs: number, beforeTraffic: BeforeTraffic | undefined): Promise<Scenario> {
  const rec = new TimelineRecorder();
  const origin = new ScriptedOrigin({ idleTimeoutMs: idleMs, onEvent: originEvents(rec, { last: 'hopwise', origin: 'origin' }) });
  const hopwise = await startDemoHopwise(config, {}, hopwiseEvents(rec, { hopwise: 'hopwise', next: 'origin', drawReused: false }));
  try {
    const ports = { hopwise: hopwise.port, origin: await origin.listen() };
    await beforeTraffic?.('hopwise', ports);
    rec.restart();
    const { outcomes, times } = await twoRequests(rec, hopwise.port, ports.origin, 'hopwise', idleMs);
    const [first, second] = outcomes;
    const upstream = hopwise.stats().upstream.totals;
    const clientConnections = Math.max(0, ...outcomes.map((o) => o.conn));
    return rec.scenario({
      id: 'hopwise',
      title: 'the same client → hopwise → origin',
      ports,
      lanes: ['client', 'hopwise', 'origin'],
      hops: [
        {
          between: ['client', 'hopwise'],
          connections: clientConnections,
          summary: 'HTTP/1.0 client: answered with Connection: close, so it reconnects for its second request',
        },
        {
          between: ['hopwise', 'origin'],
          connections: origin.connections,
          summary: `one pooled upstream socket, reused: ${upstream.requests} requests, ${upstream.reusedRequests} on a reused socket`,
        },
      ],
      facts: {
        idleTimeoutMs: idleMs,
        responses: outcomes.filter((o) => o.status !== null).length,
        longestWaitMs: longestWait(outcomes, times),
        totalMs: second?.doneAt == null ? null : round(second.doneAt - (first?.firstSentAt ?? 0)),
        clientConnections,
        originConnections: origin.connections,
        upstreamSocketsCreated: upstream.socketsCreated,
        upstreamRequests: upstream.requests,
        reusedRequests: upstream.reusedRequests,
        reuseRatio: upstream.reuseRatio,
      },
    });
  } finally {
    await hopwise.close();
    await origin.close();
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;

/** Runs the demo: the dumb path first, then hopwise; resolves with both timelines and the comparison. */
export async function runDumbProxyDemo(opts: DumbProxyDemoOptions): Promise<DemoResult> {
  const idleMs = opts.idleTimeoutMs ?? 3000;
  const dumb = await throughDumb(idleMs, opts.beforeTraffic);
  const hopwise = await throughHopwise(opts.config, idleMs, opts.beforeTraffic);
  const d = dumb.facts;
  const h = hopwise.facts;
  const num = (v: unknown): string => (typeof v === 'number' ? ms(v) : String(v));
  return {
    demo: 'dumb-proxy',
    title: 'Keep-alive behind a proxy that does not understand Connection',
    params: { idleTimeoutMs: idleMs, requests: 2 },
    scenarios: [dumb, hopwise],
    comparison: {
      columns: ['', 'dumb proxy', 'hopwise'],
      rows: [
        ['both responses after', num(d.totalMs), num(h.totalMs)],
        ['longest wait for an answer', num(d.longestWaitMs), num(h.longestWaitMs)],
        ['client connections', String(d.clientConnections), String(h.clientConnections)],
        ['origin connections', String(d.originConnections), String(h.originConnections)],
        ['hang ended by', `the origin's idle timeout (${idleMs} ms)`, 'nothing hung'],
      ],
    },
    explanation: [
      'The client asked for keep-alive with Connection: Keep-Alive. The dumb proxy does not know that header is ' +
        'hop-by-hop: it passed it to the origin, the origin agreed, and the proxy passed the agreement back. The client ' +
        'now believes its connection is persistent, but the proxy reads one request per connection and ends a ' +
        "response only when the origin closes: the second request sat unread until the origin's idle timeout.",
      'hopwise removes Connection and everything it names before forwarding (RFC 9110 §7.6.1), keeps its own ' +
        'persistent connection to the origin, and never keeps an HTTP/1.0 client alive (RFC 9112 §9.3): it answers ' +
        'Connection: close, the client reconnects, and both requests travel on one pooled upstream socket.',
    ],
  };
}
