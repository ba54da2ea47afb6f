import http from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, haveChromium, launchChromium } from '../helpers/chromium.js';
import { useCleanup } from '../helpers/cleanup.js';
import { startOrigin } from '../helpers/origin.js';
import { startProxy, viaProxy } from '../helpers/proxy.js';

const WAIT = { timeout: 15_000 } as const;

let browser: Browser | undefined;
const { track, defer } = useCleanup();

beforeAll(async () => {
  if (!haveChromium) return;
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** The number a dashboard field shows (its data-value attribute). */
async function fieldValue(p: Page, selector: string): Promise<number> {
  return Number(await p.locator(selector).getAttribute('data-value'));
}

/** Wait (bounded) until the page renders `value` in a field; CSS attribute selectors, so no DOM code in the test. */
async function waitForField(p: Page, selector: string, value: string | number): Promise<void> {
  await p.waitForSelector(`${selector}[data-value="${value}"]`, WAIT);
}

describe('live dashboard (GET / on the admin listener) in headless Chromium', () => {
  it.skipIf(!haveChromium)(
    `renders live numbers that change with traffic${haveChromium ? '' : ` (SKIPPED: ${CHROMIUM} not installed; apt-get install -y chromium)`}`,
    async () => {
      const origin = track(await startOrigin());
      const proxy = track(await startProxy({}, 'warn'));
      const adminUrl = `http://127.0.0.1:${proxy.adminPort}`;
      const page = track(await browser!.newPage());
      const requested: string[] = [];
      const problems: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(e.message));

      await page.goto(`${adminUrl}/`);
      await page.waitForSelector('#status.live', WAIT);
      expect(await fieldValue(page, '[data-field="downstream-requests"]')).toBe(0);
      expect(await fieldValue(page, '[data-field="downstream-accepted"]')).toBe(0);
      expect(await page.$$('[data-origin]')).toHaveLength(0);

      // Keep-alive client: one downstream connection, one upstream socket, 11 of 12 requests reused.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      defer(() => agent.destroy());
      for (let i = 0; i < 12; i++) expect((await viaProxy(proxy.port, `${origin.url}/${i}`, { agent })).status).toBe(200);
      const card = `[data-origin="${origin.origin}"]`;
      await waitForField(page, '[data-field="downstream-requests"]', 12);
      await waitForField(page, `${card} [data-field="requests"]`, 12);
      expect(await fieldValue(page, '[data-field="downstream-accepted"]')).toBe(1);
      expect(await fieldValue(page, '[data-field="downstream-active"]')).toBe(1);
      expect(await fieldValue(page, `${card} [data-field="sockets-created"]`)).toBe(1);
      expect(await fieldValue(page, `${card} [data-field="sockets-active"]`)).toBe(1);
      expect(await fieldValue(page, `${card} [data-field="sockets-idle"]`)).toBe(1);
      expect(await fieldValue(page, `${card} [data-field="reuse-ratio"]`)).toBe(0.917);
      expect(await page.textContent(`${card} [data-field="reuse-ratio"]`)).toBe('91.7%');
      expect(await page.textContent(`${card} h2`)).toContain(origin.origin);

      // Client keep-alive off: new downstream connections per request, still the one upstream socket.
      for (let i = 0; i < 5; i++) expect((await viaProxy(proxy.port, `${origin.url}/close/${i}`, { headers: { connection: 'close' } })).status).toBe(200);
      await waitForField(page, '[data-field="downstream-accepted"]', 6);
      await waitForField(page, `${card} [data-field="requests"]`, 17);
      expect(await fieldValue(page, `${card} [data-field="sockets-created"]`)).toBe(1);
      expect(await page.textContent('[data-field="downstream-closes"]')).toContain('client-asked 5');
      // The charts have drawn points (one per poll after the first).
      expect(Number(await page.locator(`${card} svg`).getAttribute('data-points'))).toBeGreaterThan(0);

      // Self-contained: every request the page made went to the admin listener, and nothing failed (CSP included).
      expect(requested.length).toBeGreaterThan(1);
      expect(requested.filter((u) => !u.startsWith(`${adminUrl}/`) && u !== `${adminUrl}/favicon.ico`)).toEqual([]);
      expect(problems.filter((m) => !m.includes('favicon'))).toEqual([]);
    },
    60_000,
  );
});
