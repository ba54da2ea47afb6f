/**
 * Issue 7 on the tunnel paths: CONNECT and WebSocket upgrades pass the same guard as plain HTTP — proxy
 * authentication (407 with the challenge), destination rules (403), loops (508) — before anything is dialled.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/access/password.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, header } from '../helpers/raw.js';
import { connectVia, readToEnd } from '../helpers/tunnel.js';

const { track, defer } = useCleanup();
let users: { username: string; passwordHash: string }[] = [];
const basic = (user: string, pw: string): string => Buffer.from(`${user}:${pw}`).toString('base64');

beforeAll(async () => {
  users = [{ username: 'alice', passwordHash: await hashPassword('s3cret', { N: 1024, r: 8, p: 1 }) }];
});

/** A TCP echo server that counts the connections it accepts (a dial that should not happen is visible). */
async function startEcho(): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const echo = net.createServer((s) => {
    accepted++;
    defer(() => s.destroy());
    s.on('error', () => undefined);
    s.pipe(s);
  });
  defer(() => new Promise<void>((r) => echo.close(() => r())));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  return { port: (echo.address() as AddressInfo).port, accepted: () => accepted };
}

describe('CONNECT through the guard', () => {
  it('without credentials → 407 with Proxy-Authenticate, and nothing is dialled', async () => {
    const { port, accepted } = await startEcho();
    const proxy = track(await startProxy({ access: { users, realm: 'hopwise-test' } }));
    const r = await connectVia(proxy.port, `127.0.0.1:${port}`);
    defer(() => r.socket.destroy());
    expect(r.status).toBe(407);
    expect(r.head).toContain('\r\nProxy-Authenticate: Basic realm="hopwise-test", charset="UTF-8"\r\n');
    expect(accepted()).toBe(0);
  });

  it('with valid credentials → 200 and the tunnel carries bytes', async () => {
    const { port } = await startEcho();
    const proxy = track(await startProxy({ access: { users } }));
    const r = await connectVia(proxy.port, `127.0.0.1:${port}`, { extra: `Proxy-Authorization: Basic ${basic('alice', 's3cret')}\r\n` });
    defer(() => r.socket.destroy());
    expect(r.status).toBe(200);
    r.socket.resume();
    r.socket.end('ping');
    expect((await readToEnd(r.socket, r.rest)).toString()).toBe('ping');
  });

  it('a denied destination port → 403, and nothing is dialled', async () => {
    const { port, accepted } = await startEcho();
    const proxy = track(await startProxy({ access: { destinations: [{ action: 'deny', ports: [port] }] } }));
    const r = await connectVia(proxy.port, `127.0.0.1:${port}`);
    defer(() => r.socket.destroy());
    expect(r.status).toBe(403);
    expect(accepted()).toBe(0);
  });

  it("a CONNECT to the proxy's own address → 508", async () => {
    const proxy = track(await startProxy());
    const r = await connectVia(proxy.port, `127.0.0.1:${proxy.port}`);
    defer(() => r.socket.destroy());
    expect(r.status).toBe(508);
  });
});

describe('WebSocket upgrades through the guard', () => {
  const upgrade = (target: string, extra = ''): string =>
    `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

  it('without credentials → 407 with Proxy-Authenticate, and nothing is dialled', async () => {
    const { port, accepted } = await startEcho();
    const proxy = track(await startProxy({ access: { users } }));
    const c = await RawClient.connect(proxy.port);
    try {
      c.write(upgrade(`ws://127.0.0.1:${port}/chat`));
      const res = await c.readResponse();
      expect(res.status).toBe(407);
      expect(header(res, 'proxy-authenticate')).toEqual(['Basic realm="hopwise", charset="UTF-8"']);
      await c.waitClosed();
    } finally {
      c.close();
    }
    expect(accepted()).toBe(0);
  });

  it('a denied destination → 403, and nothing is dialled', async () => {
    const { port, accepted } = await startEcho();
    const proxy = track(await startProxy({ access: { destinations: [{ action: 'deny', host: '127.0.0.1' }] } }));
    const c = await RawClient.connect(proxy.port);
    try {
      c.write(upgrade(`ws://127.0.0.1:${port}/chat`));
      expect((await c.readResponse()).status).toBe(403);
    } finally {
      c.close();
    }
    expect(accepted()).toBe(0);
  });
});
