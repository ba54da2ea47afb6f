/**
 * Issue 7 on the tunnel paths: CONNECT and WebSocket upgrades pass the same guard as plain HTTP — proxy
 * authentication (407 with the challenge), destination rules (403), loops (508) — before anything is dialled.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/forward/password.js';
import { startProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, header } from '../helpers/raw.js';
import { connectVia, readToEnd } from '../helpers/tunnel.js';

let proxy: TestProxy | undefined;
let echo: net.Server | undefined;
let accepted = 0;
const sockets: net.Socket[] = [];
let users: { username: string; passwordHash: string }[] = [];
const basic = (user: string, pw: string): string => Buffer.from(`${user}:${pw}`).toString('base64');

beforeAll(async () => {
  users = [{ username: 'alice', passwordHash: await hashPassword('s3cret', { N: 1024, r: 8, p: 1 }) }];
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proxy?.close();
  if (echo !== undefined) {
    const e = echo;
    await new Promise<void>((r) => e.close(() => r()));
  }
  proxy = echo = undefined;
  accepted = 0;
});

/** A TCP echo server that counts the connections it accepts (a dial that should not happen is visible). */
async function startEcho(): Promise<number> {
  echo = net.createServer((s) => {
    accepted++;
    sockets.push(s);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
  return (echo.address() as AddressInfo).port;
}

describe('CONNECT through the guard', () => {
  it('without credentials → 407 with Proxy-Authenticate, and nothing is dialled', async () => {
    const port = await startEcho();
    proxy = await startProxy({ access: { users, realm: 'hopwise-test' } });
    const r = await connectVia(proxy.port, `127.0.0.1:${port}`);
    sockets.push(r.socket);
    expect(r.status).toBe(407);
    expect(r.head).toContain('\r\nProxy-Authenticate: Basic realm="hopwise-test", charset="UTF-8"\r\n');
    expect(accepted).toBe(0);
  });

  it('with valid credentials → 200 and the tunnel carries bytes', async () => {
    const port = await startEcho();
    proxy = await startProxy({ access: { users } });
    const r = await connectVia(proxy.port, `127.0.0.1:${port}`, { extra: `Proxy-Authorization: Basic ${basic('alice', 's3cret')}\r\n` });
    sockets.push(r.socket);
    expect(r.status).toBe(200);
    r.socket.resume();
    r.socket.end('ping');
    expect((await readToEnd(r.socket, r.rest)).toString()).toBe('ping');
  });

  it('a denied destination port → 403, and nothing is dialled', async () => {
    const port = await startEcho();
    proxy = await startProxy({ access: { destinations: [{ action: 'deny', ports: [port] }] } });
    const r = await connectVia(proxy.port, `127.0.0.1:${port}`);
    sockets.push(r.socket);
    expect(r.status).toBe(403);
    expect(accepted).toBe(0);
  });

  it("a CONNECT to the proxy's own address → 508", async () => {
    proxy = await startProxy();
    const r = await connectVia(proxy.port, `127.0.0.1:${proxy.port}`);
    sockets.push(r.socket);
    expect(r.status).toBe(508);
  });
});

describe('WebSocket upgrades through the guard', () => {
  const upgrade = (target: string, extra = ''): string =>
    `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

  it('without credentials → 407 with Proxy-Authenticate, and nothing is dialled', async () => {
    const port = await startEcho();
    proxy = await startProxy({ access: { users } });
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
    expect(accepted).toBe(0);
  });

  it('a denied destination → 403, and nothing is dialled', async () => {
    const port = await startEcho();
    proxy = await startProxy({ access: { destinations: [{ action: 'deny', host: '127.0.0.1' }] } });
    const c = await RawClient.connect(proxy.port);
    try {
      c.write(upgrade(`ws://127.0.0.1:${port}/chat`));
      expect((await c.readResponse()).status).toBe(403);
    } finally {
      c.close();
    }
    expect(accepted).toBe(0);
  });
});
