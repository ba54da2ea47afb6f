/**
 * SPEC §6.1 over real sockets: CONNECT tunnels to a real TLS origin, half-close in both directions, refusals through
 * the one error table (400/403/501/502), idle timeout, shutdown, and the tunnel counters in stats.
 */
import { createHash, randomBytes } from 'node:crypto';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startProxy } from '../helpers/proxy.js';
import { within } from '../helpers/raw.js';
import { connectVia, nextEvent, readToEnd, selfSignedCert } from '../helpers/tunnel.js';
import type { ConnectResult, TestCert } from '../helpers/tunnel.js';
import { refusedPort } from '../helpers/ports.js';

let cert: TestCert;

beforeAll(() => {
  cert = selfSignedCert();
});

const { track, defer } = useCleanup();

/** `server` listening on an ephemeral loopback port; closed (its connections too) after the test. */
async function listen<T extends net.Server>(server: T): Promise<number> {
  defer(
    () =>
      new Promise<void>((resolve) => {
        (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** connectVia, with the client socket destroyed after the test. */
async function tunnelVia(...args: Parameters<typeof connectVia>): Promise<ConnectResult> {
  const result = await connectVia(...args);
  defer(() => result.socket.destroy());
  return result;
}

/**
 * A raw origin that records what each connection sent and whether its FIN arrived; once the client has finished
 * sending, it still answers (`after-fin:` + what it got), then ends its side too.
 */
function halfCloseOrigin(): { server: net.Server; received: Buffer[]; sawFin: boolean[] } {
  const received: Buffer[] = [];
  const sawFin: boolean[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const i = received.length;
    received.push(Buffer.alloc(0));
    sawFin.push(false);
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      received[i] = Buffer.concat([received[i]!, c]);
    });
    socket.on('end', () => {
      sawFin[i] = true;
      socket.end(`after-fin:${received[i]!.toString()}`);
    });
  });
  return { server, received, sawFin };
}

describe('CONNECT to a TLS origin', () => {
  it('an HTTPS GET through the tunnel returns the origin body; the tunnel is counted with its bytes', async () => {
    const origin = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(`tls hello ${req.url ?? ''}`);
    });
    const port = await listen(origin);
    const proxy = track(await startProxy());
    const tunnel = await tunnelVia(proxy.port, `127.0.0.1:${port}`);
    expect(tunnel.head).toBe('HTTP/1.1 200 Connection Established');
    const closed = nextEvent(proxy.proxy.telemetry, 'tunnel.close');
    const body = await within(
      5000,
      new Promise<string>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port,
            path: '/secret?q=1',
            ca: cert.cert,
            // No `agent` option: with one (even false) Node ignores createConnection and dials the origin directly.
            createConnection: () => tls.connect({ socket: tunnel.socket, ca: cert.cert, host: '127.0.0.1' }),
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        req.end();
      }),
      'the HTTPS response',
    );
    expect(body).toBe('tls hello /secret?q=1');
    const event = await closed;
    expect(event.kind).toBe('connect');
    expect(event.target).toBe(`127.0.0.1:${port}`);
    const stats = proxy.stats().tunnels;
    expect(stats.opened).toBe(1);
    expect(stats.active).toBe(0);
    // A TLS handshake plus one request is well over a few hundred bytes each way.
    expect(stats.bytesIn).toBeGreaterThan(200);
    expect(stats.bytesOut).toBeGreaterThan(500);
    expect(stats.bytesIn).toBe(event.bytesIn);
    expect(Object.values(stats.closed).reduce((a, b) => a + b, 0)).toBe(1);
    expect(proxy.stats().downstream.connectionsClosed.tunnel).toBe(1);
    expect(proxy.stats().downstream.statuses['200']).toBe(1);
  });
});

