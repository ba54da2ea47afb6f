/**
 * `hopwise demo pooling` (SPEC §9.2, §4.1): the same N requests, each from a client that says `Connection: close`,
 * through naive mode (http-proxy-3 defaults: one upstream connection per request) and through hopwise (one pool per
 * origin, independent of the client connections). Each run has its own scripted origin, which counts the TCP
 * connections it accepts; TIME_WAIT sockets are read from /proc/net/tcp*. The timeline keeps the first requests only.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Config } from '../../config/schema.js';
import { createNaiveProxy } from '../naive.js';
import type { BeforeTraffic, ConnectionLane, DemoResult, Fact, Scenario } from '../timeline.js';
import { HandshakeMeter, laneRecorder } from './pooling-measure.js';
import { TimelineRecorder, ms } from '../timeline.js';
import { startDemoHopwise } from './hopwise.js';
import { ScriptedOrigin, type OriginEvent } from './scripted-origin.js';
import { newSince, timeWaitSnapshot } from './time-wait.js';
import { requestLabel, responseLabel } from './wiring.js';

export interface PoolingDemoOptions {
  readonly config: Config;
  /** Requests per run; 500 by default. */
  readonly requests?: number;
  /** Clients in flight at once; 8 by default. */
  readonly concurrency?: number;
  /** The origin's keep-alive idle timeout; 5000 ms by default (Node's). */
  readonly idleTimeoutMs?: number;
  /** Called when a run's listeners are up, before its traffic (a packet capture starts there). */
  readonly beforeTraffic?: BeforeTraffic;
}

/** Requests drawn on the timeline; the rest are counted only. */
const DRAWN = 3;
/** Later requests drawn because they travelled on a connection opened before (hopwise's reuse, made visible). */
const REUSED_DRAWN = 3;

/** One request on its own client connection (`Connection: close`); resolves with the status line. */
function oneRequest(proxyPort: number, originPort: number, i: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: proxyPort });
    let received = '';
    const timer = setTimeout(() => socket.destroy(new Error(`request ${i}: no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('connect', () =>
      socket.write(`GET http://127.0.0.1:${originPort}/r${i} HTTP/1.1\r\nHost: 127.0.0.1:${originPort}\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received.slice(0, received.indexOf('\r\n')));
    });
  });
}

interface RunOutcome {
  readonly ok: number;
  readonly failed: number;
  readonly totalMs: number;
}

async function drive(proxyPort: number, originPort: number, n: number, concurrency: number, rec: TimelineRecorder, lane: string): Promise<RunOutcome> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) {
      if (i < DRAWN) rec.message('client', lane, `GET /r${i} HTTP/1.1 · Connection: close (new client connection)`, 'request');
      const status = await oneRequest(proxyPort, originPort, i, 10_000).catch(() => '');
      if (/^HTTP\/1\.[01] 200 /.test(status)) ok++;
      else failed++;
      if (i < DRAWN) rec.message(lane, 'client', `${status.replace(/^HTTP\/\d\.\d /, '') || 'no answer'}, then FIN`, 'response');
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, () => worker()));
  return { ok, failed, totalMs: Math.round((performance.now() - started) * 10) / 10 };
}

