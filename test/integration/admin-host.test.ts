/**
 * DNS rebinding (docs/security.md): a loopback admin listener answers only requests whose Host names loopback, so a
 * web page that rebinds its own name to 127.0.0.1 cannot read /stats through a developer's browser.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startProxy } from '../helpers/proxy.js';

const { track } = useCleanup();

function get(port: number, host: string, path = '/stats'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { Host: host }, agent: false });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin listener Host check', () => {
  it.each(['127.0.0.1', 'localhost', '[::1]', '127.0.0.1:PORT', 'localhost:PORT', 'LOCALHOST:PORT'])('Host %s is answered', async (host) => {
    const proxy = track(await startProxy());
    const port = proxy.adminPort!;
    const res = await get(port, host.replace('PORT', String(port)));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty('downstream');
  });

  it.each(['attacker.example:PORT', 'attacker.example', '192.168.1.10:PORT', 'evil.localhost.example'])('Host "%s" gets 403 on every path', async (host) => {
    const proxy = track(await startProxy());
    const port = proxy.adminPort!;
    for (const path of ['/stats', '/metrics', '/']) {
      const res = await get(port, host.replace('PORT', String(port)), path);
      expect(res.status).toBe(403);
      expect(res.body).not.toContain('downstream');
    }
  });
});
