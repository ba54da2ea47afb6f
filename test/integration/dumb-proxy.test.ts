/**
 * The workshop dumb proxy (SPEC §9.1) over real loopback sockets: the keep-alive hang of HTTP: The Definitive Guide
 * §4.5.6, the `Proxy-Connection` workaround, verbatim relaying, and the proxy's own error answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createDumbProxy, DUMB_BANNER, type DumbProxy } from '../../src/workshop/dumb-proxy.js';
import { useCleanup } from '../helpers/cleanup.js';
import {
  EventLog,
  RawClient,
  httpOrigin,
  rawOrigin,
  refusedPort,
} from '../helpers/dumb-fixtures.js';
import { within } from '../helpers/raw.js';

const teardown = useCleanup();

async function startProxy(log?: EventLog): Promise<{ proxy: DumbProxy; port: number }> {
  const proxy = createDumbProxy(log ? { onEvent: log.push } : {});
  teardown.defer(() => proxy.destroy());
  const { port } = await proxy.listen();
  return { proxy, port };
}

/** An explicit Content-Length: without it Node answers an HTTP/1.0 client with `Connection: close`. */
const hello = (_req: IncomingMessage, res: ServerResponse): void => {
  res.setHeader('Content-Length', 5);
  res.end('hello');
};

/** Captures, per connection, every byte a raw origin receives; answers with `response` once `ready` holds. */
function capturingOrigin(response: string, ready: (received: Buffer) => boolean) {
  const seen: Buffer[] = [];
  const closed: Promise<void>[] = [];
  const onConnection = (socket: Socket): void => {
    let received = Buffer.alloc(0);
    let answered = false;
    seen.push(received);
    const index = seen.length - 1;
    closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      seen[index] = received;
      if (!answered && ready(received)) {
        answered = true;
        socket.end(response);
      }
    });
  };
  return { seen, closed, onConnection };
}

const headComplete = (buf: Buffer): boolean => buf.includes('\r\n\r\n');

