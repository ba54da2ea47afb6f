/**
 * Parent proxies (issue 13, SPEC §4.7) with our counting parent: absolute-form over a pool per parent, credentials per
 * hop, 407 → 502 naming the parent, routing (NO_PROXY, rules, loopback), failover, CONNECT through the parent, garbage,
 * and the route in each request's log entry. Destinations are `*.test` names resolved to 127.0.0.1 (test lookup), so
 * they are not loopback names (those always go direct) while every byte stays on loopback.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { basicAuthorization } from '../../src/policy/parent.js';
import { useCleanup } from '../helpers/cleanup.js';
import { openWebSocket, startEchoWebSocketOrigin } from '../helpers/websocket.js';
import { startOrigin } from '../helpers/origin.js';
import { startCountingParent, testLookup } from '../helpers/parent.js';
import { refusedPort } from '../helpers/ports.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import type { Config } from '../../src/config/schema.js';
import { connectVia, readToEnd, selfSignedCert } from '../helpers/tunnel.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, startRawOrigin, within } from '../helpers/raw.js';

const { track, defer } = useCleanup();

type Upstream = Partial<Config['upstream']>;
const chained = (upstream: Upstream) => startProxy({ upstream: upstream }, 'debug', { lookup: testLookup });
const requestLogs = (logs: Record<string, unknown>[]) => logs.filter((l) => l['event'] === 'request');

describe('through a parent proxy', () => {
  it('sends absolute-form GETs and POSTs over one pooled connection to the parent', async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    const proxy = track(await chained({ proxy: parent.url }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => agent.destroy());
    const get = await viaProxy(proxy.port, `http://app.test:${origin.port}/a?q=1`, { agent });
    const post = await viaProxy(proxy.port, `http://app.test:${origin.port}/b`, { method: 'POST', body: 'hello', agent });
    expect([get.status, post.status]).toEqual([200, 200]);
    expect(parent.requests.map((r) => r.line)).toEqual([
      `GET http://app.test:${origin.port}/a?q=1 HTTP/1.1`,
      `POST http://app.test:${origin.port}/b HTTP/1.1`,
    ]);
    expect(parent.connections()).toBe(1);
    expect(origin.seen.map((s) => [s.method, s.url, s.headers.host])).toEqual([
      ['GET', '/a?q=1', `app.test:${origin.port}`],
      ['POST', '/b', `app.test:${origin.port}`],
    ]);
    expect(origin.seen[1]!.bodyLength).toBe(5);
    const via = parent.requests[0]!.rawHeaders.filter((_, i, a) => i % 2 === 1 && a[i - 1]!.toLowerCase() === 'via');
    expect(via.join()).toMatch(/^1\.1 hopwise \(hw-/);
  });

  it('names the route in each request log entry: the parent, or direct', async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    const proxy = track(await chained({ proxy: parent.url }));
    await viaProxy(proxy.port, `http://app.test:${origin.port}/p`);
    await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/d`);
    const entries = requestLogs(proxy.logs);
    expect(entries.map((e) => [e['target'], e['route']])).toEqual([
      [`http://app.test:${origin.port}/p`, parent.url],
      [`http://127.0.0.1:${origin.port}/d`, 'direct'],
    ]);
  });

  it("a flow record names the parent's pool for a routed request and the origin's for a direct one", async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    const proxy = track(await chained({ proxy: parent.url }));
    await viaProxy(proxy.port, `http://app.test:${origin.port}/p`);
    await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/d`);
    const res = await fetch(`http://127.0.0.1:${proxy.adminPort!}/flows`);
    const flows = (await res.json()) as { upstream: { origin: string; pool: string } }[];
    // Newest first.
    expect(flows.map((f) => [f.upstream.origin, f.upstream.pool])).toEqual([
      [`http://127.0.0.1:${origin.port}`, `http://127.0.0.1:${origin.port}`],
      [`http://app.test:${origin.port}`, parent.url],
    ]);
  });

  it('strips the client Proxy-Authorization and sends its own credentials to the parent; never logs them', async () => {
    const origin = track(await startOrigin());
    const ours = basicAuthorization('hop', 'wise-secret');
    const parent = track(await startCountingParent({ requiredAuth: ours }));
    const proxy = track(await chained({ proxy: `http://hop:wise-secret@127.0.0.1:${parent.port}` }));
    const res = await viaProxy(proxy.port, `http://app.test:${origin.port}/`, { headers: { 'Proxy-Authorization': basicAuthorization('client', 'x') } });
    expect(res.status).toBe(200);
    expect(parent.requests.map((r) => r.proxyAuthorization)).toEqual([ours]);
    expect(origin.seen[0]!.headers['proxy-authorization']).toBeUndefined();
    expect(JSON.stringify(proxy.logs)).not.toContain('wise-secret');
    expect(JSON.stringify(proxy.logs)).not.toContain(ours.slice(6));
    expect(JSON.stringify(proxy.stats())).not.toContain('wise-secret');
  });

  it('passthrough relays the client Proxy-Authorization to the parent', async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    const proxy = track(await chained({ proxy: parent.url, proxyAuth: 'passthrough' }));
    const client = basicAuthorization('end', 'user');
    await viaProxy(proxy.port, `http://app.test:${origin.port}/`, { headers: { 'Proxy-Authorization': client } });
    expect(parent.requests[0]!.proxyAuthorization).toBe(client);
  });

  it("a parent's 407 becomes a 502 naming the parent, without its challenge", async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent({ requiredAuth: basicAuthorization('a', 'b') }));
    const proxy = track(await chained({ proxy: parent.url }));
    const res = await viaProxy(proxy.port, `http://app.test:${origin.port}/`);
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain(`parent http://127.0.0.1:${parent.port} answered 407`);
    expect(res.headers['proxy-authenticate']).toBeUndefined();
    // Our credentials for the parent are what must change: a configuration error of this hop (RFC 9209 §2.3).
    expect(res.headers['proxy-status']).toMatch(/^hopwise; error=proxy_configuration_error; details="/);
    const tunnel = await connectVia(proxy.port, `app.test:${origin.port}`);
    defer(() => tunnel.socket.destroy());
    expect(tunnel.status).toBe(502);
    expect(tunnel.head).not.toMatch(/proxy-authenticate/i);
    expect(tunnel.head).toMatch(/proxy-status: hopwise; error=proxy_configuration_error;/i);
    expect((await readToEnd(tunnel.socket, tunnel.rest)).toString()).toContain('answered 407');
    const connect = requestLogs(proxy.logs).find((e) => e['method'] === 'CONNECT');
    expect(connect).toMatchObject({ status: 502, error: 'PARENT_AUTH_REQUIRED', route: parent.url });
  });

  it('a parent answering garbage: 502, nothing relayed', async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    parent.behaviour = 'garbage';
    const proxy = track(await chained({ proxy: parent.url }));
    const res = await viaProxy(proxy.port, `http://app.test:${origin.port}/`);
    expect(res.status).toBe(502);
    expect(res.body.toString()).not.toContain('not HTTP');
    const tunnel = await connectVia(proxy.port, `app.test:${origin.port}`);
    defer(() => tunnel.socket.destroy());
    expect(tunnel.status).toBe(502);
  });

  it('NO_PROXY rules and loopback destinations bypass the parent, which never sees them', async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    const proxy = track(await chained({ proxy: parent.url, noProxy: '.internal.test, other.test:1' }));
    expect((await viaProxy(proxy.port, `http://db.internal.test:${origin.port}/n`)).status).toBe(200);
    expect((await viaProxy(proxy.port, `http://127.0.0.1:${origin.port}/l`)).status).toBe(200);
    expect((await viaProxy(proxy.port, `http://other.test:${origin.port}/o`)).status).toBe(200); // port differs
    expect(parent.requests.map((r) => r.target)).toEqual([`http://other.test:${origin.port}/o`]);
    expect(origin.seen.map((s) => s.url)).toEqual(['/n', '/l', '/o']);
  });

  it('a rule routes one domain to a second parent, another goes direct; first match wins', async () => {
    const origin = track(await startOrigin());
    const first = track(await startCountingParent());
    const second = track(await startCountingParent());
    const proxy = track(
      await chained({
        proxy: first.url,
        proxyRules: [
          { hosts: ['.partner.test'], proxy: second.url },
          { hosts: ['direct.test', '.partner.test'], proxy: 'direct' },
        ],
      }),
    );
    await viaProxy(proxy.port, `http://api.partner.test:${origin.port}/2`);
    await viaProxy(proxy.port, `http://direct.test:${origin.port}/d`);
    await viaProxy(proxy.port, `http://else.test:${origin.port}/1`);
    expect(second.requests.map((r) => r.target)).toEqual([`http://api.partner.test:${origin.port}/2`]);
    expect(first.requests.map((r) => r.target)).toEqual([`http://else.test:${origin.port}/1`]);
    expect(origin.seen).toHaveLength(3);
  });

  it('fails over to the next parent when the first refuses connections, and skips it while it is marked down', async () => {
    const origin = track(await startOrigin());
    const dead = await refusedPort();
    const backup = track(await startCountingParent());
    const proxy = track(await chained({ proxy: [`http://127.0.0.1:${dead}`, backup.url], proxyRetryAfter: 60_000 }));
    const first = await viaProxy(proxy.port, `http://app.test:${origin.port}/1`, { method: 'POST', body: 'x' });
    expect(first.status).toBe(200);
    expect((await viaProxy(proxy.port, `http://app.test:${origin.port}/2`)).status).toBe(200);
    expect(backup.requests.map((r) => r.target)).toEqual([`http://app.test:${origin.port}/1`, `http://app.test:${origin.port}/2`]);
    const failovers = proxy.logs.filter((l) => l['event'] === 'parent-failover');
    expect(failovers).toEqual([expect.objectContaining({ parent: `http://127.0.0.1:${dead}`, next: backup.url, code: 'UPSTREAM_REFUSED' })]);
    const parents = proxy.stats().upstream.parents ?? {};
    expect(parents[`http://127.0.0.1:${dead}`]).toMatchObject({ failovers: 1, connectErrors: 1, socketsCreated: 0 });
    expect(parents[backup.url]).toMatchObject({ failovers: 0, socketsCreated: 1, requests: 2, reusedRequests: 1 });
  });

  it('every parent down: 502 naming the last parent tried', async () => {
    const dead = await refusedPort();
    const proxy = track(await chained({ proxy: `http://127.0.0.1:${dead}` }));
    const res = await viaProxy(proxy.port, 'http://app.test:9/');
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain(`127.0.0.1:${dead}`);
  });

  it('CONNECT goes through the parent with a CONNECT of our own, with our credentials', async () => {
    const origin = track(await startOrigin());
    const ours = basicAuthorization('hop', 'pw');
    const parent = track(await startCountingParent({ requiredAuth: ours }));
    const proxy = track(await chained({ proxy: parent.url, proxyAuth: { username: 'hop', password: 'pw' } }));
    const tunnel = await connectVia(proxy.port, `app.test:${origin.port}`, { extra: `Proxy-Authorization: ${basicAuthorization('c', 'c')}\r\n` });
    defer(() => tunnel.socket.destroy());
    expect(tunnel.status).toBe(200);
    tunnel.socket.write(`GET /t HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`);
    expect((await readToEnd(tunnel.socket, tunnel.rest)).toString()).toContain('hello GET /t');
    expect(parent.requests.map((r) => [r.line, r.proxyAuthorization])).toEqual([[`CONNECT app.test:${origin.port} HTTP/1.1`, ours]]);
  });

  it('a parent that is hopwise itself: refused at start-up, and a chain back to us is answered 508', async () => {
    const { createProxy } = await import('../../src/proxy.js');
    const { testConfig } = await import('../helpers/proxy.js');
    const port = await refusedPort();
    const self = createProxy(testConfig({ listen: { host: '127.0.0.1', port }, upstream: { proxy: `http://localhost:${port}` } }));
    await expect(self.listen()).rejects.toThrow(/own listener/);
    await self.destroy();
    // A → B → A: A's own Via comes back to it (SPEC §2.4).
    const aPort = await refusedPort();
    const b = track(await startProxy({ upstream: { proxy: `http://127.0.0.1:${aPort}` } }, 'debug', { lookup: testLookup }));
    const a = track(await startProxy({ listen: { host: '127.0.0.1', port: aPort }, upstream: { proxy: b.url } }, 'debug', { lookup: testLookup }));
    const res = await viaProxy(a.port, 'http://loop.test:9/');
    expect(res.status).toBe(508);
    expect(res.body.toString()).toMatch(/already passed through this proxy/);
  });

  it('a WebSocket goes through the parent with a CONNECT of our own, and echoes', async () => {
    const port = await startEchoWebSocketOrigin(defer);
    const parent = track(await startCountingParent());
    const proxy = track(await chained({ proxy: parent.url }));
    const url = `ws://echo.test:${port}/chat`;
    const { ws } = await openWebSocket(url, { forwardProxy: proxy.port, defer });
    const echoed = within(5000, new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString()))), 'echo');
    ws.send('ping through the parent');
    expect(await echoed).toBe('ping through the parent');
    expect(parent.requests.map((r) => r.line)).toEqual([`CONNECT echo.test:${port} HTTP/1.1`]);
    const entry = requestLogs(proxy.logs).find((e) => e['status'] === 101);
    expect(entry?.['route']).toBe(parent.url);
  });

  it('a WebSocket through a parent is dialled half-open: the origin\'s FIN reaches the client as a half-close, the client can still send', async () => {
    const origin = track(
      await startRawOrigin((socket, all) => {
        if (all.indexOf('\r\n\r\n') >= 0 && socket.bytesWritten === 0) {
          socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nbye');
        }
      }),
    );
    const parent = track(await startCountingParent());
    const proxy = track(await chained({ proxy: parent.url }));
    const client = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => undefined);
    defer(() => client.destroy());
    let got = '';
    client.on('data', (c: Buffer) => (got += c.toString('latin1')));
    const ended = within(3000, new Promise<void>((resolve) => client.once('end', () => resolve())), 'the half-close at the client');
    const target = `ws://echo.test:${origin.port}/chat`;
    client.write(
      `GET ${target} HTTP/1.1\r\nHost: echo.test:${origin.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await ended;
    expect(got).toMatch(/^HTTP\/1\.1 101 [^]*\r\n\r\nbye$/);
    expect(parent.requests.map((r) => r.line)).toEqual([`CONNECT echo.test:${origin.port} HTTP/1.1`]);
    client.end('after');
    await eventually(() => origin.received[0]!.toString('latin1').endsWith('\r\n\r\nafter'), 3000, 'the client bytes after the origin FIN');
  });

  it('a gateway route can name a parent; the main target can go direct', async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    const proxy = track(
      await startProxy(
        {
          mode: 'gateway',
          target: `http://127.0.0.1:${origin.port}`,
          routes: [{ listen: { host: '127.0.0.1', port: 0 }, target: `http://svc.test:${origin.port}`, proxy: parent.url }],
        },
        'debug',
        { lookup: testLookup },
      ),
    );
    expect((await httpGet(proxy.routePorts[0]!, '/via-parent')).status).toBe(200);
    expect((await httpGet(proxy.port, '/direct')).status).toBe(200);
    expect(parent.requests.map((r) => r.line)).toEqual([`GET http://svc.test:${origin.port}/via-parent HTTP/1.1`]);
    expect(origin.seen.map((r) => r.url)).toEqual(['/via-parent', '/direct']);
  });

  it('upstream.origins applies to a parent by its key (here: a new connection per request)', async () => {
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent());
    const proxy = track(await chained({ proxy: parent.url, origins: [{ origin: parent.url, maxRequestsPerSocket: 1 }] }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => agent.destroy());
    for (const p of ['/1', '/2', '/3']) expect((await viaProxy(proxy.port, `http://app.test:${origin.port}${p}`, { agent })).status).toBe(200);
    expect(parent.connections()).toBe(3);
  });

  it('a parent that accepts but never answers: 504 naming the parent, for requests and tunnels', async () => {
    const parent = track(await startCountingParent());
    parent.behaviour = 'hang';
    const proxy = track(await chained({ proxy: parent.url, responseTimeout: 300 }));
    const res = await viaProxy(proxy.port, 'http://app.test:9/');
    expect(res.status).toBe(504);
    expect(res.body.toString()).toContain(parent.url);
    const tunnel = await connectVia(proxy.port, 'app.test:9');
    defer(() => tunnel.socket.destroy());
    expect(tunnel.status).toBe(504);
    expect((await readToEnd(tunnel.socket, tunnel.rest)).toString()).toContain(`parent ${parent.url}`);
  });

  it('an https:// parent: TLS to the parent itself (trusted through upstream.ca), for requests and tunnels', async () => {
    const cert = selfSignedCert();
    const dir = mkdtempSync(join(tmpdir(), 'hopwise-ca-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ca.pem'), cert.cert);
    const origin = track(await startOrigin());
    const parent = track(await startCountingParent({ tls: cert }));
    expect(parent.url).toMatch(/^https:/);
    const proxy = track(await chained({ proxy: parent.url, ca: join(dir, 'ca.pem') }));
    expect((await viaProxy(proxy.port, `http://app.test:${origin.port}/over-tls`)).status).toBe(200);
    const tunnel = await connectVia(proxy.port, `app.test:${origin.port}`);
    defer(() => tunnel.socket.destroy());
    expect(tunnel.status).toBe(200);
    expect(parent.requests.map((r) => r.method)).toEqual(['GET', 'CONNECT']);
    expect(proxy.stats().upstream.parents?.[`https://127.0.0.1:${parent.port}`]?.socketsCreated).toBe(1);
  });

  it("bytes that follow the parent's 200 in the same packet reach the client first (a server that speaks first)", async () => {
    // A raw parent: answers our CONNECT with an HTTP/1.0 200 and the destination's banner in one write, then echoes.
    const fake = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.0 200 Connection established\r\nX-Parent: raw\r\n\r\nSSH-2.0-banner\r\n');
        socket.on('data', (c: Buffer) => socket.write(c));
      });
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    defer(() => new Promise<void>((r) => fake.close(() => r())));
    const parentUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    const proxy = track(await chained({ proxy: parentUrl }));
    const tunnel = await connectVia(proxy.port, 'ssh.test:22');
    defer(() => tunnel.socket.destroy());
    expect(tunnel.head).toBe('HTTP/1.1 200 Connection Established');
    tunnel.socket.write('echo me');
    tunnel.socket.end();
    const got = await readToEnd(tunnel.socket, tunnel.rest);
    expect(got.toString()).toMatch(/^SSH-2\.0-banner\r\necho me/);
  });
});


/** An origin-form GET straight to a (gateway) port. */
function httpGet(port: number, path: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
  });
}
