import { describe, expect, it } from 'vitest';
import { parseFlowQuery, answerFlows } from '../../src/observability/admin-flows.js';
import { flowJson, flowTimings, REDACTED } from '../../src/observability/flow-view.js';
import { FlowRing } from '../../src/observability/flows.js';
import { Telemetry } from '../../src/observability/events.js';
import { toHar } from '../../src/observability/har.js';
import { sampleFlow } from '../helpers/flows.js';

describe('FlowRing (issue 14)', () => {
  it('keeps the last `size` records, newest first, with increasing ids', () => {
    const ring = new FlowRing(3);
    for (let i = 0; i < 5; i++) ring.add(sampleFlow({ connReq: i + 1 }));
    expect(ring.snapshot().map((f) => [f.id, f.connReq])).toEqual([[5, 5], [4, 4], [3, 3]]);
    expect(ring.get(2)).toBeUndefined();
    expect(ring.get(4)?.connReq).toBe(4);
  });

  it('size 0 records nothing and leaves telemetry.flows off', () => {
    const telemetry = new Telemetry();
    const ring = new FlowRing(0, telemetry);
    expect(telemetry.flows).toBe(false);
    telemetry.emit({ type: 'flow', flow: sampleFlow() });
    ring.add(sampleFlow());
    expect(ring.snapshot()).toEqual([]);
  });

  it('subscribes to flow events when on', () => {
    const telemetry = new Telemetry();
    const ring = new FlowRing(10, telemetry);
    expect(telemetry.flows).toBe(true);
    telemetry.emit({ type: 'flow', flow: sampleFlow() });
    expect(ring.snapshot()).toHaveLength(1);
    ring.close();
  });

  it('filters by origin, status (code or class) and limit', () => {
    const ring = new FlowRing(10);
    ring.add(sampleFlow({ status: 200 }));
    ring.add(sampleFlow({ status: 502, origin: 'http://b.test' }));
    ring.add(sampleFlow({ status: 404 }));
    expect(ring.list({ origin: 'http://b.test' }).map((f) => f.id)).toEqual([2]);
    expect(ring.list({ status: '4xx' }).map((f) => f.id)).toEqual([3]);
    expect(ring.list({ status: '200' }).map((f) => f.id)).toEqual([1]);
    expect(ring.list({ limit: 2 }).map((f) => f.id)).toEqual([3, 2]);
  });
});

describe('flow view', () => {
  it('redacts credentials and cookies in headers and diff unless redaction is off', () => {
    const f = sampleFlow({ requestHeaders: ['Authorization', 'Bearer t', 'Proxy-Authorization', 'Basic p', 'Cookie', 'c=1'] });
    const text = JSON.stringify(flowJson(f, true));
    for (const secret of ['Bearer t', 'Basic p', 'c=1', 'sid=secret', 'a=b']) expect(text).not.toContain(secret);
    expect(text).toContain(REDACTED);
    const open = JSON.stringify(flowJson(f, false));
    expect(open).toContain('Basic p');
    expect(open).toContain('a=b');
  });

  it('computes the diff on read, each change with its reason', () => {
    const diff = flowJson(sampleFlow(), true)['diff'] as { request: unknown[]; response: unknown[] };
    expect(diff.request).toContainEqual({ op: 'removed', name: 'X-Foo', value: '1', reason: 'named-in-connection' });
    expect(diff.response).toContainEqual({ op: 'removed', name: 'Keep-Alive', value: 'timeout=5', reason: 'hop-by-hop' });
  });

  it('maps time stamps to phases; -1 where a phase did not happen', () => {
    expect(flowTimings(sampleFlow())).toEqual({ proxy: 1, queued: 1, dns: 1, tcp: 1, tls: -1, send: 1, wait: 10, receive: 5, total: 20 });
    const reused = flowTimings(sampleFlow({ tConnect: -1, tDns: -1, tTcp: -1 }));
    expect([reused.dns, reused.tcp, reused.queued]).toEqual([-1, -1, 3]);
  });
});

