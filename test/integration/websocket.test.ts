/**
 * SPEC §7.1 over real sockets: WebSocket upgrades through hopwise in forward mode (absolute-form ws:// target) and
 * gateway mode, with the hop-by-hop policy applied to the handshake both ways; errors; an origin that declines; and
 * non-WebSocket upgrade offers (h2c) served as ordinary requests. Also pins what bare http-proxy-3 `ws()` relays.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ProxyServer } from 'http-proxy-3';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { useCleanup } from '../helpers/cleanup.js';
import { openWebSocket, startEchoWebSocketOrigin } from '../helpers/websocket.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, header, startRawOrigin, within } from '../helpers/raw.js';
import { nextEvent } from '../helpers/tunnel.js';

const { track, defer } = useCleanup();

interface WsOrigin {
  readonly port: number;
  /** rawHeaders of every upgrade request the origin accepted. */
  readonly seen: string[][];
}

/**
 * An echo WebSocket origin. Its 101 carries hop-by-hop junk (a Connection-listed X-Hop, Keep-Alive) next to an
 * end-to-end X-Origin and an earlier Via, so the relayed 101 can be checked. Plain requests get a 426.
 */
async function startWsOrigin(): Promise<WsOrigin> {
  const seen: string[][] = [];
  const port = await startEchoWebSocketOrigin(defer, (wss, server) => {
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'X-Hop', 'X-Hop': 'h', 'Content-Length': '17' });
      res.end('upgrade required\n');
    });
    wss.on('headers', (headers: string[], req: http.IncomingMessage) => {
      seen.push([...req.rawHeaders]);
      const i = headers.findIndex((h) => h.toLowerCase().startsWith('connection:'));
      headers[i] = 'Connection: Upgrade, X-Hop';
      headers.push('X-Hop: secret', 'Keep-Alive: timeout=9', 'X-Origin: 1', 'Via: 1.1 origin-side');
    });
  });
  return { port, seen };
}

/** Hop-by-hop junk a client adds to its handshake; none of it may reach the origin. */
function addJunk(req: http.ClientRequest): void {
  req.setHeader('Connection', 'Upgrade, X-Secret');
  req.setHeader('X-Secret', 'do-not-relay');
  req.setHeader('Proxy-Connection', 'keep-alive');
  req.setHeader('Keep-Alive', 'timeout=5');
  req.setHeader('Proxy-Authorization', 'Basic dXNlcjpwYXNz');
  req.setHeader('X-End-To-End', 'kept');
}

/** Open a WebSocket to `url` (through `forwardProxy` when given), with the junk hop-by-hop headers above. */
function openWs(url: string, forwardProxy?: number): Promise<{ ws: WebSocket; res: http.IncomingMessage }> {
  return openWebSocket(url, { ...(forwardProxy !== undefined && { forwardProxy }), prepare: addJunk, defer });
}

/** Send `n` messages at once and collect the `n` echoes in order. */
async function roundTrip(ws: WebSocket, n: number): Promise<string[]> {
  const echoes: string[] = [];
  const done = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      echoes.push(data.toString());
      if (echoes.length === n) resolve();
    });
  });
  for (let i = 0; i < n; i++) ws.send(`message ${i} ${'x'.repeat(i % 50)}`);
  await within(10_000, done, `${n} echoes`);
  return echoes;
}