describe('relaying bytes', () => {
  it('a half-closed tunnel still delivers what the origin sends after the client FIN', async () => {
    const origin = halfCloseOrigin();
    const port = await listen(origin.server);
    const proxy = track(await startProxy());
    const closed = nextEvent(proxy.proxy.telemetry, 'tunnel.close');
    const tunnel = await tunnelVia(proxy.port, `127.0.0.1:${port}`, { allowHalfOpen: true });
    tunnel.socket.end('hello');
    const got = await readToEnd(tunnel.socket, tunnel.rest);
    expect(got.toString()).toBe('after-fin:hello');
    expect(origin.sawFin).toEqual([true]);
    const event = await closed;
    expect(event).toMatchObject({ reason: 'client-closed', bytesIn: 5, bytesOut: 'after-fin:hello'.length });
    expect(proxy.stats().tunnels).toMatchObject({ opened: 1, active: 0, bytesIn: 5, bytesOut: 15, closed: { 'client-closed': 1 } });
  });

  it.each([
    { readBufferSize: 65536, what: 'the default reused buffer' },
    { readBufferSize: 1024, what: 'a small reused buffer (many more reads)' },
    { readBufferSize: 0, what: 'a fresh buffer per read' },
  ])('a 16 MiB download to a slow reader arrives intact and counted with $what', async ({ readBufferSize }) => {
    // The origin-to-client direction reads into one reused buffer (splice.ts ReusedReadBuffer): if the relay read on
    // while the client still held a chunk, later bytes would overwrite it and the digest would differ.
    const payload = randomBytes(16 * 1024 * 1024);
    const origin = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(payload);
    });
    const port = await listen(origin);
    const proxy = track(await startProxy({ tunnel: { readBufferSize } }));
    const closed = nextEvent(proxy.proxy.telemetry, 'tunnel.close');
    const tunnel = await tunnelVia(proxy.port, `127.0.0.1:${port}`);
    const socket = tunnel.socket;
    const digest = createHash('sha256').update(tunnel.rest);
    let bytes = tunnel.rest.length;
    let chunks = 0;
    await within(
      20_000,
      new Promise<void>((resolve, reject) => {
        socket.on('data', (chunk: Buffer) => {
          digest.update(chunk);
          bytes += chunk.length;
          // A slow reader: every 8th chunk it stops reading for a moment, so the proxy's writes back up.
          if (++chunks % 8 === 0) {
            socket.pause();
            setTimeout(() => socket.resume(), 2);
          }
        });
        socket.once('end', resolve);
        socket.once('error', reject);
        socket.resume(); // connectVia leaves the socket paused after the CONNECT response
      }),
      'the whole download',
    );
    expect(bytes).toBe(payload.length);
    expect(digest.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    socket.end();
    const event = await closed;
    expect(event).toMatchObject({ bytesOut: payload.length, bytesIn: 0 });
  });

  it('the origin closing first ends the client side, and the client can still send until it closes', async () => {
    const received: Buffer[] = [];
    let originSawEnd: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (originSawEnd = resolve));
    const origin = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (c: Buffer) => received.push(c));
      socket.on('end', originSawEnd);
      socket.end('bye'); // FIN first, keep reading
    });
    const port = await listen(origin);
    const proxy = track(await startProxy());
    const closed = nextEvent(proxy.proxy.telemetry, 'tunnel.close');
    const tunnel = await tunnelVia(proxy.port, `127.0.0.1:${port}`, { allowHalfOpen: true });
    const got = await readToEnd(tunnel.socket, tunnel.rest);
    expect(got.toString()).toBe('bye');
    tunnel.socket.end('late words');
    const event = await closed;
    expect(event.reason).toBe('origin-closed');
    await within(5000, ended, "the origin's FIN");
    expect(Buffer.concat(received).toString()).toBe('late words');
  });

  it('bytes sent with the CONNECT head are forwarded; Proxy-Authorization never leaves the proxy', async () => {
    const origin = halfCloseOrigin();
    const port = await listen(origin.server);
    const proxy = track(await startProxy());
    const tunnel = await tunnelVia(proxy.port, `127.0.0.1:${port}`, {
      extra: 'Proxy-Authorization: Basic dXNlcjpwYXNz\r\nProxy-Connection: keep-alive\r\n',
      early: 'EARLY',
      allowHalfOpen: true,
    });
    expect(tunnel.status).toBe(200);
    tunnel.socket.end('+more');
    expect((await readToEnd(tunnel.socket, tunnel.rest)).toString()).toBe('after-fin:EARLY+more');
    expect(origin.received[0]!.toString()).toBe('EARLY+more');
  });

  it('an idle tunnel is closed after tunnel.idleTimeout', async () => {
    const origin = halfCloseOrigin();
    const port = await listen(origin.server);
    const proxy = track(await startProxy({ tunnel: { idleTimeout: 200 } }));
    const closed = nextEvent(proxy.proxy.telemetry, 'tunnel.close');
    const t0 = performance.now();
    const tunnel = await tunnelVia(proxy.port, `127.0.0.1:${port}`);
    await readToEnd(tunnel.socket, tunnel.rest);
    expect((await closed).reason).toBe('idle-timeout');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('shutdown closes open tunnels (reason shutdown)', async () => {
    const origin = halfCloseOrigin();
    const port = await listen(origin.server);
    const proxy = track(await startProxy({ shutdown: { drainTimeout: 100 } }));
    const closed = nextEvent(proxy.proxy.telemetry, 'tunnel.close');
    const tunnel = await tunnelVia(proxy.port, `127.0.0.1:${port}`);
    await within(5000, proxy.proxy.close(), 'graceful close');
    expect((await closed).reason).toBe('shutdown');
    expect(tunnel.socket.destroyed || tunnel.socket.readableEnded || (await readToEnd(tunnel.socket)).length === 0).toBe(true);
  });
});

