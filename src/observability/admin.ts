/**
 * The admin listener (SPEC §8.3): stats as JSON, health. Separate from the proxy port so that origin-form requests to
 * the proxy are never mistaken for admin requests (SPEC §2.2).
 */
import http from 'node:http';
import type { StatsSnapshot } from './stats.js';

export interface AdminSources {
  stats(): StatsSnapshot;
}

export function createAdminServer(sources: AdminSources): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end('ok\n');
      return;
    }
    if (path === '/stats') {
      const body = JSON.stringify(sources.stats(), null, 2);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found: try /stats or /healthz\n');
  });
}
