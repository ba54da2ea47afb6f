/**
 * Pipelined upgrade offers that hopwise declines (`Upgrade: h2c`): each is served as an ordinary request, in order,
 * behind the responses still owed on the connection (SPEC §3.3; issue 17 finding 10), and the access log says what
 * the client actually got.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import type { OriginHandler } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import { RawClient, eventually } from '../helpers/raw.js';

const { track } = useCleanup();

/** Answers `/slow*` after `ms`, everything else at once; the body names the path. */
function delayed(ms: number): OriginHandler {
  return (req, res) => {
    const body = `hello ${req.method} ${req.url}\n`;
    const send = (): void => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.url?.startsWith('/slow') === true) setTimeout(send, ms);
    else send();
  };
}

const h2c = (target: string): string =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n`;
const plain = (target: string): string => `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`;

describe('pipelined upgrade offers are answered in order (issue 17 finding 10)', () => {
  it.each([
    ['GET, h2c, h2c', ['/slow1', '/h2c-a', '/h2c-b'], [plain, h2c, h2c]],
    ['h2c, GET, h2c', ['/slow-h2c', '/plain', '/h2c-b'], [h2c, plain, h2c]],
    ['GET, GET, h2c, GET', ['/slow1', '/slow2', '/h2c', '/last'], [plain, plain, h2c, plain]],
  ] as const)('%s in one write: every response arrives, in order, and is logged as delivered', async (_name, paths, kinds) => {
    const origin = track(await startOrigin(delayed(50)));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(paths.map((p, i) => kinds[i]!(`${origin.url}${p}`)).join(''));
    for (const p of paths) {
      const res = await client.readResponse({ ms: 3000 });
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(`hello GET ${p}\n`);
    }
    // Still one keep-alive connection.
    client.write(plain(`${origin.url}/after`));
    expect((await client.readResponse()).body.toString()).toBe('hello GET /after\n');
    await eventually(() => proxy.logs.filter((l) => l.event === 'request').length === paths.length + 1, 2000, 'the access log');
    expect(proxy.logs.filter((l) => l.event === 'request').map((l) => l.status)).toEqual(paths.map(() => 200).concat(200));
    expect(proxy.stats().downstream.connectionsAccepted).toBe(1);
  });

  it('a client that resets while an offer waits its turn: the connection is released, nothing logged as delivered', async () => {
    const origin = track(await startOrigin(delayed(300)));
    const proxy = track(await startProxy());
    const client = track(await RawClient.connect(proxy.port));
    client.write(plain(`${origin.url}/slow1`) + h2c(`${origin.url}/h2c-a`) + h2c(`${origin.url}/h2c-b`));
    await eventually(() => proxy.stats().upstream.totals.socketsBusy === 1, 2000, 'the first request upstream');
    client.socket.resetAndDestroy();
    await eventually(() => proxy.stats().downstream.connectionsActive === 0, 3000, 'the connection to close');
    await eventually(() => proxy.logs.some((l) => l.event === 'request'), 3000, 'the access log');
    expect(proxy.logs.filter((l) => l.event === 'request').map((l) => [l.target, l.status])).toEqual([[`${origin.url}/slow1`, 499]]);
    expect(origin.seen.map((r) => r.url)).toEqual(['/slow1']);
  });
});

describe('an offer waiting its turn when shutdown starts (issue 17 findings 10 and A)', () => {
  it('is answered after the response before it, with Connection: close, and the proxy then closes', async () => {
    const origin = track(await startOrigin(delayed(200)));
    const proxy = track(await startProxy({ shutdown: { drainTimeout: 3000 } }));
    const client = track(await RawClient.connect(proxy.port));
    client.write(plain(`${origin.url}/slow1`) + h2c(`${origin.url}/h2c-a`));
    await eventually(() => proxy.stats().upstream.totals.socketsBusy === 1, 2000, 'the first request upstream');
    const closed = proxy.proxy.close();
    const first = await client.readResponse();
    const second = await client.readResponse();
    expect([first.body.toString(), second.body.toString()]).toEqual(['hello GET /slow1\n', 'hello GET /h2c-a\n']);
    expect([first, second].map((r) => r.rawHeaders.join(' ').toLowerCase().includes('connection close'))).toEqual([false, true]);
    await client.waitClosed();
    await closed;
  });
});

describe('the access log says what the client got (issue 17 finding A)', () => {
  it('a response complete upstream but queued behind a pipelined one when the client resets → 499 CLIENT_ABORTED, not 200', async () => {
    const origin = track(await startOrigin(delayed(400)));
    const proxy = track(await startProxy());
    let done = 0;
    proxy.proxy.telemetry.on((e) => void (e.type === 'upstream.request-done' && done++));
    const client = track(await RawClient.connect(proxy.port));
    client.write(plain(`${origin.url}/slow1`) + plain(`${origin.url}/fast`));
    await eventually(() => done === 1, 2000, 'the fast response to complete upstream');
    client.socket.resetAndDestroy();
    await eventually(() => proxy.logs.filter((l) => l.event === 'request').length === 2, 3000, 'both access-log entries');
    const entries = proxy.logs.filter((l) => l.event === 'request');
    expect(entries.map((l) => [l.target, l.status, l.error]).sort()).toEqual([
      [`${origin.url}/fast`, 499, 'CLIENT_ABORTED'],
      [`${origin.url}/slow1`, 499, 'CLIENT_ABORTED'],
    ]);
    expect(proxy.stats().downstream.statuses).toEqual({ 499: 2 });
  });
});
