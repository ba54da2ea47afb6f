/**
 * Gateway mode over real sockets: the same hop-by-hop assertions as forward mode (SPEC §1, in the style of
 * hop-by-hop.test.ts), forwarded headers added after stripping (X-Forwarded-* and RFC 7239), Host preserved or
 * rewritten, and several routes to several origins in one process sharing pools and stats.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, header, startRawOrigin } from '../helpers/raw.js';

const { track } = useCleanup();

async function origin(): Promise<TestOrigin> {
  return track(await startOrigin());
}

function names(rawHeaders: readonly string[]): string[] {
  return rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
}

async function connect(port: number): Promise<RawClient> {
  return track(await RawClient.connect(port));
}

/** Send one raw request to the proxy on a new connection and read the response. */
async function send(port: number, head: string): Promise<Awaited<ReturnType<RawClient['readResponse']>>> {
  const client = await connect(port);
  client.write(head);
  return client.readResponse();
}

const REQUEST_HOP_HEADERS = ['x-listed', 'x-also-listed', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'proxy-authorization', 'upgrade'];

describe.each(['forward', 'gateway'] as const)('hop-by-hop policy in %s mode (SPEC §1)', (mode) => {
  async function setup(o: { origin: string }): Promise<{ proxy: TestProxy; port: number; target: (path: string) => string }> {
    const proxy = track(await startProxy(mode === 'gateway' ? { mode, target: o.origin, forwarded: 'none' } : {}));
    return { proxy, port: proxy.port, target: (path) => (mode === 'gateway' ? path : `${o.origin}${path}`) };
  }

  it('request: strips Connection, every listed header and the fixed list; keeps end-to-end headers in order and case', async () => {
    const o = await origin();
    const { proxy, port, target } = await setup(o);
    const res = await send(
      port,
      `GET ${target('/a?q=1')} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nX-First: 1\r\nConnection: keep-alive, X-Listed\r\n` +
        'connection: x-ALSO-listed ,, \r\nX-Listed: secret\r\nX-Also-Listed: secret2\r\nProxy-Connection: keep-alive\r\n' +
        'Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-Checksum\r\nUpgrade: h2c\r\n' +
        'Proxy-Authorization: Basic dXNlcjpwYXNz\r\nCookie: a=1\r\nX-MiXeD-Case: Value With  Spaces\r\nCookie: b=2\r\n' +
        'Via: 1.0 upstream-corp\r\n\r\n',
    );
    expect(res.status).toBe(200);
    const seen = o.seen[0]!;
    expect(seen.url).toBe('/a?q=1');
    for (const h of REQUEST_HOP_HEADERS) expect(names(seen.rawHeaders)).not.toContain(h);
    expect(header(seen, 'connection')).toEqual(['keep-alive']);
    const e2e = seen.rawHeaders.filter((n, i) => i % 2 === 0 && (n.startsWith('X-') || n === 'Cookie'));
    expect(e2e).toEqual(['X-First', 'Cookie', 'X-MiXeD-Case', 'Cookie']);
    expect(header(seen, 'cookie')).toEqual(['a=1', 'b=2']);
    expect(header(seen, 'x-mixed-case')).toEqual(['Value With  Spaces']);
    expect(header(seen, 'via')).toEqual(['1.0 upstream-corp', `1.1 hopwise (${proxy.proxy.instanceId})`]);
  });

  it('request: a client cannot strip Via via Connection (SPEC §1.2); framing stays intact', async () => {
    const o = await origin();
    const { proxy, port, target } = await setup(o);
    const res = await send(port, `POST ${target('/p')} HTTP/1.1\r\nHost: x\r\nConnection: Via, Content-Length, Host\r\nContent-Length: 10\r\n\r\nabcdefghij`);
    expect(res.status).toBe(200);
    expect(header(o.seen[0]!, 'via')).toEqual([`1.1 hopwise (${proxy.proxy.instanceId})`]);
    expect(o.seen[0]!.bodyLength).toBe(10);
  });

  it('response: strips the hop-by-hop headers and adds Via; Set-Cookie duplicates stay; the client connection stays open', async () => {
    const raw = track(await startRawOrigin((socket, all) => {
      if (!all.includes('\r\n\r\n')) return;
      socket.end(
        'HTTP/1.1 200 OK\r\nX-One: 1\r\nConnection: close, X-Hop\r\nX-Hop: internal\r\nKeep-Alive: timeout=30\r\n' +
          'Proxy-Authenticate: Basic realm="origin"\r\nProxy-Connection: close\r\nTrailer: X-Sum\r\nUpgrade: h2c\r\n' +
          'Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nVia: 1.1 origin-cache\r\nContent-Length: 5\r\n\r\nhello',
      );
    }));
    const { port, target } = await setup(raw);
    const client = await connect(port);
    client.write(`GET ${target('/r')} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.readResponse();
    expect(res.body.toString()).toBe('hello');
    for (const h of ['x-hop', 'proxy-authenticate', 'proxy-connection', 'trailer', 'upgrade']) expect(names(res.rawHeaders)).not.toContain(h);
    expect(header(res, 'connection')).toEqual(['keep-alive']);
    expect(header(res, 'keep-alive')).toEqual(['timeout=5']);
    expect(header(res, 'set-cookie')).toEqual(['a=1', 'b=2']);
    expect(header(res, 'via')).toEqual(['1.1 origin-cache', '1.1 hopwise']);
    client.write(`GET ${target('/r2')} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(200);
  });
});

describe('forwarded headers (added after stripping, SPEC §1.2)', () => {
  it('gateway default (x-forwarded): X-Forwarded-For appends to the client list in one line; proto and host are ours', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ mode: 'gateway', target: o.origin }));
    const res = await send(
      proxy.port,
      'GET /x HTTP/1.1\r\nHost: app.example:8080\r\nX-Forwarded-For: 203.0.113.9\r\nX-Forwarded-For: 198.51.100.7\r\n' +
        'X-Forwarded-Proto: https\r\nX-Forwarded-Host: spoofed.example\r\n\r\n',
    );
    expect(res.status).toBe(200);
    const seen = o.seen[0]!;
    expect(header(seen, 'x-forwarded-for')).toEqual(['203.0.113.9, 198.51.100.7, 127.0.0.1']);
    expect(header(seen, 'x-forwarded-proto')).toEqual(['http']);
    expect(header(seen, 'x-forwarded-host')).toEqual(['app.example:8080']);
    expect(header(seen, 'host')).toEqual(['app.example:8080']);
  });

  it('a client listing X-Forwarded-For in Connection drops its own list, not ours', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ mode: 'gateway', target: o.origin }));
    await send(proxy.port, 'GET /x HTTP/1.1\r\nHost: h\r\nConnection: X-Forwarded-For, X-Forwarded-Proto\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n');
    expect(header(o.seen[0]!, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(header(o.seen[0]!, 'x-forwarded-proto')).toEqual(['http']);
  });

  it('rfc7239: one Forwarded element appended to the existing list; no X-Forwarded-*', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ mode: 'gateway', target: o.origin, forwarded: 'rfc7239' }));
    await send(proxy.port, 'GET /x HTTP/1.1\r\nHost: app.example:8080\r\nForwarded: for=192.0.2.43\r\n\r\n');
    const seen = o.seen[0]!;
    expect(header(seen, 'forwarded')).toEqual(['for=192.0.2.43, for=127.0.0.1;proto=http;host="app.example:8080"']);
    expect(names(seen.rawHeaders).filter((n) => n.startsWith('x-forwarded'))).toEqual([]);
  });

  it.each([
    ['forward mode default', {}, false],
    ['gateway with forwarded: none', { forwarded: 'none' as const }, false],
    ['forward mode with forwarded: x-forwarded', { forwarded: 'x-forwarded' as const }, true],
  ])('%s', async (_name, overrides, expected) => {
    const o = await origin();
    const gateway = 'forwarded' in overrides && overrides.forwarded === 'none';
    const proxy = track(await startProxy(gateway ? { mode: 'gateway', target: o.origin, ...overrides } : overrides));
    await viaProxy(proxy.port, gateway ? '/x' : `${o.url}/x`);
    expect(names(o.seen[0]!.rawHeaders).includes('x-forwarded-for')).toBe(expected);
  });
});

