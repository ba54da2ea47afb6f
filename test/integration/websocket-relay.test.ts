/**
 * WebSocket handshakes on hopwise's own upstream leg (issues 12 and 17): the connector dials and vets, the handshake
 * is written from the policy's flat header list, the response parser reads the answer. Regressions for issue 17
 * findings 7 (a declined answer cut short hung the client and leaked both sockets), 8 (declined answers skipped the
 * response checks), 9 (`constructor` / `__proto__` fields corrupted by header objects) and 13 (a `101` to a protocol
 * the client did not offer was relayed), and the DNS-rebinding acceptance test of issue 12.
 */
import type { LookupFunction } from 'node:net';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, eventually, header, startRawOrigin, within } from '../helpers/raw.js';
import type { RawOrigin } from '../helpers/raw.js';

const { track } = useCleanup();

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function handshake(target: string, extra = ''): string {
  return `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n${extra}\r\n`;
}

/** A raw origin that answers the first complete handshake head with `answer` (then, optionally, ends). */
async function answering(answer: string, end: boolean): Promise<RawOrigin> {
  return track(
    await startRawOrigin((socket, all) => {
      if (all.indexOf('\r\n\r\n') < 0 || socket.writableEnded) return;
      if (end) socket.end(answer);
      else socket.write(answer);
    }),
  );
}

/** Resolves when the origin-side socket of connection `i` has closed: the proxy released its end. */
function originClosed(origin: RawOrigin, i = 0): Promise<void> {
  return within(3000, new Promise<void>((resolve) => {
    const wait = (): void => {
      const s = origin.sockets[i];
      if (s === undefined) {
        setImmediate(wait);
        return;
      }
      if (s.closed) resolve();
      else s.once('close', () => resolve());
    };
    wait();
  }), 'the proxy to close its origin socket');
}

function pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

describe('declined WebSocket handshakes are ordinary responses (issue 17 findings 7, 8)', () => {
  it('finding 7: a declined body cut short (Content-Length 10, 5 bytes, FIN) cuts the client at once and releases every socket', async () => {
    const origin = await answering('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello', true);
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`));
    const res = await client.readResponse({ ms: 3000 });
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(res.body.toString()).toBe('hello');
    await client.waitClosed(2000);
    await originClosed(origin);
    expect(proxy.stats().tunnels.active).toBe(0);
    expect(proxy.stats().downstream.connectionsActive).toBe(0);
    // Nothing is left for shutdown to wait for: a graceful close finishes at once, not after the drain timeout.
    await within(1500, proxy.proxy.close(), 'a graceful close with nothing in flight');
  });

  it('finding 7: the same cut in a chunked declined body', async () => {
    const origin = await answering('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', true);
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`));
    const res = await client.readResponse({ ms: 3000 });
    expect(res.status).toBe(403);
    expect(res.complete).toBe(false);
    await client.waitClosed(2000);
    await originClosed(origin);
    expect(proxy.stats().tunnels.active).toBe(0);
  });

  it('finding 8: `gzip, chunked` is refused (502) as on the forwarding path, before any byte of it', async () => {
    const origin = await answering('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', false);
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`));
    const res = await client.readResponse({ ms: 3000 });
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain('unsupported Transfer-Encoding');
    await client.waitClosed(2000);
    await originClosed(origin);
  });

  it('finding 8: a declined chunked answer keeps the origin’s name case, is re-chunked, stripped, with Via and Connection: close', async () => {
    const origin = await answering(
      'HTTP/1.1 426 Upgrade Required\r\nX-Mixed-Case: a\r\nConnection: X-Hop\r\nX-Hop: secret\r\ntransfer-encoding: chunked\r\n\r\n' +
        '6\r\nplease\r\n5\r\n upgr\r\n0\r\n\r\n',
      false,
    );
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`));
    const res = await client.readResponse({ ms: 3000 });
    expect(res.statusLine).toBe('HTTP/1.1 426 Upgrade Required');
    expect(res.complete).toBe(true);
    expect(res.body.toString()).toBe('please upgr');
    expect(pairs(res.rawHeaders)).toEqual([
      ['X-Mixed-Case', 'a'],
      ['Via', '1.1 hopwise'],
      ['Transfer-Encoding', 'chunked'],
      ['Connection', 'close'],
    ]);
    await client.waitClosed(3000);
    await originClosed(origin);
    expect(proxy.stats().downstream.statuses['426']).toBe(1);
  });
});

