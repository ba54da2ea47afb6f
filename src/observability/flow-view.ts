/**
 * Reading a flow record (issue 14): the JSON served by `/flows` and `/flows/ID`, with the hop-by-hop diff computed
 * now from the header arrays the record kept by reference (policy/hop-diff.ts, the stripping pass's own
 * classification), credentials redacted, and phase durations from the record's time stamps. Pure.
 */
import { hopDiff, type HeaderChange } from '../policy/index.js';
import { NO_TIME, type FlowRecord } from './flow-record.js';

/** Field values hidden unless `flows.redact` is false: credentials and cookies, both directions. */
const SECRET: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
export const REDACTED = '[redacted]';

/** A copy of `raw` with secret values replaced (same length and order, so diffs line up). */
export function redactHeaders(raw: readonly string[]): string[] {
  const out = raw.slice();
  for (let i = 0; i + 1 < out.length; i += 2) if (SECRET.has(out[i]!.toLowerCase())) out[i + 1] = REDACTED;
  return out;
}

/** Phase durations in ms (0.01 ms resolution); -1 where the phase did not happen or is unknown. */
export interface FlowTimings {
  /** Before the pool was asked: access checks, target, header pass. */
  readonly proxy: number;
  /** Waiting for a socket (HAR `blocked`). */
  readonly queued: number;
  readonly dns: number;
  /** TCP connect, without TLS. */
  readonly tcp: number;
  readonly tls: number;
  readonly send: number;
  /** Time to the response head (TTFB from the request sent). */
  readonly wait: number;
  readonly receive: number;
  readonly total: number;
}

function span(from: number, to: number): number {
  return from === NO_TIME || to === NO_TIME || to < from ? -1 : Math.round((to - from) * 100) / 100;
}

export function flowTimings(f: FlowRecord): FlowTimings {
  const connected = f.tConnect !== NO_TIME;
  return {
    proxy: span(f.t0, f.tQueued),
    queued: span(f.tQueued, connected ? f.tConnect : f.tSocket),
    dns: connected ? span(f.tConnect, f.tDns) : -1,
    tcp: connected ? span(f.tDns, f.tTcp) : -1,
    tls: connected ? span(f.tTcp, f.tTls) : -1,
    send: span(f.tSocket, f.tSent),
    wait: span(f.tSent, f.tHead),
    receive: span(f.tHead, f.tEnd),
    total: span(f.t0, f.tEnd),
  };
}

/** Flat `[n, v, …]` as `[[n, v], …]`, redacted when asked. */
function pairs(raw: readonly string[] | undefined, redact: boolean): [string, string][] | null {
  if (raw === undefined) return null;
  const src = redact ? redactHeaders(raw) : raw;
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < src.length; i += 2) out.push([src[i]!, src[i + 1]!]);
  return out;
}

/** The diff of each direction, on redacted copies when redacting (a secret's value never leaves via the diff). */
export function flowDiff(f: FlowRecord, redact: boolean): { request: HeaderChange[]; response: HeaderChange[] } {
  const r = (h: readonly string[]): readonly string[] => (redact ? redactHeaders(h) : h);
  return {
    request:
      f.forwardedHeaders === undefined
        ? []
        : hopDiff(r(f.requestHeaders), r(f.forwardedHeaders), { direction: 'request', upgrade: f.kind === 'upgrade' }),
    response:
      f.responseHeaders === undefined || f.relayedHeaders === undefined
        ? []
        : hopDiff(r(f.responseHeaders), r(f.relayedHeaders), { direction: 'response', upgrade: f.status === 101 }),
  };
}

/** The JSON of one flow (`/flows/ID`; `/flows` leaves out headers and diff with `brief`). */
export function flowJson(f: FlowRecord, redact: boolean, brief = false): Record<string, unknown> {
  const base = {
    id: f.id,
    kind: f.kind,
    startedAt: new Date(f.startedAt).toISOString(),
    client: { conn: f.conn, remote: f.remote, httpVersion: f.httpVersion, connReq: f.connReq },
    request: { method: f.method, target: f.target, forwardedTarget: f.forwardedTarget ?? null },
    upstream: {
      origin: f.origin ?? null,
      pool: f.pool ?? f.origin ?? null,
      socket: f.socket ?? null,
      reused: f.reused,
      socketReq: f.socketReq ?? null,
      idleMs: f.idleMs ?? null,
      keepAliveHint: f.keepAliveHint ?? null,
      retried: f.retried,
    },
    status: f.status,
    bytes: { up: f.bytesUp, down: f.bytesDown },
    timings: flowTimings(f),
    outcome: f.outcome,
    error: f.error ?? null,
    closeReason: f.closeReason ?? null,
  };
  if (brief) return base;
  return {
    ...base,
    headers: {
      received: pairs(f.requestHeaders, redact),
      forwarded: pairs(f.forwardedHeaders, redact),
      responseReceived: pairs(f.responseHeaders, redact),
      responseRelayed: pairs(f.relayedHeaders, redact),
    },
    diff: flowDiff(f, redact),
  };
}