describe('dumb proxy: keep-alive behind a proxy that does not understand Connection', () => {
  const KEEP_ALIVE_MS = 600;

  it('relays Connection: keep-alive, then leaves the next request unanswered until the origin idles out', async () => {
    const log = new EventLog();
    // When the origin finished its response and when it closed the idle connection, seen from the origin itself.
    let originFinishedAt = Number.NaN;
    let originClosedAt = Number.NaN;
    const origin = await httpOrigin(
      (req, res) => {
        res.on('finish', () => (originFinishedAt = performance.now()));
        hello(req, res);
      },
      KEEP_ALIVE_MS,
      teardown,
    );
    origin.server.on('connection', (socket: Socket) => socket.on('close', () => (originClosedAt = performance.now())));
    const { port } = await startProxy(log);
    const client = await RawClient.connect(port, teardown);
    const host = `127.0.0.1:${origin.port}`;
    const request = (path: string): string =>
      `GET http://${host}${path} HTTP/1.0\r\nHost: ${host}\r\nConnection: Keep-Alive\r\n\r\n`;

    client.write(request('/first'));
    const first = await client.response(2000);
    const head = first.toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // The origin agreed to keep-alive and the dumb proxy relayed that verbatim: the client now believes it.
    expect(head).toMatch(/\r\nConnection: keep-alive\r\n/);
    expect(head.endsWith('\r\n\r\nhello')).toBe(true);

    const second = request('/second');
    const sentAt = client.write(second);
    const closedAt = await client.closed(KEEP_ALIVE_MS + 5000);
    const stall = closedAt - sentAt;
    // The origin holds an idle connection at least keepAliveTimeout (Node 20.20+ adds a fixed 1 s grace on top),
    // and the hang lasts exactly as long as that idle time: only the origin's close ends it.
    const originIdle = originClosedAt - originFinishedAt;
    expect(originIdle).toBeGreaterThanOrEqual(KEEP_ALIVE_MS);
    expect(stall).toBeGreaterThanOrEqual(KEEP_ALIVE_MS);
    expect(stall).toBeGreaterThanOrEqual(originIdle * 0.8);
    expect(stall).toBeLessThanOrEqual(originIdle * 1.2);
    expect(closedAt).toBeGreaterThanOrEqual(originClosedAt);
    // Closed without a second response: not one byte after the first response.
    expect(client.received.equals(first)).toBe(true);

    expect(log.sequence()).toEqual([
      'client-connected',
      'request-head',
      'origin-connecting',
      'origin-connected',
      'request-forwarded',
      'response-head',
      'response-bytes',
      'client-bytes-ignored',
      'origin-closed',
      'client-closed',
    ]);
    expect(new Set(log.events.map((e) => e.conn))).toEqual(new Set([1]));
    const times = log.events.map((e) => e.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const [requestHead] = log.of('request-head');
    expect(requestHead).toMatchObject({ method: 'GET', target: `http://${host}/first`, version: 'HTTP/1.0' });
    expect(requestHead?.headers).toEqual([
      ['Host', host],
      ['Connection', 'Keep-Alive'],
    ]);
    expect(log.of('request-forwarded')[0]?.requestLine).toBe('GET /first HTTP/1.0');
    const [responseHead] = log.of('response-head');
    expect(responseHead?.status).toBe(200);
    expect(responseHead?.headers).toContainEqual(['Connection', 'keep-alive']);
    expect(log.of('response-bytes').at(-1)?.total).toBe(first.length);
    const ignored = log.of('client-bytes-ignored');
    expect(ignored.at(-1)?.total).toBe(Buffer.byteLength(second));
    const [originClosed] = log.of('origin-closed');
    expect(originClosed).toMatchObject({ initiator: 'origin', responseBytes: first.length });
    const [clientClosed] = log.of('client-closed');
    expect(clientClosed).toMatchObject({
      initiator: 'proxy',
      responseBytes: first.length,
      ignoredBytes: Buffer.byteLength(second),
    });
    // On the proxy's own clock, the hang is the gap between the ignored request and the origin's idle close.
    const hang = (originClosed?.t ?? 0) - (ignored[0]?.t ?? 0);
    expect(hang).toBeGreaterThanOrEqual(originIdle * 0.8);
    expect(hang).toBeLessThanOrEqual(originIdle * 1.2);
  });

  /**
   * The book's origin: it knows `Connection` (RFC 9112 §9.3) and nothing else, so `Proxy-Connection` is an unknown
   * header to it. It keeps a connection open only on `Connection: keep-alive`, and otherwise answers and closes.
   */
  async function connectionOnlyOrigin(): Promise<{ port: number; heads: string[] }> {
    const heads: string[] = [];
    const { port } = await rawOrigin((socket) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        const end = received.indexOf('\r\n\r\n');
        if (end < 0 || heads.length > 0) return;
        const head = received.slice(0, end + 4);
        heads.push(head);
        const keepAlive = /\r\nConnection:[^\r]*\bkeep-alive\b/i.test(head);
        const response = `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\npc`;
        if (keepAlive) socket.write(response);
        else socket.end(response);
      });
    }, teardown);
    return { port, heads };
  }

  it('Proxy-Connection: Keep-Alive reaches the origin verbatim, which answers Connection: close: no hang', async () => {
    const origin = await connectionOnlyOrigin();
    const { port } = await startProxy();
    const client = await RawClient.connect(port, teardown);
    const host = `127.0.0.1:${origin.port}`;
    const request = `GET /pc HTTP/1.0\r\nHost: ${host}\r\nProxy-Connection: Keep-Alive\r\n\r\n`;

    const sentAt = client.write(request.replace('/pc', `http://${host}/pc`));
    const response = await client.response(2000);
    // Were keep-alive granted, nothing would close this connection before the teardown.
    const closedAt = await client.closed(2000);

    expect(origin.heads).toEqual([request]);
    expect(response.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n(?:.*\r\n)*Connection: close\r\n/);
    expect(client.received.equals(response)).toBe(true);
    expect(closedAt - sentAt).toBeLessThan(500);
  });

  it('Proxy-Connection does not help with a Node origin: llhttp reads it as Connection, so the hang returns', async () => {
    // nodejs/llhttp (test/response/connection.md) handles Proxy-Connection like Connection, so a Node origin grants
    // keep-alive to this HTTP/1.0 request, and the dumb proxy waits for the origin's idle close as before.
    const IDLE_MS = 200;
    const origin = await httpOrigin(hello, IDLE_MS, teardown);
    const { port } = await startProxy();
    const client = await RawClient.connect(port, teardown);
    const host = `127.0.0.1:${origin.port}`;

    const sentAt = client.write(`GET http://${host}/ HTTP/1.0\r\nHost: ${host}\r\nProxy-Connection: Keep-Alive\r\n\r\n`);
    const response = await client.response(2000);
    const closedAt = await client.closed(IDLE_MS + 5000);

    expect(response.toString('latin1')).toMatch(/\r\nConnection: keep-alive\r\n/);
    expect(closedAt - sentAt).toBeGreaterThanOrEqual(IDLE_MS);
  });
});

