/**
 * Puts what each participant of a demo observed on one timeline: the scripted client, the scripted origin, the dumb
 * proxy, hopwise (through its telemetry) and the naive smart proxy each report their own events; these adapters turn
 * them into arrows between lifelines and notes. Every arrow is drawn at the time one end actually saw the message.
 */
import type { DumbEvent } from '../dumb-events.js';
import type { HeaderPair } from '../dumb-head.js';
import type { TelemetryEvent } from '../../observability/events.js';
import type { Span, TimelineRecorder } from '../timeline.js';
import { ms } from '../timeline.js';
import type { SmartProxyEvent } from './naive-smart-proxy.js';
import type { ClientEvent, RequestOutcome } from './scripted-client.js';
import type { OriginEvent } from './scripted-origin.js';

/** Header names worth showing on an arrow: the ones this workshop is about. */
const SHOWN = new Set(['connection', 'proxy-connection', 'keep-alive', 'via']);

/** `GET http://h:1/first HTTP/1.0` + headers → `GET /first HTTP/1.0 · Connection: Keep-Alive`. */
export function requestLabel(requestLine: string, headers: readonly HeaderPair[]): string {
  const [method = '', target = '', version = ''] = requestLine.split(' ');
  const path = target.replace(/^[a-z]+:\/\/[^/]*/i, '') || '/';
  return [`${method} ${path} ${version}`, ...shown(headers)].join(' · ');
}

/** `HTTP/1.1 200 OK` + headers → `200 OK · Connection: Keep-Alive`. */
export function responseLabel(statusLine: string, headers: readonly HeaderPair[]): string {
  return [statusLine.replace(/^HTTP\/\d\.\d /, ''), ...shown(headers)].join(' · ');
}

function shown(headers: readonly HeaderPair[]): string[] {
  return headers.filter(([name]) => SHOWN.has(name.toLowerCase())).map(([name, value]) => `${name}: ${value}`);
}

/** Parses a request head written by a demo (request line + header lines) for labels. */
export function headOf(request: string): { line: string; headers: HeaderPair[] } {
  const lines = request.split('\r\n').filter((l) => l !== '');
  const headers = lines.slice(1).map((l): HeaderPair => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]);
  return { line: lines[0] ?? '', headers };
}

/** Times the client saw, for spans and facts. */
export interface ClientTimes {
  /** When a request's connection closed under it with no answer, by request index. */
  readonly closedUnanswered: Map<number, number>;
}

/** Client ↔ first hop. */
export function clientEvents(
  rec: TimelineRecorder,
  lanes: { client: string; first: string },
  requests: readonly string[],
  times: ClientTimes,
): (e: ClientEvent) => void {
  const { client, first } = lanes;
  return (e) => {
    switch (e.type) {
      case 'connect':
        rec.message(client, first, `connect #${e.conn}`, 'info');
        return;
      case 'send': {
        const head = headOf(requests[e.request] ?? '');
        const label = requestLabel(head.line, head.headers) + (e.retry ? ' · (retry)' : '');
        rec.message(client, first, label, 'request', (requests[e.request] ?? '').trimEnd());
        return;
      }
      case 'response':
        rec.message(first, client, responseLabel(e.statusLine, e.headers) + (e.keepAlive ? '  ⇒ keep connection' : ''), 'response');
        return;
      case 'closed':
        if (e.by === 'client') rec.message(client, first, 'FIN', 'close');
        else if (e.pending === null) rec.message(first, client, 'FIN', 'close');
        else times.closedUnanswered.set(e.pending, rec.message(first, client, 'FIN, and no answer', 'problem'));
        return;
      case 'gave-up':
        rec.note(client, `gives up: ${e.why}`, 'problem');
        return;
    }
  };
}

/** Last hop ↔ origin, as the origin saw it. */
export function originEvents(rec: TimelineRecorder, lanes: { last: string; origin: string }): (e: OriginEvent) => void {
  const { last, origin } = lanes;
  return (e) => {
    switch (e.type) {
      case 'connection':
        rec.message(last, origin, `connect #${e.conn}`, 'info');
        return;
      case 'request':
        rec.message(last, origin, requestLabel(e.requestLine, e.headers), 'request');
        return;
      case 'response': {
        const lines = e.head.split('\r\n');
        const head = headOf(lines.join('\r\n'));
        rec.message(origin, last, responseLabel(lines[0] ?? '', head.headers), 'response', e.head);
        return;
      }
      case 'idle-close':
        rec.message(origin, last, `FIN: idle ${e.idleMs} ms`, 'close');
        return;
      case 'peer-closed':
        rec.message(last, origin, 'FIN', 'close');
        return;
    }
  };
}

/**
 * The dumb proxy's own view. When it is the first hop, the client's events already draw the client side; when it
 * sits behind another proxy (`prev`), its events draw that hop. `absoluteForm`: label requests with the target as
 * received (`GET http://127.0.0.1:9000/first HTTP/1.1`), where the point is that a proxy in front sent it
 * absolute-form to the dumb proxy as to its parent.
 */