function names(raw: readonly string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

/** What the origin saw in the upgrade request: the request-side Via carries the instance id (SPEC §2.4). */
function expectCleanHandshake(seen: readonly string[], instanceId: string): void {
  const r = { rawHeaders: seen };
  expect(header(r, 'connection')).toEqual(['Upgrade']);
  expect(header(r, 'upgrade')).toEqual(['websocket']);
  for (const h of ['x-secret', 'proxy-connection', 'keep-alive', 'proxy-authorization']) expect(names(seen)).not.toContain(h);
  expect(header(r, 'x-end-to-end')).toEqual(['kept']);
  expect(header(r, 'via')).toEqual([`1.1 hopwise (${instanceId})`]);
}

function expectCleanSwitch(res: http.IncomingMessage): void {
  expect(res.statusCode).toBe(101);
  expect(header(res, 'connection')).toEqual(['Upgrade']);
  expect(header(res, 'upgrade')).toEqual(['websocket']);
  for (const h of ['x-hop', 'keep-alive']) expect(names(res.rawHeaders)).not.toContain(h);
  expect(header(res, 'x-origin')).toEqual(['1']);
  expect(header(res, 'via')).toEqual(['1.1 origin-side', '1.1 hopwise']);
}

const MESSAGES = Array.from({ length: 1000 }, (_, i) => `message ${i} ${'x'.repeat(i % 50)}`);

describe('WebSocket relay', () => {
  it('forward mode: ws:// absolute-form, 1,000 messages round-trip, clean handshake both ways, counted as a tunnel', async () => {
    const origin = await startWsOrigin();
    const proxy = track(await startProxy());
    const url = `ws://127.0.0.1:${origin.port}/echo?room=1`;
    const { ws, res } = await openWs(url, proxy.port);
    expect(origin.seen).toHaveLength(1);
    expectCleanHandshake(origin.seen[0]!, proxy.proxy.instanceId);
    expect(header({ rawHeaders: origin.seen[0]! }, 'host')).toEqual([`127.0.0.1:${origin.port}`]);
    expectCleanSwitch(res);
    expect(await roundTrip(ws, 1000)).toEqual(MESSAGES);
    const closed = nextEvent(proxy.proxy.telemetry, 'tunnel.close');
    ws.close();
    const event = await closed;
    expect(event).toMatchObject({ kind: 'upgrade', target: url });
    expect(['client-closed', 'origin-closed']).toContain(event.reason);
    const stats = proxy.stats().tunnels;
    expect(stats).toMatchObject({ opened: 1, active: 0 });
    // 1,000 masked client frames of 10-60 bytes each way, at least.
    expect(stats.bytesIn).toBeGreaterThan(10_000);
    expect(stats.bytesOut).toBeGreaterThan(10_000);
    expect(proxy.stats().downstream.statuses['101']).toBe(1);
  });

  it('gateway mode: the same relay to the fixed target, with X-Forwarded-For', async () => {
    const origin = await startWsOrigin();
    const proxy = track(await startProxy({ mode: 'gateway', target: `http://127.0.0.1:${origin.port}` }));
    const { ws, res } = await openWs(`ws://127.0.0.1:${proxy.port}/echo`);
    expectCleanHandshake(origin.seen[0]!, proxy.proxy.instanceId);
    expect(header({ rawHeaders: origin.seen[0]! }, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(header({ rawHeaders: origin.seen[0]! }, 'host')).toEqual([`127.0.0.1:${proxy.port}`]);
    expectCleanSwitch(res);
    expect(await roundTrip(ws, 1000)).toEqual(MESSAGES);
    expect(proxy.stats().tunnels.opened).toBe(1);
  });

  it('bare http-proxy-3 ws() relays Connection-listed and hop-by-hop headers; hopwise does not', async () => {
    const origin = await startWsOrigin();
    const bare = new ProxyServer({ target: `http://127.0.0.1:${origin.port}`, ws: true });
    bare.on('error', () => undefined);
    const server = http.createServer();
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => bare.ws(req, socket, head));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    defer(() => {
      server.closeAllConnections();
      server.close();
    });
    await openWs(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/echo`);
    const viaBare = origin.seen[0]!;
    // Pinned library behaviour (http-proxy-3 1.x): these would all reach the origin without hopwise's policy.
    expect(header({ rawHeaders: viaBare }, 'x-secret')).toEqual(['do-not-relay']);
    expect(header({ rawHeaders: viaBare }, 'connection')).toEqual(['Upgrade, X-Secret']);
    for (const h of ['proxy-connection', 'keep-alive', 'proxy-authorization']) expect(names(viaBare)).toContain(h);
    expect(names(viaBare)).not.toContain('via');

    const proxy = track(await startProxy({ mode: 'gateway', target: `http://127.0.0.1:${origin.port}` }));
    await openWs(`ws://127.0.0.1:${proxy.port}/echo`);
    expectCleanHandshake(origin.seen[1]!, proxy.proxy.instanceId);
  });
});

describe('WebSocket errors and refusals', () => {
  const handshake = (target: string): string =>
    `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

  async function rawUpgrade(port: number, target: string): Promise<{ status: number; rawHeaders: readonly string[]; body: string; client: RawClient }> {
    const client = track(await RawClient.connect(port));
    client.write(handshake(target));
    const res = await client.readResponse();
    return { status: res.status, rawHeaders: res.rawHeaders, body: res.body.toString(), client };
  }

  it('a refused origin gets 502 and the connection closes', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const proxy = track(await startProxy());
    const r = await rawUpgrade(proxy.port, `ws://127.0.0.1:${port}/x`);
    expect(r.status).toBe(502);
    expect(r.body).toContain('connection refused');
    await r.client.waitClosed();
    expect(proxy.stats().tunnels.opened).toBe(0);
  });

  it('no 101 within upstream.responseTimeout gets 504', async () => {
    const silent = track(await startRawOrigin(() => undefined));
    const proxy = track(await startProxy({ upstream: { responseTimeout: 300 } }));
    const t0 = performance.now();
    const r = await rawUpgrade(proxy.port, `ws://127.0.0.1:${silent.port}/x`);
    expect(r.status).toBe(504);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    // The handshake reached the origin already stripped.
    expect(silent.received[0]!.toString()).toMatch(/^GET \/x HTTP\/1\.1\r\n/);
  });

  it('origin-form to a forward proxy gets 400', async () => {
    const proxy = track(await startProxy());
    expect((await rawUpgrade(proxy.port, '/chat')).status).toBe(400);
  });

  it('an origin that declines is relayed stripped, with Via and Connection: close', async () => {
    const plain = http.createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'X-Hop', 'X-Hop': 'h', 'Content-Length': '17' });
      res.end('upgrade required\n');
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    defer(() => {
      plain.closeAllConnections();
      plain.close();
    });
    const proxy = track(await startProxy());
    const r = await rawUpgrade(proxy.port, `ws://127.0.0.1:${(plain.address() as AddressInfo).port}/x`);
    expect(r.status).toBe(426);
    expect(r.body).toBe('upgrade required\n');
    expect(names(r.rawHeaders)).not.toContain('x-hop');
    expect(header(r, 'connection')).toEqual(['close']);
    expect(header(r, 'via')).toEqual(['1.1 hopwise']);
    await r.client.waitClosed();
    expect(proxy.stats().tunnels.opened).toBe(0);
  });
});