describe('dumb proxy: verbatim relaying', () => {
  it('sends an origin-form request line and every header line byte-for-byte; relays the response unmodified', async () => {
    const originResponse =
      'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Odd:  spaced \r\n\r\nbody';
    const origin = capturingOrigin(originResponse, headComplete);
    const { port: originPort } = await rawOrigin(origin.onConnection, teardown);
    const { port } = await startProxy();
    const client = await RawClient.connect(port, teardown);
    const headerLines =
      `Host: somewhere.example:${originPort}\r\n` +
      'connection: Keep-Alive, X-Hop\r\n' +
      'Keep-Alive: timeout=5, max=100\r\n' +
      'Proxy-Connection: keep-alive\r\n' +
      'X-Hop:   spaced   value  \r\n' +
      'X-Fold: first\r\n  continued\r\n' +
      'TE: trailers\r\n\r\n';

    client.write(`GET http://127.0.0.1:${originPort}/path/x?q=1&r=%20 HTTP/1.0\r\n${headerLines}`);
    await client.closed(2000);

    expect(origin.seen).toHaveLength(1);
    expect(origin.seen[0]?.toString('latin1')).toBe(`GET /path/x?q=1&r=%20 HTTP/1.0\r\n${headerLines}`);
    expect(client.received.toString('latin1')).toBe(originResponse);
  });

  it('relays a request body by Content-Length only; bytes after it are ignored, not forwarded', async () => {
    const log = new EventLog();
    const expectedAtOrigin = 'POST /upload HTTP/1.0\r\nContent-Length: 11\r\n\r\nhello world';
    const origin = capturingOrigin('HTTP/1.0 201 Created\r\n\r\nstored', (b) => b.length >= expectedAtOrigin.length);
    const { port: originPort } = await rawOrigin(origin.onConnection, teardown);
    const { port } = await startProxy(log);
    const client = await RawClient.connect(port, teardown);

    client.write(`POST http://127.0.0.1:${originPort}/upload HTTP/1.0\r\nContent-Length: 11\r\n\r\nhello`);
    await log.waitFor('request-body-bytes', 2000);
    client.write(' worldEXTRA');
    await client.closed(2000);
    await within(2000, Promise.all(origin.closed), 'origin close');

    expect(origin.seen[0]?.toString('latin1')).toBe(expectedAtOrigin);
    expect(client.received.toString('latin1')).toBe('HTTP/1.0 201 Created\r\n\r\nstored');
    expect(log.of('request-body-bytes').map((e) => e.total)).toEqual([5, 11]);
    expect(log.of('client-bytes-ignored').map((e) => e.n)).toEqual([5]);
  });

  it('relays large bodies both ways intact, under backpressure', async () => {
    const SIZE = 512 * 1024;
    const requestBody = Buffer.alloc(SIZE, 'q');
    const responseBody = Buffer.from(Array.from({ length: SIZE }, (_, i) => i % 251));
    let atOrigin = 0;
    const { port: originPort } = await rawOrigin((socket) => {
      socket.on('data', (chunk: Buffer) => {
        atOrigin += chunk.length;
        if (atOrigin < SIZE) return;
        socket.end(Buffer.concat([Buffer.from(`HTTP/1.0 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`), responseBody]));
      });
    }, teardown);
    const { port } = await startProxy();
    const client = await RawClient.connect(port, teardown);

    const head = `PUT http://127.0.0.1:${originPort}/big HTTP/1.0\r\nContent-Length: ${SIZE}\r\n\r\n`;
    client.write(Buffer.concat([Buffer.from(head), requestBody]));
    const response = await client.response(5000);
    await client.closed(2000);

    const expectedHead = `PUT /big HTTP/1.0\r\nContent-Length: ${SIZE}\r\n\r\n`;
    expect(atOrigin).toBe(Buffer.byteLength(expectedHead) + SIZE);
    expect(response.subarray(response.indexOf('\r\n\r\n') + 4).equals(responseBody)).toBe(true);
  });
});