describe('refusals before the tunnel exists', () => {
  async function refused(port: number, authority: string): Promise<{ status: number; head: string; body: string }> {
    const r = await tunnelVia(port, authority);
    const body = (await readToEnd(r.socket, r.rest)).toString();
    return { status: r.status, head: r.head, body };
  }

  it('a refused target gets 502 naming it and the cause, and the connection closes', async () => {
    const proxy = track(await startProxy());
    const port = await refusedPort();
    const r = await refused(proxy.port, `127.0.0.1:${port}`);
    expect(r.status).toBe(502);
    expect(r.head).toMatch(/\r\nConnection: close(\r\n|$)/);
    expect(r.body).toContain(`127.0.0.1:${port}`);
    expect(r.body).toContain('connection refused');
    expect(proxy.stats().tunnels.opened).toBe(0);
    expect(proxy.stats().downstream.statuses['502']).toBe(1);
  });

  it('a failed CONNECT closes its client connection with reason tunnel-failed, not tunnel', async () => {
    const proxy = track(await startProxy());
    const closed = nextEvent(proxy.proxy.telemetry, 'downstream.close');
    const r = await refused(proxy.port, `127.0.0.1:${await refusedPort()}`);
    expect(r.status).toBe(502);
    expect((await closed).reason).toBe('tunnel-failed');
    const downstream = proxy.stats().downstream.connectionsClosed;
    expect(downstream['tunnel-failed']).toBe(1);
    expect(downstream.tunnel).toBeUndefined();
    expect(proxy.stats().tunnels.opened).toBe(0);
  });

  it('an unresolvable name gets 502', async () => {
    const proxy = track(await startProxy());
    const r = await refused(proxy.port, 'no-such-host.invalid:443');
    expect(r.status).toBe(502);
    expect(r.body).toContain('name not resolved');
  });

  it('a port outside tunnel.allowedPorts gets 403 and nothing is dialled', async () => {
    let accepted = 0;
    const origin = net.createServer((s) => {
      accepted++;
      s.destroy();
    });
    const port = await listen(origin);
    const proxy = track(await startProxy({ tunnel: { allowedPorts: [443] } }));
    const r = await refused(proxy.port, `127.0.0.1:${port}`);
    expect(r.status).toBe(403);
    expect(r.body).toContain(`port ${port} is not allowed`);
    expect(accepted).toBe(0);
  });

  it.each(['127.0.0.1', 'http://127.0.0.1:80/', '127.0.0.1:0'])('a malformed authority %j gets 400', async (authority) => {
    const proxy = track(await startProxy());
    expect((await refused(proxy.port, authority)).status).toBe(400);
  });

  it('a gateway refuses CONNECT with 501', async () => {
    const proxy = track(await startProxy({ mode: 'gateway', target: 'http://127.0.0.1:9' }));
    const r = await refused(proxy.port, '127.0.0.1:443');
    expect(r.status).toBe(501);
    expect(r.body).toContain('gateway mode');
  });
});