/** Draws the origin's side of the first requests, and of the first ones that travelled on a connection opened before. */
function originSide(rec: TimelineRecorder, lane: string, pooled: boolean): (e: OriginEvent) => void {
  const drawn = new Set<string>();
  let reusedDrawn = 0;
  return (e) => {
    if (e.type === 'request') {
      const path = e.requestLine.split(' ')[1] ?? '';
      const early = /^\/r[0-9]+$/.test(path) && Number(path.slice(2)) < DRAWN;
      const reuse = e.n > 1 && reusedDrawn < REUSED_DRAWN;
      if (!early && !reuse) return;
      if (!early) reusedDrawn++;
      drawn.add(`${e.conn}:${e.n}`);
      const on =
        e.n > 1
          ? `reuses ${pooled ? 'pooled ' : ''}connection #${e.conn} (its request ${e.n})`
          : `opens ${pooled ? 'pooled ' : ''}connection #${e.conn}${pooled ? '' : ' for this one request'}`;
      rec.message(lane, 'origin', `${requestLabel(e.requestLine, e.headers)} · ${on}`, e.n > 1 ? 'good' : 'request');
    } else if (e.type === 'response' && drawn.has(`${e.conn}:${e.n}`)) {
      const head = e.head.split('\r\n');
      const headers = head.slice(1).map((l): [string, string] => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
      rec.message('origin', lane, responseLabel(head[0] ?? '', headers) + (e.keepAlive ? ' · stays open for the next request' : ', then FIN'), 'response');
    }
  };
}

type RunOptions = Required<Omit<PoolingDemoOptions, 'config' | 'beforeTraffic'>> & Pick<PoolingDemoOptions, 'config' | 'beforeTraffic'>;

async function run(which: 'naive' | 'hopwise', opts: RunOptions): Promise<Scenario> {
  const rec = new TimelineRecorder();
  const lane = which === 'naive' ? 'naive proxy' : 'hopwise';
  const toTimeline = originSide(rec, lane, which === 'hopwise');
  const perConnection = laneRecorder(rec);
  const origin = new ScriptedOrigin({
    idleTimeoutMs: opts.idleTimeoutMs,
    onEvent: (e) => {
      toTimeline(e);
      perConnection.onEvent(e);
    },
  });
  const naive = which === 'naive' ? createNaiveProxy() : undefined;
  const hopwise = which === 'hopwise' ? await startDemoHopwise(opts.config, {}) : undefined;
  try {
    const originPort = await origin.listen();
    const proxyPort = naive !== undefined ? (await naive.listen()).port : (hopwise?.port ?? 0);
    const ports = { [lane]: proxyPort, origin: originPort };
    await opts.beforeTraffic?.(which, ports);
    const before = await timeWaitSnapshot(originPort);
    const handshakes = new HandshakeMeter(originPort);
    rec.restart();
    const outcome = await drive(proxyPort, originPort, opts.requests, opts.concurrency, rec, lane).finally(() => handshakes.stop());
    const timeWait = newSince(before, await timeWaitSnapshot(originPort));
    const upstream = hopwise?.stats().upstream.totals;
    if (opts.requests > DRAWN) rec.note('client', `… and ${opts.requests - DRAWN} more requests, ${opts.concurrency} at a time`, 'info');
    const facts: Record<string, Fact> = {
      requests: opts.requests,
      concurrency: opts.concurrency,
      ok: outcome.ok,
      failed: outcome.failed,
      totalMs: outcome.totalMs,
      upstreamConnections: origin.connections,
      originRequests: origin.requests,
      timeWaitAtOriginPort: timeWait,
      upstreamSocketsCreated: upstream?.socketsCreated ?? origin.connections,
      reuseRatio: upstream?.reuseRatio ?? 0,
      maxSockets: hopwise?.config.upstream.maxSockets ?? null,
      handshakes: handshakes.count,
      handshakeMs: Math.round(handshakes.totalMs * 10) / 10,
    };
    const connections: ConnectionLane[] = [...perConnection.lanes.values()];
    return rec.scenario({
      id: which,
      title: which === 'naive' ? `${opts.requests} requests → naive mode (http-proxy-3 defaults) → origin` : `${opts.requests} requests → hopwise → origin`,
      lanes: ['client', lane, 'origin'],
      hops: [
        { between: ['client', lane], connections: opts.requests, summary: 'one client connection per request (the clients say Connection: close)' },
        {
          between: [lane, 'origin'],
          connections: origin.connections,
          summary:
            which === 'naive'
              ? 'one upstream connection per request: connect, request, close'
              : `pooled: ${origin.connections} connection(s) carried ${origin.requests} requests`,
        },
      ],
      facts,
      ports,
      connections,
    });
  } finally {
    naive?.destroy();
    await hopwise?.close();
    await origin.close();
  }
}

/** Runs naive mode, then hopwise, with the same requests. */
export async function runPoolingDemo(opts: PoolingDemoOptions): Promise<DemoResult> {
  const full: RunOptions = { config: opts.config, beforeTraffic: opts.beforeTraffic, requests: opts.requests ?? 500, concurrency: opts.concurrency ?? 8, idleTimeoutMs: opts.idleTimeoutMs ?? 5000 };
  const naive = await run('naive', full);
  const hopwise = await run('hopwise', full);
  const n = naive.facts;
  const h = hopwise.facts;
  const tw = (v: Fact | undefined): string => (v == null ? 'unavailable (no /proc/net/tcp)' : String(v));
  const saved = Number(n.upstreamConnections) - Number(h.upstreamConnections);
  return {
    demo: 'pooling',
    title: 'What pooling saves: the same requests with and without upstream connection reuse',
    params: { requests: full.requests, concurrency: full.concurrency, idleTimeoutMs: full.idleTimeoutMs },
    scenarios: [naive, hopwise],
    comparison: {
      columns: ['', 'naive mode', 'hopwise'],
      rows: [
        ['upstream connections opened', String(n.upstreamConnections), String(h.upstreamConnections)],
        ['TCP handshakes to the origin', String(n.upstreamConnections), `${String(h.upstreamConnections)} (${saved} saved)`],
        ['time waiting for those handshakes (sum)', ms(Number(n.handshakeMs)), ms(Number(h.handshakeMs))],
        ['total time', ms(Number(n.totalMs)), ms(Number(h.totalMs))],
        ['TIME_WAIT sockets at the origin port', tw(n.timeWaitAtOriginPort), tw(h.timeWaitAtOriginPort)],
        ['upstream reuse ratio', '0', String(h.reuseRatio)],
        ['failed requests', String(n.failed), String(h.failed)],
      ],
    },
    explanation: [
      'Both proxies got the same requests, each on its own client connection. Naive mode sends every request on a ' +
        'new upstream connection with Connection: close: a handshake per request, and the closing side keeps a ' +
        'TIME_WAIT socket for 60 s (on Linux) per request.',
      `hopwise keeps one pool per origin, independent of the client connections: at most ${String(h.maxSockets)} ` +
        'sockets, reused for request after request. Its pooled sockets stay open for the next requests, so none is ' +
        'in TIME_WAIT yet; when they retire, each leaves one.',
    ],
  };
}