describe('dumb proxy: its own answers', () => {
  it.each([
    ['origin-form target', 400, 'GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n', /absolute URI/],
    ['asterisk-form target', 400, 'OPTIONS * HTTP/1.0\r\n\r\n', /absolute URI/],
    ['malformed request line', 400, 'GET http://127.0.0.1/\r\n\r\n', /malformed request line/],
    ['CONNECT', 501, 'CONNECT 127.0.0.1:443 HTTP/1.0\r\n\r\n', /CONNECT/],
    ['chunked body', 501, 'POST http://127.0.0.1/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', /Transfer-Encoding/],
    ['https URI', 501, 'GET https://127.0.0.1/ HTTP/1.0\r\n\r\n', /http:\/\//],
    ['conflicting lengths', 400, 'POST http://127.0.0.1/ HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /Content-Length/],
    ['head over 64 KiB', 400, `GET http://127.0.0.1/ HTTP/1.0\r\nX-Big: ${'a'.repeat(70_000)}`, /larger than 65536/],
  ])('%s → %i, then close, without contacting an origin', async (_name, status, bytes, message) => {
    const log = new EventLog();
    const { port } = await startProxy(log);
    const client = await RawClient.connect(port, teardown);

    client.write(bytes);
    const response = (await client.response(2000)).toString('utf8');
    await client.closed(2000);

    expect(response).toMatch(new RegExp(`^HTTP/1\\.0 ${status} `));
    expect(response).toMatch(/\r\nContent-Type: text\/plain; charset=utf-8\r\n/);
    expect(response.split('\r\n\r\n')[1]).toMatch(message);
    expect(log.of('proxy-response')).toMatchObject([{ status }]);
    expect(log.of('origin-connecting')).toEqual([]);
  });

  it('answers 502 naming the target when the origin refuses the connection', async () => {
    const log = new EventLog();
    const deadPort = await refusedPort();
    const { port } = await startProxy(log);
    const client = await RawClient.connect(port, teardown);

    client.write(`GET http://127.0.0.1:${deadPort}/ HTTP/1.0\r\n\r\n`);
    const response = (await client.response(2000)).toString('utf8');
    await client.closed(2000);

    expect(response).toMatch(/^HTTP\/1\.0 502 Bad Gateway\r\n/);
    expect(response).toContain(`127.0.0.1:${deadPort}`);
    expect(log.of('origin-connect-failed')).toMatchObject([{ host: '127.0.0.1', port: deadPort, code: 'ECONNREFUSED' }]);
    expect(log.of('client-closed')).toMatchObject([{ initiator: 'proxy' }]);
  });
});

describe('dumb proxy: connection lifecycle', () => {
  /** A raw origin that reads the request and never answers; resolves `request` on its first head. */
  async function silentOrigin() {
    let gotRequest!: () => void;
    const request = new Promise<void>((resolve) => (gotRequest = resolve));
    const sockets: Socket[] = [];
    const { port } = await rawOrigin((socket) => {
      sockets.push(socket);
      socket.on('data', gotRequest);
    }, teardown);
    return { port, request, sockets };
  }

  it('destroys the origin side when the client closes first', async () => {
    const log = new EventLog();
    const origin = await silentOrigin();
    const { port } = await startProxy(log);
    const client = await RawClient.connect(port, teardown);
    client.write(`GET http://127.0.0.1:${origin.port}/ HTTP/1.0\r\n\r\n`);
    await within(2000, origin.request, 'the request at the origin');

    client.socket.end();
    const [originSocket] = origin.sockets;
    await within(2000, new Promise((resolve) => originSocket?.once('close', resolve)), 'origin socket close');

    expect(log.of('client-closed')).toMatchObject([{ initiator: 'client', responseBytes: 0 }]);
    expect(log.of('origin-closed')).toMatchObject([{ initiator: 'proxy' }]);
    const types = log.events.map((e) => e.type);
    expect(types.indexOf('client-closed')).toBeLessThan(types.indexOf('origin-closed'));
  });

  it('close() stops accepting, drops idle clients and waits for in-flight responses', async () => {
    let originSocket: Socket | undefined;
    const { port: originPort } = await rawOrigin((socket) => {
      socket.once('data', () => {
        originSocket = socket;
        socket.write('HTTP/1.0 200 OK\r\n\r\npart one, ');
      });
    }, teardown);
    const { proxy, port } = await startProxy();
    const idle = await RawClient.connect(port, teardown);
    const busy = await RawClient.connect(port, teardown);
    busy.write(`GET http://127.0.0.1:${originPort}/ HTTP/1.0\r\n\r\n`);
    await busy.waitUntil(() => busy.received.includes('part one'), 2000, 'the first part');

    let closeDone = false;
    const closing = proxy.close().then(() => (closeDone = true));
    await idle.closed(2000);
    const late = await within(
      2000,
      new Promise<string>((resolve) => {
        RawClient.connect(port, teardown).then(() => resolve('connected'), (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      }),
      'a late connection attempt',
    );
    expect(late).toBe('ECONNREFUSED');
    expect(closeDone).toBe(false);

    originSocket?.end('part two');
    await within(2000, closing, 'graceful close');
    expect(busy.received.toString('latin1')).toBe('HTTP/1.0 200 OK\r\n\r\npart one, part two');
    expect(busy.closedAt).toBeDefined();
  });

  it('destroy() closes every client and origin socket at once', async () => {
    const origin = await silentOrigin();
    const { proxy, port } = await startProxy();
    const client = await RawClient.connect(port, teardown);
    client.write(`GET http://127.0.0.1:${origin.port}/ HTTP/1.0\r\n\r\n`);
    await within(2000, origin.request, 'the request at the origin');

    const started = performance.now();
    proxy.destroy();
    await client.closed(1000);
    const [originSocket] = origin.sockets;
    if (originSocket && !originSocket.destroyed) {
      await within(1000, new Promise((resolve) => originSocket.once('close', resolve)), 'origin socket close');
    }
    expect(performance.now() - started).toBeLessThan(1000);
    expect(client.received.length).toBe(0);
  });
});

describe('dumb proxy: workshop only', () => {
  it.each(['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com'])('refuses to bind %s', (host) => {
    expect(() => createDumbProxy({ host })).toThrow(/loopback/);
  });

  it.each(['127.0.0.1', '127.0.0.2', '::1', 'localhost'])('accepts loopback %s', (host) => {
    expect(() => createDumbProxy({ host })).not.toThrow();
  });

  it('has a loud banner', () => {
    expect(DUMB_BANNER).toMatch(/WORKSHOP MODE: this proxy is deliberately broken/);
    expect(DUMB_BANNER).toMatch(/never use it for real traffic/i);
    expect(DUMB_BANNER.split('\n').length).toBeGreaterThan(3);
  });
});
