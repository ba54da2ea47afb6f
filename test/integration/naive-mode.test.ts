/**
 * Naive mode (issue 6): http-proxy-3 with the library's defaults. Each defect is pinned by what the origin actually
 * receives through naive mode, NEXT TO the same request through hopwise (SPEC §1, §2.1, §4.1, §5.3). If a later
 * http-proxy-3 fixes one of them, the naive expectation here fails and says which behaviour changed.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createNaiveProxy, NAIVE_BANNER } from '../../src/workshop/naive.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import type { TestOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, header, startRawOrigin } from '../helpers/raw.js';
import type { RawOrigin } from '../helpers/raw.js';

const { track, defer } = useCleanup();

/** Both proxies under test, each on its own ephemeral loopback port. */
async function bothProxies(): Promise<{ naive: number; hopwise: number; instanceId: string }> {
  const naive = createNaiveProxy();
  defer(() => naive.destroy());
  const { port } = await naive.listen();
  const hopwise = track(await startProxy({}, 'error'));
  return { naive: port, hopwise: hopwise.port, instanceId: hopwise.proxy.instanceId };
}

async function rawOrigin(onData: Parameters<typeof startRawOrigin>[0]): Promise<RawOrigin> {
  return track(await startRawOrigin(onData));
}

async function nodeOrigin(): Promise<TestOrigin> {
  return track(await startOrigin());
}

async function client(port: number): Promise<RawClient> {
  return track(await RawClient.connect(port));
}

/** Header lines of the first request head in `buf`, as [lower-case name, value] pairs. */
function headLines(buf: Buffer): [string, string][] {
  const text = buf.toString('latin1');
  return text
    .slice(0, text.indexOf('\r\n\r\n'))
    .split('\r\n')
    .slice(1)
    .map((line) => {
      const i = line.indexOf(':');
      return [line.slice(0, i).toLowerCase(), line.slice(i + 1).trim()];
    });
}

const values = (lines: [string, string][], name: string): string[] => lines.filter(([n]) => n === name).map(([, v]) => v);

