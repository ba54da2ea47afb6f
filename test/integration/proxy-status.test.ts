/**
 * Every status hopwise generates itself comes from the one writer (src/errors/respond.ts): the status and reason phrase
 * from the one table, the one-line body, and a `Proxy-Status` field (RFC 9209) naming this proxy with the registered
 * error type. One case per status, provoked over real loopback sockets with raw clients.
 */
import net from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/access/password.js';
import { LINGER_MS, reasonPhrase } from '../../src/errors/index.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { refusedPort } from '../helpers/ports.js';
import { startProxy, type TestProxy } from '../helpers/proxy.js';
import { RawClient, eventually, header, startRawOrigin, within, type RawResponse } from '../helpers/raw.js';

const { track, defer } = useCleanup();

let users: { username: string; passwordHash: string }[] = [];
beforeAll(async () => {
  users = [{ username: 'alice', passwordHash: await hashPassword('pw', { N: 1024, r: 8, p: 1 }) }];
});

type Overrides = Parameters<typeof startProxy>[0];

interface Case {
  readonly name: string;
  readonly status: number;
  readonly type: string;
  readonly config?: () => Promise<Overrides> | Overrides;
  /** Send the request on `c` (a connection to the proxy); `origin` is a live origin's URL. */
  readonly provoke: (c: RawClient, ctx: { origin: string; proxy: TestProxy }) => Promise<void> | void;
  /** Connect more than once (accept-time limits): the response is read on the last connection. */
  readonly connections?: number;
}

