/**
 * HAR 1.2 export of the flow ring (issue 14; http://www.softwareishard.com/blog/har-12-spec/). Every required field is
 * present; `entries[].connection` is the upstream socket id (so entries sharing a socket show its reuse), timings are
 * mapped onto blocked/dns/connect/ssl/send/wait/receive (HAR's `connect` includes `ssl`), and what HAR has no field
 * for is carried in `_`-prefixed fields, which the spec reserves for custom data. Bodies are never stored, so
 * `content.size` is the byte count and there is no `text`. Pure: formats a snapshot the caller took.
 */
import { STATUS_CODES } from 'node:http';
import type { FlowRecord } from './flow-record.js';
import { flowDiff, flowTimings, redactHeaders } from './flow-view.js';

interface HarHeader {
  readonly name: string;
  readonly value: string;
}

function harHeaders(raw: readonly string[] | undefined, redact: boolean): HarHeader[] {
  if (raw === undefined) return [];
  const src = redact ? redactHeaders(raw) : raw;
  const out: HarHeader[] = [];
  for (let i = 0; i + 1 < src.length; i += 2) out.push({ name: src[i]!, value: src[i + 1]! });
  return out;
}

function headerValue(raw: readonly string[] | undefined, lower: string): string | undefined {
  if (raw !== undefined) for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === lower) return raw[i + 1];
  return undefined;
}

/** The absolute URL of a flow: forward-mode targets already are; gateway targets are origin-form; CONNECT is authority-form. */
function flowUrl(f: FlowRecord): string {
  if (/^https?:\/\//i.test(f.target)) return f.target;
  if (f.kind === 'connect') return `https://${f.target}/`;
  return `${f.origin ?? 'http://unknown'}${f.target.startsWith('/') ? f.target : `/${f.target}`}`;
}

function queryString(url: string): HarHeader[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

/** A HAR duration: HAR's send/wait/receive must be ≥ 0, the others use -1 for "does not apply". */
function nonNegative(ms: number): number {
  return ms < 0 ? 0 : ms;
}

function entry(f: FlowRecord, redact: boolean): Record<string, unknown> {
  const t = flowTimings(f);
  const url = flowUrl(f);
  const version = `HTTP/${f.httpVersion}`;
  const connect = t.tcp < 0 ? -1 : t.tcp + Math.max(0, t.tls);
  return {
    startedDateTime: new Date(f.startedAt).toISOString(),
    time: nonNegative(t.total),
    request: {
      method: f.method,
      url,
      httpVersion: version,
      cookies: [],
      headers: harHeaders(f.requestHeaders, redact),
      queryString: queryString(url),
      headersSize: -1,
      bodySize: f.bytesUp,
    },
    response: {
      status: f.status,
      statusText: STATUS_CODES[f.status] ?? '',
      httpVersion: version,
      cookies: [],
      headers: harHeaders(f.relayedHeaders, redact),
      content: { size: f.bytesDown, mimeType: headerValue(f.relayedHeaders, 'content-type') ?? 'x-unknown' },
      redirectURL: headerValue(f.relayedHeaders, 'location') ?? '',
      headersSize: -1,
      bodySize: f.bytesDown,
    },
    cache: {},
    timings: {
      blocked: t.queued,
      dns: t.dns,
      connect,
      ssl: t.tls,
      send: nonNegative(t.send),
      wait: nonNegative(t.wait),
      receive: nonNegative(t.receive),
    },
    ...(f.socket !== undefined && { connection: String(f.socket) }),
    _id: f.id,
    _kind: f.kind,
    _clientConnection: f.conn,
    _clientRemote: f.remote,
    _clientRequest: f.connReq,
    _pool: f.pool ?? f.origin ?? null,
    _reused: f.reused,
    _socketRequest: f.socketReq ?? null,
    _idleMs: f.idleMs ?? null,
    _keepAliveHint: f.keepAliveHint ?? null,
    _retried: f.retried,
    _proxyMs: t.proxy,
    _forwardedTarget: f.forwardedTarget ?? null,
    _forwardedHeaders: harHeaders(f.forwardedHeaders, redact),
    _responseReceivedHeaders: harHeaders(f.responseHeaders, redact),
    _diff: flowDiff(f, redact),
    _outcome: f.outcome,
    _error: f.error ?? null,
    _closeReason: f.closeReason ?? null,
  };
}

/** A HAR 1.2 document of `flows` (oldest first, as HAR viewers expect). */
export function toHar(flows: readonly FlowRecord[], redact: boolean, version: string): Record<string, unknown> {
  return {
    log: {
      version: '1.2',
      creator: { name: 'hopwise', version },
      entries: flows
        .slice()
        .sort((a, b) => a.id - b.id)
        .map((f) => entry(f, redact)),
    },
  };
}
