import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createAdminServer } from '../../src/observability/admin.js';
import { FlowRing } from '../../src/observability/flows.js';
import { Stats } from '../../src/observability/stats.js';
import { NO_CHROMIUM, haveChromium, launchChromium } from '../helpers/chromium.js';
import { skipUnless } from '../helpers/skip.js';
import { useCleanup } from '../helpers/cleanup.js';
import { flowsAdmin, flowsStored, sampleFlow } from '../helpers/flows.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';
import { RawClient } from '../helpers/raw.js';

const WAIT = { timeout: 15_000 } as const;
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

let browser: Browser | undefined;
/** The one browser API used in a page function (the tests compile without the DOM library). */
interface CssWindow {
  getComputedStyle(e: unknown): { color: string };
}
const { track, defer } = useCleanup();
const chromiumIt = skipUnless(haveChromium, NO_CHROMIUM);

beforeAll(async () => {
  if (!haveChromium) return;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

describe('dashboard flows and connections views in headless Chromium (issue 14)', () => {
  chromiumIt('lists real flows with a waterfall, shows a diff per reason and one lane per upstream socket', async () => {
    const origin = track(await startOrigin());
    const proxy = track(await startProxy({}, 'warn'));
    const adminUrl = `http://127.0.0.1:${proxy.adminPort}`;
    // Three requests on one keep-alive client connection, then one on another client connection whose Connection
    // header names X-Foo: the upstream socket is shared by both clients (SPEC §4.1), so it carries all of them.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    defer(() => agent.destroy());
    for (let i = 0; i < 3; i++) expect((await viaProxy(proxy.port, `${origin.url}/${i}`, { agent })).status).toBe(200);
    const client = track(await RawClient.connect(proxy.port));
    client.write(`GET ${origin.url}/x HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nConnection: X-Foo\r\nX-Foo: 1\r\nCookie: sid=secret\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(200);
    await flowsStored(proxy.proxy.flows, 4);

    const page = track(await browser!.newPage({ viewport: { width: 1600, height: 1000 } }));
    const problems: string[] = [];
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(`${adminUrl}/`);
    await page.click('nav button[data-view="view-flows"]');
    await page.waitForSelector('#flow-rows tr[data-flow-id="4"]', WAIT);
    expect(await page.locator('#flow-rows tr').count()).toBe(4);
    expect(await page.textContent('#flow-rows tr[data-flow-id="1"] [data-field="conn"]')).toBe('new');
    expect(await page.textContent('#flow-rows tr[data-flow-id="2"] [data-field="conn"]')).toBe('reused');
    expect(await page.locator('#flow-rows tr[data-flow-id="1"] .wf span').count()).toBeGreaterThanOrEqual(2);

    // A flow that completes while the page is open appears without a reload.
    expect((await viaProxy(proxy.port, `${origin.url}/late`, { agent })).status).toBe(200);
    await page.waitForSelector('#flow-rows tr[data-flow-id="5"]', WAIT);

    await page.click('#flow-rows tr[data-flow-id="4"]');
    await page.waitForSelector('#flow-detail[data-flow-id="4"] table.diff', WAIT);
    const removed = page.locator('#flow-detail table[data-direction="request"] tr[data-name="x-foo"]');
    expect(await removed.getAttribute('data-reason')).toBe('named-in-connection');
    expect(await removed.getAttribute('class')).toContain('r-named-in-connection');
    const colourOf = (sel: string): Promise<string> =>
      page.locator(sel).evaluate((e: unknown) => (globalThis as unknown as CssWindow).getComputedStyle(e).color);
    expect(await colourOf('#flow-detail table[data-direction="request"] tr[data-name="x-foo"]')).not.toBe(
      await colourOf('#flow-detail table[data-direction="request"] tr[data-name="connection"]'),
    );
    expect(await page.textContent('#flow-detail .story')).toMatch(/reused upstream socket \d+ to http:\/\/127\.0\.0\.1:\d+, request 4 on it/);
    expect(await page.textContent('#flow-detail')).not.toContain('sid=secret');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('dashboard-flows.png', ARTIFACTS).pathname, fullPage: true });

    await page.click('nav button[data-view="view-connections"]');
    await page.waitForSelector('#lanes .lane .bar', WAIT);
    // One upstream socket carried all five requests: one lane, one new bar and four reused ones.
    expect(await page.locator('#lanes .lane').count()).toBe(1);
    expect(await page.locator('#lanes .lane .bar').count()).toBe(5);
    expect(await page.locator('#lanes .lane .bar.new').count()).toBe(1);
    expect(await page.isVisible('#view-flows')).toBe(false);
    await page.screenshot({ path: new URL('dashboard-connections.png', ARTIFACTS).pathname, fullPage: true });

    expect(requested.filter((u) => !u.startsWith(`${adminUrl}/`))).toEqual([]);
    expect(problems.filter((m) => !m.includes('favicon'))).toEqual([]);
  }, 60_000);

  chromiumIt('the connections view shows one lane per upstream socket', async () => {
    const ring = new FlowRing(50);
    ring.add(sampleFlow({ socket: 7, reused: false, socketReq: 1 }, 'http', 1000));
    ring.add(sampleFlow({ socket: 7, reused: true, socketReq: 2, tConnect: -1, tDns: -1, tTcp: -1 }, 'http', 1030));
    ring.add(sampleFlow({ socket: 9, reused: false, socketReq: 1, status: 502, outcome: 'error', error: 'UPSTREAM_RESET' }, 'http', 1040));
    const adminUrl = await flowsAdmin(ring, defer);
    const page = track(await browser!.newPage());
    await page.goto(`${adminUrl}/`);
    await page.click('nav button[data-view="view-connections"]');
    await page.waitForSelector('#lanes .lane[data-socket="9"]', WAIT);
    expect(await page.locator('#lanes .lane').count()).toBe(2);
    expect(await page.locator('#lanes .lane[data-socket="7"] .bar').count()).toBe(2);
    expect(await page.locator('#lanes .lane[data-socket="7"] .bar.new').count()).toBe(1);
  }, 60_000);

  chromiumIt('pool cards: a dash for an origin without requests, errors per origin, a tunnels card', async () => {
    const stats = new Stats();
    stats.record({ type: 'upstream.connect-error', origin: 'http://down.test', code: 'UPSTREAM_REFUSED' });
    stats.record({ type: 'upstream.error', origin: 'http://down.test', code: 'UPSTREAM_REFUSED' });
    stats.record({ type: 'tunnel.open', tunnel: 1, conn: 1, kind: 'connect', target: 'a.test:443' });
    // http://quiet.test is seen first with one request, http://busy.test later with three: busiest first.
    stats.record({ type: 'upstream.open', origin: 'http://quiet.test', socket: 1, connectMs: 1 });
    stats.record({ type: 'upstream.request', origin: 'http://quiet.test', socket: 1, reused: false });
    stats.record({ type: 'upstream.open', origin: 'http://busy.test', socket: 2, connectMs: 1 });
    for (let i = 0; i < 3; i++) stats.record({ type: 'upstream.request', origin: 'http://busy.test', socket: 2, reused: i > 0 });
    const server = createAdminServer({ stats: () => stats.snapshot() });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    defer(() => server.closeAllConnections());
    const page = track(await browser!.newPage());
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const card = '[data-origin="http://down.test"]';
    await page.waitForSelector(`${card} [data-field="errors"][data-value="1"]`, WAIT);
    expect(await page.textContent(`${card} [data-field="reuse-ratio"]`)).toBe('\u2014');
    expect(await page.textContent(`${card} [data-field="error-kinds"]`)).toContain('UPSTREAM_REFUSED 1');
    expect(await page.getAttribute('[data-field="tunnels-active"]', 'data-value')).toBe('1');
    const order = await page.locator('#origins [data-origin]').evaluateAll((cards: unknown[]) =>
      cards.map((c) => (c as { dataset: { origin: string } }).dataset.origin),
    );
    expect(order).toEqual(['http://busy.test', 'http://quiet.test', 'http://down.test']);
  }, 60_000);
});
