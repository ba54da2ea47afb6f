/**
 * SPEC §2.4 over real sockets: a request carrying this instance's Via member, or addressed to the proxy's own
 * listening address, is answered 508 at once; chained instances with different ids work.
 */
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy } from '../helpers/proxy.js';
import type { TestProxy } from '../helpers/proxy.js';
import { RawClient, eventually, header } from '../helpers/raw.js';

const { track } = useCleanup();

async function proxyWith(...args: Parameters<typeof startProxy>): Promise<TestProxy> {
  return track(await startProxy(...args));
}

async function get(port: number, target: string, extra = ''): Promise<Awaited<ReturnType<RawClient['readResponse']>>> {
  const c = track(await RawClient.connect(port));
  c.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`);
  return c.readResponse();
}

describe('Via carrying this instance', () => {
  it('→ 508 at once, nothing upstream; the same pseudonym with another id passes', async () => {
    const origin = track(await startOrigin());
    const p = await proxyWith({}, 'debug', { instanceId: 'hw-aaaaaa' });
    const looped = await get(p.port, `${origin.url}/x`, 'Via: 1.1 corp-cache, 1.1 hopwise (hw-aaaaaa)\r\n');
    expect(looped.status).toBe(508);
    expect(looped.body.toString()).toContain('already passed through this proxy');
    expect(origin.seen).toHaveLength(0);
    const other = await get(p.port, `${origin.url}/x`, 'Via: 1.1 hopwise (hw-bbbbbb)\r\n');
    expect(other.status).toBe(200);
    expect(header(origin.seen[0]!, 'via')).toEqual(['1.1 hopwise (hw-bbbbbb)', '1.1 hopwise (hw-aaaaaa)']);
  });
});

describe("the proxy's own listening address as the target", () => {
  it.each(['127.0.0.1', 'localhost', '0.0.0.0', '127.1'])('http://%s:<proxy port>/ → 508 at once', async (host) => {
    const p = await proxyWith();
    const t0 = performance.now();
    const res = await get(p.port, `http://${host}:${p.port}/x`);
    expect(res.status).toBe(508);
    expect(res.body.toString()).toContain("this proxy's own listening address");
    expect(performance.now() - t0).toBeLessThan(1000);
    // One request only: it was never sent back to ourselves.
    await eventually(() => p.logs.some((l) => l.event === 'request'), 2000, 'the access-log entry');
    expect(p.logs.filter((l) => l.event === 'request')).toEqual([expect.objectContaining({ status: 508, error: 'LOOP_DETECTED' })]);
  });
});

describe('chained instances', () => {
  it('forward → gateway → origin works; the origin sees both Via members', async () => {
    const origin = track(await startOrigin());
    const b = await proxyWith({ mode: 'gateway', target: origin.url });
    const a = await proxyWith();
    expect(a.proxy.instanceId).not.toBe(b.proxy.instanceId);
    const res = await get(a.port, `http://127.0.0.1:${b.port}/chain`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello GET /chain\n');
    expect(header(origin.seen[0]!, 'via')).toEqual([`1.1 hopwise (${a.proxy.instanceId})`, `1.1 hopwise (${b.proxy.instanceId})`]);
  });

  it('two instances that share an id detect each other (the id, not the pseudonym, is what counts)', async () => {
    const origin = track(await startOrigin());
    const b = await proxyWith({ mode: 'gateway', target: origin.url }, 'debug', { instanceId: 'hw-same00' });
    const a = await proxyWith({}, 'debug', { instanceId: 'hw-same00' });
    expect((await get(a.port, `http://127.0.0.1:${b.port}/chain`)).status).toBe(508);
    expect(origin.seen).toHaveLength(0);
  });

  it('a loop through another instance (A → B → A) is stopped at its second pass through A', async () => {
    const a = await proxyWith();
    const b = await proxyWith({ mode: 'gateway', target: a.url });
    const t0 = performance.now();
    const res = await get(a.port, `http://127.0.0.1:${b.port}/round`);
    expect(res.status).toBe(508);
    expect(res.body.toString()).toContain('already passed through this proxy');
    expect(performance.now() - t0).toBeLessThan(2000);
    // The 508 travelled back through B and A: each relayed exactly one response.
    expect(header(res, 'via')).toEqual(['1.1 hopwise', '1.1 hopwise']);
  });
});
