import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { openWebSocket, startEchoWebSocketOrigin } from '../helpers/websocket.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import { flowsStored } from '../helpers/flows.js';
import { RawClient, within } from '../helpers/raw.js';
import { connectVia, readToEnd } from '../helpers/tunnel.js';

const { track, defer } = useCleanup();

async function getJson<T>(port: number, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text) as T };
}

interface Change {
  op: string;
  name: string;
  value: string;
  reason: string;
}
interface Flow {
  id: number;
  client: { conn: number; connReq: number };
  upstream: { socket: number; reused: boolean; socketReq: number; origin: string; idleMs: number | null };
  status: number;
  diff: { request: Change[]; response: Change[] };
  headers: { received: [string, string][]; forwarded: [string, string][] };
  timings: Record<string, number>;
}

describe('flows of real exchanges (issue 14)', () => {
  it('a request with Connection: X-Foo, X-Foo, Proxy-Connection and TE: the diff lists each removal with its reason', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({}, 'warn'));
    const client = track(await RawClient.connect(proxy.port));
    client.write(
      `GET ${origin.url}/diff HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: X-Foo\r\nX-Foo: bar\r\n` +
        'Proxy-Connection: keep-alive\r\nTE: trailers\r\nAuthorization: Bearer s3cret\r\n\r\n',
    );
    expect((await client.readResponse()).status).toBe(200);
    await flowsStored(proxy.proxy.flows, 1);
    const list = await getJson<Flow[]>(proxy.adminPort!, '/flows');
    expect(list.body).toHaveLength(1);
    const flow = (await getJson<Flow>(proxy.adminPort!, `/flows/${list.body[0]!.id}`)).body;
    const removed = flow.diff.request.filter((c) => c.op === 'removed').map((c) => [c.name, c.reason]);
    expect(removed).toEqual(
      expect.arrayContaining([
        ['Connection', 'hop-by-hop'],
        ['X-Foo', 'named-in-connection'],
        ['Proxy-Connection', 'hop-by-hop'],
        ['TE', 'hop-by-hop'],
      ]),
    );
    expect(flow.diff.request.filter((c) => c.op === 'added').map((c) => [c.name.toLowerCase(), c.reason])).toContainEqual(['via', 'via-appended']);
    // What the origin saw is what the flow says was forwarded.
    const seen = origin.seen[0]!;
    expect(seen.headers['x-foo']).toBeUndefined();
    expect(flow.headers.forwarded.find(([n]) => n.toLowerCase() === 'x-foo')).toBeUndefined();
    // Redacted by default, in the headers and the HAR.
    expect(JSON.stringify(flow)).not.toContain('s3cret');
    const har = await getJson<{ log: { entries: unknown[] } }>(proxy.adminPort!, '/flows.har');
    expect(JSON.stringify(har.body)).not.toContain('s3cret');
  });

  it('5 requests on one client connection through one reused upstream socket: same socket, reused from the 2nd, counts increasing', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({}, 'warn'));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => agent.destroy());
    for (let i = 0; i < 5; i++) expect((await viaProxy(proxy.port, `${origin.url}/${i}`, { agent })).status).toBe(200);
    await flowsStored(proxy.proxy.flows, 5);
    const flows = (await getJson<Flow[]>(proxy.adminPort!, '/flows')).body.reverse();
    expect(flows).toHaveLength(5);
    expect(new Set(flows.map((f) => f.upstream.socket)).size).toBe(1);
    expect(new Set(flows.map((f) => f.client.conn)).size).toBe(1);
    expect(flows.map((f) => f.upstream.reused)).toEqual([false, true, true, true, true]);
    expect(flows.map((f) => f.upstream.socketReq)).toEqual([1, 2, 3, 4, 5]);
    expect(flows.map((f) => f.client.connReq)).toEqual([1, 2, 3, 4, 5]);
    for (const f of flows) expect(f.timings['total']).toBeGreaterThan(0);
    // The new socket's dial is in the first flow's timings; the reused ones say how long the socket sat idle.
    expect(flows[0]!.timings['tcp']).toBeGreaterThanOrEqual(0);
    expect(flows[0]!.timings['tls']).toBe(-1);
    expect(flows[0]!.upstream).toMatchObject({ idleMs: null });
    for (const f of flows.slice(1)) {
      expect(f.timings['tcp']).toBe(-1);
      expect(f.upstream.idleMs).toBeGreaterThanOrEqual(0);
    }

    const har = (await getJson<{ log: { version: string; creator: { name: string }; entries: Record<string, unknown>[] } }>(proxy.adminPort!, '/flows.har')).body;
    expect(har.log.version).toBe('1.2');
    expect(har.log.creator.name).toBe('hopwise');
    expect(har.log.entries).toHaveLength(5);
    expect(new Set(har.log.entries.map((e) => e['connection']))).toEqual(new Set([String(flows[0]!.upstream.socket)]));
    for (const e of har.log.entries) {
      for (const k of ['startedDateTime', 'time', 'request', 'response', 'cache', 'timings']) expect(e).toHaveProperty(k);
    }
    // Filters: by origin and status; an unknown one is a 400 naming it; an unknown id a 404.
    expect((await getJson<Flow[]>(proxy.adminPort!, `/flows?origin=${encodeURIComponent(origin.origin)}&status=2xx&limit=2`)).body).toHaveLength(2);
    expect((await getJson<Flow[]>(proxy.adminPort!, '/flows?status=404')).body).toHaveLength(0);
    const bad = await getJson<string>(proxy.adminPort!, '/flows?colour=red');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('colour');
    expect((await getJson<string>(proxy.adminPort!, '/flows/999')).status).toBe(404);
  });

  it('flows.redact false shows credentials; flows.size 0 records nothing', async () => {
    const origin = track(await startOrigin());
    const open = track(await startProxy({ flows: { redact: false } }, 'warn'));
    await viaProxy(open.port, `${origin.url}/`, { headers: { cookie: 'sid=visible' } });
    await flowsStored(open.proxy.flows, 1);
    expect(JSON.stringify((await getJson<Flow>(open.adminPort!, '/flows/1')).body)).toContain('sid=visible');

    const off = track(await startProxy({ flows: { size: 0 } }, 'warn'));
    expect(off.proxy.telemetry.flows).toBe(false);
    let events = 0;
    off.proxy.telemetry.on((e) => {
      if (e.type === 'flow') events++;
    });
    for (let i = 0; i < 3; i++) expect((await viaProxy(off.port, `${origin.url}/${i}`)).status).toBe(200);
    expect(events).toBe(0);
    expect(off.proxy.flows.snapshot()).toEqual([]);
    expect((await getJson<string>(off.adminPort!, '/flows')).status).toBe(404);
  });

  it('--server-timing adds the proxy phases to responses; off by default', async () => {
    const origin = track(await startOrigin());
    const plain = track(await startProxy({}, 'warn'));
    expect((await viaProxy(plain.port, `${origin.url}/`)).headers['server-timing']).toBeUndefined();
    const timed = track(await startProxy({ flows: { serverTiming: true } }, 'warn'));
    expect((await viaProxy(timed.port, `${origin.url}/`)).headers['server-timing']).toMatch(/^proxy;dur=[\d.]+, queue;dur=[\d.]+, origin;dur=[\d.]+$/);
  });

  it('a CONNECT tunnel gets a flow: target, bytes each way, duration, close reason', async () => {
    // A one-shot TCP destination: answers "pong" to what it reads, then ends.
    const dest = net.createServer((s) => s.once('data', () => s.end('pong')));
    await new Promise<void>((resolve) => dest.listen(0, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => dest.close(() => resolve())));
    const proxy = track(await startProxy({}, 'warn'));
    const authority = `127.0.0.1:${(dest.address() as net.AddressInfo).port}`;
    const tunnel = await connectVia(proxy.port, authority);
    defer(() => tunnel.socket.destroy());
    expect(tunnel.status).toBe(200);
    tunnel.socket.write('ping!');
    expect((await readToEnd(tunnel.socket, tunnel.rest)).toString()).toBe('pong');
    tunnel.socket.end();
    await flowsStored(proxy.proxy.flows, 1);
    const [flow] = (await getJson<(Flow & { kind: string; request: { method: string; target: string }; bytes: { up: number; down: number }; closeReason: string })[]>(proxy.adminPort!, '/flows')).body;
    expect(flow).toMatchObject({ kind: 'connect', status: 200, request: { method: 'CONNECT', target: authority }, bytes: { up: 5, down: 4 } });
    expect(typeof flow!.closeReason).toBe('string');
    expect(flow!.timings['total']).toBeGreaterThan(0);
  });

  it('a WebSocket upgrade gets a flow when it closes', async () => {
    const port = await startEchoWebSocketOrigin(defer);
    const proxy = track(await startProxy({}, 'warn'));
    const url = `ws://127.0.0.1:${port}/chat`;
    const { ws } = await openWebSocket(url, { forwardProxy: proxy.port, defer });
    ws.send('hello');
    await within(5000, new Promise((resolve) => ws.once('message', resolve)), 'the echo');
    ws.close();
    await flowsStored(proxy.proxy.flows, 1);
    const [flow] = (await getJson<(Flow & { kind: string; request: { target: string }; closeReason: string })[]>(proxy.adminPort!, '/flows')).body;
    expect(flow).toMatchObject({ kind: 'upgrade', status: 101 });
    expect(flow!.request.target).toContain('/chat');
    expect(typeof flow!.closeReason).toBe('string');
  });
});