describe('Host and routes', () => {
  it.each([
    [true, 'app.example'],
    [false, 'TARGET'],
  ])('preserveHost %s', async (preserveHost, expected) => {
    const o = await origin();
    const proxy = track(await startProxy({ mode: 'gateway', target: o.origin, preserveHost }));
    await send(proxy.port, 'GET /h HTTP/1.1\r\nHost: app.example\r\n\r\n');
    expect(header(o.seen[0]!, 'host')).toEqual([expected === 'TARGET' ? `127.0.0.1:${o.port}` : expected]);
  });

  it('two routes reach two origins from one process, each with its own Host policy; pools and stats are shared', async () => {
    const a = await origin();
    const b = await origin();
    const proxy = track(await startProxy({
      mode: 'gateway',
      target: null,
      routes: [
        { listen: { host: '127.0.0.1', port: 0 }, target: a.origin },
        { listen: { host: '127.0.0.1', port: 0 }, target: b.origin, preserveHost: false },
      ],
    }));
    expect(proxy.routePorts).toHaveLength(2);
    const [portA, portB] = proxy.routePorts as [number, number];
    expect(proxy.port).toBe(portA);
    expect((await viaProxy(portA, '/one', { headers: { Host: 'a.example' } })).body.toString()).toBe('hello GET /one\n');
    expect((await viaProxy(portB, '/two', { headers: { Host: 'b.example' } })).body.toString()).toBe('hello GET /two\n');
    expect(a.seen.map((s) => s.url)).toEqual(['/one']);
    expect(b.seen.map((s) => s.url)).toEqual(['/two']);
    expect(header(a.seen[0]!, 'host')).toEqual(['a.example']);
    expect(header(b.seen[0]!, 'host')).toEqual([`127.0.0.1:${b.port}`]);
    const stats = proxy.stats();
    expect(stats.downstream.requests).toBe(2);
    expect(Object.keys(stats.upstream.origins).sort()).toEqual([a.origin, b.origin].sort());
  });
});