describe('HAR 1.2 export', () => {
  interface Entry {
    startedDateTime: string;
    request: Record<string, unknown> & { queryString: unknown };
    response: Record<string, unknown> & { content: { mimeType: unknown } };
    timings: Record<string, number>;
    connection?: string;
    _id: number;
    _reused: boolean;
  }
  const har = toHar([sampleFlow({ id: 2 }), sampleFlow({ id: 1, socket: 7, reused: true, socketReq: 2 })], true, '1.0.0') as {
    log: { version: string; creator: { name: string; version: string }; entries: Entry[] };
  };

  it('has the required fields', () => {
    expect(har.log.version).toBe('1.2');
    expect(har.log.creator).toEqual({ name: 'hopwise', version: '1.0.0' });
    for (const e of har.log.entries) {
      expect(Object.keys(e)).toEqual(expect.arrayContaining(['startedDateTime', 'time', 'request', 'response', 'cache', 'timings']));
      expect(Object.keys(e.request)).toEqual(
        expect.arrayContaining(['method', 'url', 'httpVersion', 'cookies', 'headers', 'queryString', 'headersSize', 'bodySize']),
      );
      expect(Object.keys(e.response)).toEqual(
        expect.arrayContaining(['status', 'statusText', 'httpVersion', 'cookies', 'headers', 'content', 'redirectURL', 'headersSize', 'bodySize']),
      );
      expect(typeof e.response.content.mimeType).toBe('string');
      for (const k of ['send', 'wait', 'receive']) expect(e.timings[k]).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(Date.parse(e.startedDateTime))).toBe(false);
    }
  });

  it('is oldest first; connection = the upstream socket id; extras are _-prefixed; secrets redacted', () => {
    expect(har.log.entries.map((e) => e._id)).toEqual([1, 2]);
    expect(har.log.entries[0]!.connection).toBe('7');
    expect(har.log.entries[0]!._reused).toBe(true);
    expect(har.log.entries[0]!.request.queryString).toEqual([{ name: 'x', value: '1' }]);
    expect(har.log.entries[1]!.timings).toEqual({ blocked: 1, dns: 1, connect: 1, ssl: -1, send: 1, wait: 10, receive: 5 });
    expect(JSON.stringify(har)).not.toContain('sid=secret');
  });
});

describe('admin flow routes', () => {
  const ring = new FlowRing(5);
  ring.add(sampleFlow());
  const source = { ring, redact: true, version: 't' };
  const q = (s: string): URLSearchParams => new URLSearchParams(s);

  it.each([
    ['foo=1', 'unknown filter "foo"'],
    ['status=abc', 'filter "status"'],
    ['limit=-1', 'filter "limit"'],
  ])('?%s → 400 naming it', (query, message) => {
    const parsed = parseFlowQuery(q(query));
    expect('error' in parsed && parsed.error).toContain(message);
    const a = answerFlows(source, '/flows', q(query))!;
    expect(a.status).toBe(400);
    expect(a.body).toContain(message);
  });

  it('serves a list, one flow, 404 for an unknown id, and HAR', () => {
    expect(JSON.parse(answerFlows(source, '/flows', q(''))!.body)).toHaveLength(1);
    expect((JSON.parse(answerFlows(source, '/flows/1', q(''))!.body) as { id: number }).id).toBe(1);
    expect(answerFlows(source, '/flows/99', q(''))!.status).toBe(404);
    expect(answerFlows(source, '/flows/abc', q(''))!.status).toBe(404);
    expect((JSON.parse(answerFlows(source, '/flows.har', q(''))!.body) as { log: { entries: unknown[] } }).log.entries).toHaveLength(1);
    expect(answerFlows(source, '/stats', q(''))).toBeUndefined();
    expect(JSON.parse(answerFlows(source, '/flows', q('after=1'))!.body)).toEqual([]);
  });

  it('answers 404 when flows are off', () => {
    expect(answerFlows({ ring: new FlowRing(0), redact: true, version: 't' }, '/flows', q(''))!.status).toBe(404);
  });
});
