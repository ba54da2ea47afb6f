/**
 * Issue 17 (2, 3, 4, 13): one response per request, in order, and never a raw answer written into a response that
 * has started. Raw `net` clients: the bytes on the wire are what is asserted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/access/password.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, eventually, header } from '../helpers/raw.js';

const { track } = useCleanup();

/** Every status line in `bytes` (a response head starts each one). */
function statusLines(bytes: string): string[] {
  return bytes.match(/HTTP\/1\.[01] \d{3}[^\r\n]*/g) ?? [];
}

/** Read everything until the proxy closes the connection. */
async function untilClosed(c: RawClient, ms = 5000): Promise<string> {
  let all = '';
  c.socket.on('data', (b: Buffer) => {
    all += b.toString('latin1');
  });
  await c.waitClosed(ms);
  return all;
}

describe('a clientError after a response started (issue 17.2)', () => {
  it('requestTimeout during a slow upload whose response is streaming: the connection is cut, no 408 appended', async () => {
    // The origin answers at once and streams its body slowly, without waiting for the upload.
    const origin = track(await startOrigin());
    origin.server.removeAllListeners('request');
    const timers: NodeJS.Timeout[] = [];
    origin.server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first chunk\n');
      timers.push(setInterval(() => res.write('more\n'), 100));
    });
    const proxy = track(await startProxy({ downstream: { requestTimeout: 600, headersTimeout: 500 } }));
    const c = track(await RawClient.connect(proxy.port));
    let all = '';
    c.socket.on('data', (b: Buffer) => {
      all += b.toString('latin1');
    });
    c.write(`POST ${origin.url}/slowlong HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\na`);
    try {
      await c.waitClosed(5000);
    } finally {
      for (const t of timers) clearInterval(t);
    }
    expect(statusLines(all)).toEqual(['HTTP/1.1 200 OK']);
    expect(all).toContain('first chunk');
    expect(all).not.toContain('408');
    // Chunked framing without its terminal chunk: the client sees the truncation (SPEC §5.2).
    expect(all.endsWith('0\r\n\r\n')).toBe(false);
  });
});

describe('one response per request (issue 17.3)', () => {
  it.each(['identity', 'gzip', 'xchunked'])('POST with Transfer-Encoding: %s gets exactly one 400', async (coding) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const c = track(await RawClient.connect(proxy.port));
    const closed = untilClosed(c);
    c.write(`POST ${origin.url}/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${coding}\r\n\r\nhello`);
    const all = await closed;
    const lines = statusLines(all);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^HTTP\/1\.1 (400|501) /);
    expect(origin.seen).toHaveLength(0);
  });
});

describe('pipelined requests after the last one a connection serves (issue 17.4, RFC 9112 §9.6)', () => {
  it.each([
    { name: 'Connection: close', first: 'HTTP/1.1\r\nHost: x\r\nConnection: close' },
    { name: 'an HTTP/1.0 request', first: 'HTTP/1.0\r\nHost: x' },
  ])('after $name: the first response is delivered, the rest ignored, then close', async ({ first }) => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const c = track(await RawClient.connect(proxy.port));
    c.write(`GET ${origin.url}/a ${first}\r\n\r\nGET ${origin.url}/b HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await c.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello GET /a\n');
    await c.waitClosed();
    expect(origin.seen.map((s) => s.url)).toEqual(['/a']);
  });
});

describe('Expect (issue 17.13, RFC 9110 §10.1.1)', () => {
  it('Expect: 100-continue refused by the head alone (407) gets the final status, never 100 Continue', async () => {
    const users = [{ username: 'alice', passwordHash: await hashPassword('pw', { N: 1024, r: 8, p: 1 }) }];
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ access: { users } }));
    const c = track(await RawClient.connect(proxy.port));
    c.write(`POST ${origin.url}/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    const res = await c.readResponse();
    expect(res.status).toBe(407);
    expect(origin.seen).toHaveLength(0);
  });

  it('Expect: 100-continue over downstream.maxBodySize gets 413 at once, never 100 Continue', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({ downstream: { maxBodySize: 10 } }));
    const c = track(await RawClient.connect(proxy.port));
    c.write(`POST ${origin.url}/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n`);
    const res = await c.readResponse();
    expect(res.status).toBe(413);
  });

  it('Expect: 100-continue that passes the checks gets 100 Continue, then the body is relayed', async () => {
    const origin = track(await startOrigin((req, res, body) => {
      res.writeHead(200, { 'Content-Length': body.length });
      res.end(body);
    }));
    const proxy = track(await startProxy());
    const c = track(await RawClient.connect(proxy.port));
    c.write(`POST ${origin.url}/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
    const interim = await c.readResponse();
    expect(interim.status).toBe(100);
    c.write('hello');
    const res = await c.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello');
  });

  it('an unknown expectation gets 417 from the one writer, with Proxy-Status, and reaches the access log', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy());
    const c = track(await RawClient.connect(proxy.port));
    c.write(`GET ${origin.url}/x HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n\r\n`);
    const res = await c.readResponse();
    expect(res.status).toBe(417);
    expect(res.statusLine).toBe('HTTP/1.1 417 Expectation Failed');
    expect(res.body.toString()).toMatch(/^hopwise: 417 Expectation Failed: /);
    expect(header(res, 'proxy-status')[0]).toMatch(/^hopwise; error=http_request_error; details="/);
    expect(origin.seen).toHaveLength(0);
    await eventually(() => proxy.logs.some((l) => l.event === 'request' && l.status === 417), 2000, 'the access-log entry');
  });
});

describe('the 408 answer (issue 17.13)', () => {
  it('a head that does not arrive in time gets 408 saying so, not "could not be parsed"', async () => {
    const proxy = track(await startProxy({ downstream: { headersTimeout: 300, requestTimeout: 600 } }));
    const c = track(await RawClient.connect(proxy.port));
    c.write('GET http://127.0.0.1:1/x HTTP/1.1\r\nHost: x\r\n');
    const res = await c.readResponse({ ms: 5000 });
    expect(res.status).toBe(408);
    expect(res.body.toString()).not.toContain('could not be parsed');
    expect(res.body.toString()).toMatch(/^hopwise: 408 Request Timeout: .*in time/);
  });
});