describe('Host: the target authority wins, an invalid Host is refused (issue 17 finding 12, RFC 9112 §3.2)', () => {
  it('gateway, preserveHost: an absolute-form target sets Host and X-Forwarded-Host, whatever Host the client sent', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ mode: 'gateway', target: o.origin, preserveHost: true }));
    const res = await send(proxy.port, 'GET http://a.example/echo HTTP/1.1\r\nHost: b.example\r\n\r\n');
    expect(res.status).toBe(200);
    expect(header(o.seen[0]!, 'host')).toEqual(['a.example']);
    expect(header(o.seen[0]!, 'x-forwarded-host')).toEqual(['a.example']);
    expect(o.seen[0]!.url).toBe('/echo');
  });

  it('gateway, rfc7239: Forwarded host= is the target authority too', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ mode: 'gateway', target: o.origin, forwarded: 'rfc7239' }));
    await send(proxy.port, 'GET http://A.example:8080/x HTTP/1.1\r\nHost: b.example\r\n\r\n');
    expect(header(o.seen[0]!, 'forwarded')).toEqual(['for=127.0.0.1;proto=http;host="a.example:8080"']);
    expect(header(o.seen[0]!, 'host')).toEqual(['a.example:8080']);
  });

  it('forward mode with x-forwarded: X-Forwarded-Host is the target authority, not the client Host', async () => {
    const o = await origin();
    const proxy = track(await startProxy({ forwarded: 'x-forwarded' }));
    await send(proxy.port, `GET ${o.origin}/x HTTP/1.1\r\nHost: b.example\r\n\r\n`);
    expect(header(o.seen[0]!, 'host')).toEqual([`127.0.0.1:${o.port}`]);
    expect(header(o.seen[0]!, 'x-forwarded-host')).toEqual([`127.0.0.1:${o.port}`]);
  });

  it.each(['forward', 'gateway'] as const)('%s mode: an invalid or repeated Host is answered 400 and never forwarded', async (mode) => {
    const o = await origin();
    const proxy = track(await startProxy(mode === 'gateway' ? { mode, target: o.origin } : {}));
    const target = mode === 'gateway' ? '/x' : `${o.origin}/x`;
    for (const head of [
      'Host: a, b\r\n',
      'Host: evil.example:65536@internal\r\n',
      'Host: evil.example@internal\r\n',
      'Host: a b\r\n',
      'Host: \r\n',
      'Host: [::1\r\n',
    ]) {
      const res = await send(proxy.port, `GET ${target} HTTP/1.1\r\n${head}\r\n`);
      expect(res.status, head).toBe(400);
      expect(res.body.toString(), head).toContain('invalid Host');
    }
    // HTTP/1.0 may omit Host, but two Host lines are still one too many.
    const res = await send(proxy.port, `GET ${target} HTTP/1.0\r\nHost: a.example\r\nHost: b.example\r\n\r\n`);
    expect(res.status).toBe(400);
    expect(o.seen).toHaveLength(0);
    // A valid Host still passes.
    expect((await send(proxy.port, `GET ${target} HTTP/1.1\r\nHost: ok.example:8080\r\n\r\n`)).status).toBe(200);
  });
});