describe('handshake headers are name/value pairs end to end (issue 17 finding 9)', () => {
  it('a `constructor` request field arrives once and exactly; a `__proto__` response field arrives as `__proto__: y`', async () => {
    const origin = await answering('HTTP/1.1 400 Bad Request\r\n__proto__: y\r\nconstructor: z\r\nContent-Length: 2\r\n\r\nno', false);
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`, 'constructor: x\r\n__proto__: q\r\nhasOwnProperty: h\r\n'));
    const res = await client.readResponse({ ms: 3000 });
    expect(res.status).toBe(400);
    expect(res.body.toString()).toBe('no');
    expect(header(res, '__proto__')).toEqual(['y']);
    expect(header(res, 'constructor')).toEqual(['z']);
    expect(res.rawHeaders.filter((_, i) => i % 2 === 0)).not.toContain('0');
    const seen = origin.received[0]!.toString('latin1');
    expect(seen.match(/^constructor: .*$/gim)).toEqual(['constructor: x']);
    expect(seen.match(/^__proto__: .*$/gim)).toEqual(['__proto__: q']);
    expect(seen.match(/^hasOwnProperty: .*$/gim)).toEqual(['hasOwnProperty: h']);
  });

  it('the same fields survive a 101', async () => {
    const origin = await answering(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n__proto__: y\r\nconstructor: z\r\n\r\n',
      false,
    );
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`, 'constructor: x\r\n'));
    const res = await client.readResponse({ ms: 3000, head: true });
    expect(res.status).toBe(101);
    expect(header(res, '__proto__')).toEqual(['y']);
    expect(header(res, 'constructor')).toEqual(['z']);
    expect(origin.received[0]!.toString('latin1').match(/^constructor: .*$/gim)).toEqual(['constructor: x']);
  });
});

describe('the 101 (RFC 9110 §7.8)', () => {
  it('a 101 switching to a protocol the client did not offer gets 502 and nothing is spliced', async () => {
    const origin = await answering('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\nPRI * HTTP/2.0', false);
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`));
    const res = await client.readResponse({ ms: 3000 });
    expect(res.status).toBe(502);
    expect(res.body.toString()).toContain('did not offer');
    await client.waitClosed(3000);
    await originClosed(origin);
    expect(proxy.stats().tunnels.opened).toBe(0);
  });

  it('bytes the origin sent right after its 101, and the client right after its handshake, go through first', async () => {
    const origin = track(
      await startRawOrigin((socket, all) => {
        if (all.indexOf('\r\n\r\n') >= 0 && socket.bytesWritten === 0) {
          socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nFROM-ORIGIN');
        }
      }),
    );
    const proxy = track(await startProxy());
    const client = net.connect(proxy.port, '127.0.0.1');
    client.on('error', () => undefined);
    let got = '';
    const arrived = within(3000, new Promise<void>((resolve) => {
      client.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (got.endsWith('FROM-ORIGIN')) resolve();
      });
    }), 'the 101 and the origin bytes at the client');
    try {
      client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`) + 'FROM-CLIENT');
      await arrived;
      expect(got).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nFROM-ORIGIN$/);
      await eventually(() => origin.received[0]!.toString('latin1').endsWith('\r\n\r\nFROM-CLIENT'), 3000, 'the client bytes at the origin');
      expect(proxy.stats().tunnels.opened).toBe(1);
    } finally {
      client.destroy();
    }
  });
});

describe('after the switch (the tunnel splices like CONNECT)', () => {
  it('a FIN from the origin reaches the client as a half-close; the client can still send', async () => {
    const origin = track(
      await startRawOrigin((socket, all) => {
        if (all.indexOf('\r\n\r\n') >= 0 && socket.bytesWritten === 0) {
          socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nbye');
        }
      }),
    );
    const proxy = track(await startProxy());
    const client = net.connect({ port: proxy.port, host: '127.0.0.1', allowHalfOpen: true });
    client.on('error', () => undefined);
    let got = '';
    client.on('data', (c: Buffer) => (got += c.toString('latin1')));
    const ended = within(3000, new Promise<void>((resolve) => client.once('end', () => resolve())), 'the half-close at the client');
    try {
      client.write(handshake(`ws://127.0.0.1:${origin.port}/chat`));
      await ended;
      expect(got).toMatch(/^HTTP\/1\.1 101 [^]*\r\n\r\nbye$/);
      client.end('after');
      await eventually(() => origin.received[0]!.toString('latin1').endsWith('\r\n\r\nafter'), 3000, 'the client bytes after the origin FIN');
    } finally {
      client.destroy();
    }
  });
});

describe('the handshake is dialled by the connector (issue 12)', () => {
  it('a name allowed by the pre-DNS check that resolves to a denied address at dial time is refused (403), nothing sent', async () => {
    const origin = track(await startRawOrigin(() => undefined));
    const lookup = ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
      if (hostname !== 'rebind.test') {
        callback(Object.assign(new Error(`no such name ${hostname}`), { code: 'ENOTFOUND' }));
        return;
      }
      if ((options as { all?: boolean }).all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
      else callback(null, '127.0.0.1', 4);
    }) as LookupFunction;
    const proxy = track(await startProxy({ access: { destinations: [{ action: 'deny', cidr: '127.0.0.1/32' }] } }, 'debug', { lookup }));
    const client = track(await RawClient.connect(proxy.port));
    client.write(handshake(`ws://rebind.test:${origin.port}/chat`));
    const res = await client.readResponse({ ms: 3000 });
    expect(res.status).toBe(403);
    expect(res.body.toString()).toContain('127.0.0.1');
    await client.waitClosed(3000);
    // The connector vets the address it connected to, so the TCP handshake happens; not one byte is sent.
    expect(origin.received.every((b) => b.length === 0)).toBe(true);
  });
});