const CASES: readonly Case[] = [
  {
    name: 'origin-form target in forward mode',
    status: 400,
    type: 'http_request_error',
    provoke: (c) => c.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n'),
  },
  {
    name: 'unparsable request (Node clientError)',
    status: 400,
    type: 'http_request_error',
    provoke: (c) => c.write('NOT HTTP AT ALL\r\n\r\n'),
  },
  {
    name: 'destination denied by access.destinations',
    status: 403,
    type: 'http_request_denied',
    config: () => ({ access: { destinations: [{ action: 'deny', cidr: '127.0.0.0/8' }] } }),
    provoke: (c, { origin }) => c.write(`GET ${origin}/x HTTP/1.1\r\nHost: x\r\n\r\n`),
  },
  {
    name: 'CONNECT to a port outside tunnel.allowedPorts (raw tunnel refusal)',
    status: 403,
    type: 'http_request_denied',
    config: () => ({ tunnel: { allowedPorts: [443] } }),
    provoke: (c) => c.write('CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n'),
  },
  {
    name: 'client not in access.clients (accept-time refusal)',
    status: 403,
    type: 'http_request_denied',
    config: () => ({ access: { clients: ['10.0.0.0/8'] } }),
    provoke: () => undefined,
  },
  {
    name: 'proxy authentication required',
    status: 407,
    type: 'http_request_denied',
    config: () => ({ access: { users } }),
    provoke: (c, { origin }) => c.write(`GET ${origin}/x HTTP/1.1\r\nHost: x\r\n\r\n`),
  },
  {
    name: 'request head too slow (Node clientError)',
    status: 408,
    type: 'http_request_error',
    config: () => ({ downstream: { headersTimeout: 300, requestTimeout: 600 } }),
    provoke: (c, { origin }) => c.write(`GET ${origin}/x HTTP/1.1\r\nHost: x\r\n`),
  },
  {
    name: 'declared body over downstream.maxBodySize',
    status: 413,
    type: 'http_request_error',
    config: () => ({ downstream: { maxBodySize: 10 } }),
    provoke: (c, { origin }) => c.write(`POST ${origin}/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n`),
  },
  {
    name: 'an expectation other than 100-continue',
    status: 417,
    type: 'http_request_error',
    provoke: (c, { origin }) => c.write(`GET ${origin}/x HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n`),
  },
  {
    name: 'request head over downstream.maxHeaderSize (Node clientError)',
    status: 431,
    type: 'http_request_error',
    config: () => ({ downstream: { maxHeaderSize: 1024 } }),
    provoke: (c, { origin }) => c.write(`GET ${origin}/x HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`),
  },
  {
    name: 'a request transfer coding that cannot be re-framed',
    status: 501,
    type: 'http_request_error',
    provoke: (c, { origin }) => c.write(`POST ${origin}/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`),
  },
  {
    name: 'origin refuses the connection',
    status: 502,
    type: 'connection_refused',
    provoke: async (c) => c.write(`GET http://127.0.0.1:${await refusedPort()}/x HTTP/1.1\r\nHost: x\r\n\r\n`),
  },
  {
    name: 'WebSocket upgrade to an origin that refuses (raw upgrade refusal)',
    status: 502,
    type: 'connection_refused',
    provoke: async (c) =>
      c.write(
        `GET http://127.0.0.1:${await refusedPort()}/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      ),
  },
  {
    name: 'over downstream.maxConnections (accept-time refusal)',
    status: 503,
    type: 'proxy_internal_response',
    config: () => ({ downstream: { maxConnections: 1 } }),
    connections: 2,
    provoke: () => undefined,
  },
  {
    name: 'no response head within upstream.responseTimeout',
    status: 504,
    type: 'http_response_timeout',
    config: () => ({ upstream: { responseTimeout: 300 } }),
    provoke: async (c) => {
      const silent = track(await startRawOrigin(() => undefined));
      c.write(`GET ${silent.origin}/x HTTP/1.1\r\nHost: x\r\n\r\n`);
    },
  },
  {
    name: 'a request that already passed through this proxy',
    status: 508,
    type: 'proxy_loop_detected',
    provoke: (c, { origin, proxy }) =>
      c.write(`GET ${origin}/x HTTP/1.1\r\nHost: x\r\nVia: 1.1 hopwise (${proxy.proxy.instanceId})\r\n\r\n`),
  },
];

function expectFromTheWriter(res: RawResponse, status: number, type: string, name = 'hopwise'): void {
  const reason = reasonPhrase(status);
  expect(res.statusLine).toBe(`HTTP/1.1 ${status} ${reason}`);
  expect(header(res, 'content-type')).toEqual(['text/plain; charset=utf-8']);
  const body = res.body.toString();
  expect(body).toMatch(new RegExp(`^hopwise: ${status} ${reason}: .+\\n$`));
  expect(body.split('\n')).toHaveLength(2); // one line
  const ps = header(res, 'proxy-status');
  expect(ps).toHaveLength(1);
  expect(ps[0]).toMatch(new RegExp(`^${name}; error=${type}; details="(?:[^"\\\\\\r\\n]|\\\\["\\\\])*"$`)); // an sf-string
}

describe('every hopwise-generated status comes from the one writer, with Proxy-Status', () => {
  it.each(CASES)('$status $type: $name', async (tc) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy((await tc.config?.()) ?? {}));
    let c: RawClient | undefined;
    for (let i = 0; i < (tc.connections ?? 1); i++) c = track(await RawClient.connect(proxy.port));
    await tc.provoke(c!, { origin: origin.url, proxy });
    const res = await c!.readResponse({ ms: 5000 });
    expectFromTheWriter(res, tc.status, tc.type);
  });

  it('names the proxy by its Via pseudonym', async () => {
    const proxy = track(await startProxy({ via: { pseudonym: 'edge-7' } }));
    const c = track(await RawClient.connect(proxy.port));
    c.write(`GET http://127.0.0.1:${await refusedPort()}/x HTTP/1.1\r\nHost: x\r\n\r\n`);
    expectFromTheWriter(await c.readResponse(), 502, 'connection_refused', 'edge-7');
  });

  it('a pipelined error answer names the proxy too (the response has no socket of its own yet)', async () => {
    const slow = track(await startRawOrigin((socket, all) => {
      if (all.includes('\r\n\r\n')) setTimeout(() => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 100);
    }));
    const proxy = track(await startProxy({ via: { pseudonym: 'edge-8' } }));
    const c = track(await RawClient.connect(proxy.port));
    c.write(`GET ${slow.origin}/a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect((await c.readResponse()).status).toBe(200);
    expectFromTheWriter(await c.readResponse(), 400, 'http_request_error', 'edge-8');
  });
});

describe('an accept-time refusal closes through the one lingering close', () => {
  it('a refused client that sent a body reads its whole 403; one that keeps its half open is closed after the linger', async () => {
    const proxy = track(await startProxy({ access: { clients: ['10.0.0.0/8'] } }));
    // allowHalfOpen: the client does not answer the proxy's FIN, so only the proxy's bounded linger ends the connection.
    const socket = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    defer(() => socket.destroy());
    socket.on('error', () => undefined);
    let got = '';
    socket.on('data', (b: Buffer) => {
      got += b.toString('latin1');
    });
    await within(2000, new Promise<void>((r) => socket.once('connect', () => r())), 'connect');
    socket.write(`POST http://127.0.0.1:1/x HTTP/1.1\r\nHost: x\r\nContent-Length: 262144\r\n\r\n${'a'.repeat(262_144)}`);
    await within(3000, new Promise<void>((r) => socket.once('end', () => r())), 'the answer and FIN');
    expect(got).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(got).toContain('Proxy-Status: hopwise; error=http_request_denied;');
    expect(got).toMatch(/hopwise: 403 Forbidden: client .* is not allowed by access.clients\n$/);
    // Drained, the proxy's close sends no reset, so the half-open client cannot tell: the proxy's count says it.
    await eventually(() => proxy.stats().downstream.connectionsActive === 0, LINGER_MS + 2000, 'the end of the linger');
    expect(proxy.stats().downstream.connectionsClosed['access-denied']).toBe(1);
  });
});