describe('non-WebSocket upgrade offers are served as ordinary requests (Upgrade stripped, SPEC §1.1)', () => {
  it.each([
    ['forward', 'GET', 'h2c', ''],
    ['forward', 'POST', 'h2c', '5\r\nhello\r\n0\r\n\r\n'],
    ['gateway', 'POST', 'h2c', '5\r\nhello\r\n0\r\n\r\n'],
    ['gateway', 'POST', 'websocket', '5\r\nhello\r\n0\r\n\r\n'],
  ])('%s mode, %s with Upgrade: %s', async (mode, method, protocol, body) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy(mode === 'gateway' ? { mode: 'gateway', target: origin.origin } : {}));
    const target = mode === 'gateway' ? '/h2' : `${origin.url}/h2`;
    const client = track(await RawClient.connect(proxy.port));
    const framing = body === '' ? '' : 'Transfer-Encoding: chunked\r\n';
    client.write(
      `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: Upgrade, HTTP2-Settings\r\n` +
        `Upgrade: ${protocol}\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n${framing}\r\n${body}`,
    );
    const res = await client.readResponse();
    expect(res.status).toBe(200);
    expect(header(res, 'connection')).toEqual(['keep-alive']);
    const seen = origin.seen[0]!;
    for (const h of ['upgrade', 'http2-settings']) expect(names(seen.rawHeaders)).not.toContain(h);
    expect(seen.method).toBe(method);
    expect(seen.bodyLength).toBe(body === '' ? 0 : 5);
    // The connection is still an HTTP/1.1 keep-alive connection.
    client.write(`GET ${target}2 HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(200);
    expect(proxy.stats().downstream.connectionsAccepted).toBe(1);
    expect(proxy.stats().tunnels.opened).toBe(0);
  });
});