describe('naive mode vs hopwise: hop-by-hop request headers (SPEC §1.1, §1.4, §2.1)', () => {
  const request = (originUrl: string): string =>
    `GET ${originUrl}/a HTTP/1.1\r\nHost: elsewhere.example\r\n` +
    'Connection: keep-alive, X-Secret\r\nX-Secret: for-the-next-hop-only\r\n' +
    'Proxy-Connection: keep-alive\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nX-End-To-End: yes\r\n\r\n';

  it('naive: the listed header, Proxy-Connection, Keep-Alive and TE reach the origin; Connection becomes close; no Via', async () => {
    const origin = await rawOrigin((s, all) => {
      if (all.includes('\r\n\r\n')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const { naive } = await bothProxies();
    const c = await client(naive);
    c.write(request(origin.origin));
    expect((await c.readResponse()).status).toBe(200);

    const seen = headLines(origin.received[0]!);
    expect(values(seen, 'x-secret')).toEqual(['for-the-next-hop-only']);
    expect(values(seen, 'proxy-connection')).toEqual(['keep-alive']);
    expect(values(seen, 'keep-alive')).toEqual(['timeout=9']);
    expect(values(seen, 'te')).toEqual(['trailers']);
    // No agent: http-proxy-3 overwrites the client's Connection with its own `close` (one connection per request).
    expect(values(seen, 'connection')).toEqual(['close']);
    expect(values(seen, 'via')).toEqual([]);
    // The client's Host passes unchanged instead of the URI's authority (changeOrigin is off by default).
    expect(values(seen, 'host')).toEqual(['elsewhere.example']);
    expect(values(seen, 'x-end-to-end')).toEqual(['yes']);
  });

  it('hopwise: the same request arrives stripped, with Host from the URI and Via appended', async () => {
    const origin = await rawOrigin((s, all) => {
      if (all.includes('\r\n\r\n')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    });
    const { hopwise, instanceId } = await bothProxies();
    const c = await client(hopwise);
    c.write(request(origin.origin));
    expect((await c.readResponse()).status).toBe(200);

    const seen = headLines(origin.received[0]!);
    for (const name of ['x-secret', 'proxy-connection', 'keep-alive', 'te']) expect(values(seen, name)).toEqual([]);
    // Its own hop header for its pooled connection (SPEC §1.5), not the client's.
    expect(values(seen, 'connection')).toEqual(['keep-alive']);
    expect(values(seen, 'via')).toEqual([`1.1 hopwise (${instanceId})`]);
    expect(values(seen, 'host')).toEqual([`127.0.0.1:${origin.port}`]);
    expect(values(seen, 'x-end-to-end')).toEqual(['yes']);
  });
});

describe('naive mode vs hopwise: hop-by-hop response headers', () => {
  const response =
    'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=77\r\nX-Hop: origin-to-proxy\r\n' +
    'Content-Length: 2\r\n\r\nok';

  // hopwise's own `Connection: keep-alive` / `Keep-Alive: timeout=5` are generated from its downstream policy
  // (SPEC §1.5, downstream.keepAliveTimeout 5000 ms): they are not the origin's values.
  it.each([
    ['naive', ['keep-alive, X-Hop'], ['timeout=77'], ['origin-to-proxy'], []],
    ['hopwise', ['keep-alive'], ['timeout=5'], [], ['1.1 hopwise']],
  ] as const)('%s answers with Connection %j, Keep-Alive %j, X-Hop %j and Via %j', async (which, connection, keepAlive, xHop, via) => {
    const origin = await rawOrigin((s, all) => {
      if (all.includes('\r\n\r\n')) s.write(response);
    });
    const ports = await bothProxies();
    const c = await client(which === 'naive' ? ports.naive : ports.hopwise);
    c.write(`GET ${origin.origin}/r HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n\r\n`);
    const res = await c.readResponse();

    expect(res.status).toBe(200);
    expect(header(res, 'connection')).toEqual(connection);
    expect(header(res, 'keep-alive')).toEqual(keepAlive);
    expect(header(res, 'x-hop')).toEqual(xHop);
    expect(header(res, 'via')).toEqual(via);
  });
});

describe('naive mode vs hopwise: upstream connections (SPEC §4.1)', () => {
  const REQUESTS = 5;

  async function sequential(port: number, originUrl: string): Promise<{ clientConnections: number }> {
    let clientConnections = 0;
    let c: RawClient | undefined;
    for (let i = 0; i < REQUESTS; i++) {
      if (c === undefined || c.closed) {
        c = await client(port);
        clientConnections++;
      }
      c.write(`GET ${originUrl}/n${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const res = await c.readResponse();
      expect(res.status).toBe(200);
      // As any HTTP/1.1 client: after `Connection: close` the connection is done; wait for it, then reconnect.
      if (header(res, 'connection').some((v) => /close/i.test(v))) await c.waitClosed(2000);
    }
    return { clientConnections };
  }

  it('naive opens one upstream connection per request and, relaying the origin\'s close, loses client keep-alive', async () => {
    const origin = await nodeOrigin();
    const { naive } = await bothProxies();
    const { clientConnections } = await sequential(naive, origin.url);

    expect(origin.connections()).toBe(REQUESTS);
    expect(origin.seen.map((s) => s.headers.connection)).toEqual(Array(REQUESTS).fill('close'));
    expect(clientConnections).toBe(REQUESTS);
  });

  it('hopwise serves the same requests over one pooled upstream connection and one client connection', async () => {
    const origin = await nodeOrigin();
    const { hopwise } = await bothProxies();
    const { clientConnections } = await sequential(hopwise, origin.url);

    expect(origin.connections()).toBe(1);
    expect(origin.seen.map((s) => s.socketIndex)).toEqual(Array(REQUESTS).fill(1));
    expect(clientConnections).toBe(1);
  });
});

describe('naive mode vs hopwise: an HTTP/1.0 client asking for keep-alive (RFC 9112 §9.3)', () => {
  const request = (originUrl: string, path: string): string =>
    `GET ${originUrl}${path} HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`;

  it("naive echoes the client's Connection: keep-alive (web-outgoing setConnection) and keeps the HTTP/1.0 client alive", async () => {
    const origin = await nodeOrigin();
    const { naive } = await bothProxies();
    const c = await client(naive);
    c.write(request(origin.url, '/1'));
    const first = await c.readResponse();
    // The origin said close (naive sent it Connection: close); the client is told the opposite.
    expect(origin.seen[0]?.headers.connection).toBe('close');
    expect(header(first, 'connection')).toEqual(['keep-alive']);
    c.write(request(origin.url, '/2'));
    expect((await c.readResponse()).status).toBe(200);
    expect(c.closed).toBe(false);
  });

  it('hopwise answers Connection: close and closes the HTTP/1.0 connection', async () => {
    const origin = await nodeOrigin();
    const { hopwise } = await bothProxies();
    const c = await client(hopwise);
    c.write(request(origin.url, '/1'));
    const first = await c.readResponse();
    expect(header(first, 'connection')).toEqual(['close']);
    await c.waitClosed(2000);
  });
});

/**
 * http-proxy-3 1.23 still has http-proxy's `deleteLength` pass (passes/web-incoming.js): a DELETE or OPTIONS without
 * Content-Length gets `content-length: 0` and its Transfer-Encoding deleted, while the (de-chunked) body is still
 * piped to the origin. The origin reads the body as the next request: request smuggling (SPEC §5.3).
 */
describe('chunked DELETE with a body: http-proxy deleteLength (SPEC §5.3)', () => {
  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
  const chunked = (originUrl: string): string =>
    `DELETE ${originUrl}/victim HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n` +
    `${Buffer.byteLength(smuggled).toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
  /** Answers once the smuggled text has arrived, whether as a body (chunk data) or as bytes after a message. */
  const answerAfterBody = (s: Socket, all: Buffer): void => {
    if (all.includes(smuggled) && all.toString('latin1').endsWith('\r\n\r\n')) {
      s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    }
  };

  it('naive: the origin receives DELETE with Content-Length: 0 followed by the body as a second request', async () => {
    const origin = await rawOrigin(answerAfterBody);
    const { naive } = await bothProxies();
    const c = await client(naive);
    c.write(chunked(origin.origin));
    expect((await c.readResponse()).status).toBe(200);

    expect(origin.received[0]!.toString('latin1')).toBe(
      'DELETE /victim HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n' + smuggled,
    );
  });

  it('hopwise: the origin receives exactly one request, the body framed inside it', async () => {
    const origin = await rawOrigin(answerAfterBody);
    const { hopwise } = await bothProxies();
    const c = await client(hopwise);
    c.write(chunked(origin.origin));
    expect((await c.readResponse()).status).toBe(200);

    const text = origin.received[0]!.toString('latin1');
    const head = headLines(origin.received[0]!);
    expect(text.slice(0, text.indexOf('\r\n'))).toBe('DELETE /victim HTTP/1.1');
    // hopwise re-frames the body itself (by length or chunked, SPEC §1.1): either way it is inside this message, and
    // nothing follows the message.
    expect(framedBody(head, text.slice(text.indexOf('\r\n\r\n') + 4))).toBe(smuggled);
  });
});

/** The body of one message from what follows its head; throws if bytes remain after the message. */
function framedBody(head: [string, string][], after: string): string {
  const length = values(head, 'content-length');
  if (length.length === 1) {
    const n = Number(length[0]);
    if (after.length !== n) throw new Error(`bytes after the ${n}-byte body: ${JSON.stringify(after.slice(n))}`);
    return after;
  }
  expect(values(head, 'transfer-encoding')).toEqual(['chunked']);
  return dechunk(after);
}

/** Decodes a complete chunked body (no trailers); throws if anything follows the last chunk. */
function dechunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, eol), 16);
    if (size === 0) {
      if (rest.slice(eol) !== '\r\n\r\n') throw new Error(`bytes after the last chunk: ${JSON.stringify(rest)}`);
      return out;
    }
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

describe('naive mode: workshop only', () => {
  it.each(['0.0.0.0', '::', '10.0.0.1'])('refuses to bind %s', (host) => {
    expect(() => createNaiveProxy({ host })).toThrow(/loopback/);
  });

  it('has a loud banner', () => {
    expect(NAIVE_BANNER).toMatch(/WORKSHOP MODE: this proxy is deliberately naive/);
    expect(NAIVE_BANNER).toMatch(/never use it for real traffic/i);
  });
});