export function dumbEvents(
  rec: TimelineRecorder,
  lanes: { prev: string; dumb: string; drawPrevHop: boolean; absoluteForm?: boolean },
): (e: DumbEvent) => void {
  const { prev, dumb, drawPrevHop, absoluteForm = false } = lanes;
  return (e) => {
    if (e.type === 'client-bytes-ignored') {
      rec.note(dumb, `ignores ${e.n} bytes: a request it will never read`, 'problem');
      return;
    }
    if (!drawPrevHop) return;
    switch (e.type) {
      case 'client-connected':
        rec.message(prev, dumb, `connect #${e.conn}`, 'info');
        return;
      case 'request-head': {
        const line = `${e.method} ${e.target} ${e.version}`;
        rec.message(prev, dumb, absoluteForm ? [line, ...shown(e.headers)].join(' · ') : requestLabel(line, e.headers), 'request');
        return;
      }
      case 'response-head':
        rec.message(dumb, prev, `${responseLabel(e.statusLine, e.headers)} (relayed)`, 'response');
        return;
      case 'client-closed':
        if (e.initiator === 'proxy') rec.message(dumb, prev, 'FIN (its response ends only now)', 'close');
        else rec.message(prev, dumb, 'FIN', 'close');
        return;
      default:
        return;
    }
  };
}

/**
 * hopwise's telemetry: upstream sockets and retries. `drawReused`: draw a request on a reused socket as an arrow.
 * `parent`: `next` is hopwise's parent proxy, so its sockets are named as sockets to the parent.
 */
export function hopwiseEvents(
  rec: TimelineRecorder,
  lanes: { hopwise: string; next: string; drawReused: boolean; parent?: boolean },
): (e: TelemetryEvent) => void {
  const { hopwise, next, drawReused, parent = false } = lanes;
  const to = parent ? ` to its parent, the ${next}` : '';
  return (e) => {
    switch (e.type) {
      case 'upstream.open':
        rec.note(hopwise, `opens upstream socket u${e.socket}${to}`, 'info');
        return;
      case 'upstream.request':
        if (!e.reused) return;
        if (drawReused) rec.message(hopwise, next, `request on reused socket u${e.socket}${parent ? ' to its parent' : ''}`, 'request');
        else rec.note(hopwise, `reuses upstream socket u${e.socket}`, 'good');
        return;
      case 'upstream.retry':
        rec.note(hopwise, `no answer on a reused socket: retries ${e.method} once on a new one`, 'problem');
        return;
      case 'upstream.close':
        rec.note(hopwise, `upstream socket u${e.socket} closed`, 'info');
        return;
      default:
        return;
    }
  };
}

/** The naive smart proxy: its upgrade of Proxy-Connection, and requests on its tied upstream connection. */
export function smartEvents(rec: TimelineRecorder, lanes: { smart: string; next: string }): (e: SmartProxyEvent) => void {
  const { smart, next } = lanes;
  return (e) => {
    if (e.type === 'forwarded' && e.upgraded) {
      rec.note(smart, 'Proxy-Connection: Keep-Alive ⇒ sends Connection: Keep-Alive', 'problem');
    }
    // The dumb proxy never reads a request on a reused connection, so only this side can draw it.
    if (e.type === 'forwarded' && e.reused) rec.message(smart, next, `${e.requestLine.split(' ')[0] ?? ''} on the same connection`, 'request');
    if (e.type === 'upstream-closed' && e.pending) {
      rec.note(smart, 'upstream closed with a request pending: closes the client, no answer', 'problem');
    }
  };
}

/** A stall span for each request that waited more than `thresholdMs` for anything to happen. */
export function stallSpans(outcomes: readonly RequestOutcome[], times: ClientTimes, lanes: readonly [string, string], thresholdMs: number): Span[] {
  const spans: Span[] = [];
  outcomes.forEach((o, i) => {
    const end = times.closedUnanswered.get(i) ?? o.doneAt;
    if (end === null || end - o.firstSentAt < thresholdMs) return;
    spans.push({ kind: 'stall', between: lanes, start: o.firstSentAt, end, label: `stall ${ms(end - o.firstSentAt)}` });
  });
  return spans;
}

/** The longest wait of any request before its answer or its connection's close, in ms (0 if none waited). */
export function longestWait(outcomes: readonly RequestOutcome[], times: ClientTimes): number {
  let longest = 0;
  outcomes.forEach((o, i) => {
    const end = times.closedUnanswered.get(i) ?? o.doneAt;
    if (end !== null) longest = Math.max(longest, end - o.firstSentAt);
  });
  return Math.round(longest * 10) / 10;
}

/** Spans during which an origin connection sat idle after a keep-alive response, longer than `thresholdMs`. */
export function heldSpans(rec: TimelineRecorder, lanes: readonly [string, string], thresholdMs: number): Span[] {
  const spans: Span[] = [];
  const [last, origin] = lanes;
  let since: number | undefined;
  for (const step of rec.steps) {
    if (step.kind !== 'message') continue;
    const onHop = (step.from === origin && step.to === last) || (step.from === last && step.to === origin);
    if (!onHop) continue;
    if (since !== undefined && step.t - since >= thresholdMs) {
      spans.push({ kind: 'held', between: lanes, start: since, end: step.t, label: `idle ${ms(step.t - since)}, held open` });
    }
    since = step.from === origin && step.tone === 'response' && /keep-alive/i.test(step.label) ? step.t : undefined;
  }
  return spans;
}
