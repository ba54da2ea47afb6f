/**
 * The admin listener (SPEC §8.3, issue 4): `GET /stats` (JSON), `GET /metrics` (Prometheus text), `GET /healthz`,
 * `GET /flows`, `/flows/ID` and `/flows.har` (issue 14, admin-flows.ts), and `GET /` (the live dashboard). Separate from the proxy port so that origin-form requests to the proxy are never
 * mistaken for admin requests (SPEC §2.2). Every route reads a fresh Stats snapshot; nothing here counts.
 */
import http from 'node:http';
import { isLoopbackHost } from '../policy/address.js';
import { answerFlows, type FlowSource } from './admin-flows.js';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard.js';
import type { Metrics } from './metrics.js';
import type { StatsSnapshot } from './stats.js';

export interface AdminSources {
  stats(): StatsSnapshot;
  /**
   * Brings `stats()` up to date before /stats or /metrics is served, when the numbers live elsewhere (the primary of
   * `--workers N` asks its workers over IPC). Must settle; a rejection serves the last numbers known.
   */
  refresh?(): Promise<void>;
  /** The flow ring (issue 14); absent where flows are not kept here (the primary of `--workers N`). */
  readonly flows?: FlowSource;
}

const TEXT = 'text/plain; charset=utf-8';

function send(res: http.ServerResponse, status: number, type: string, body: string, extra: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

/** The admin HTTP server for one proxy; its Prometheus registry belongs to it alone. */
/** The host name of a Host header value, without port or IPv6 brackets, lowercased. */
function hostName(value: string | undefined): string {
  if (value === undefined) return '';
  const v = value.trim().toLowerCase();
  if (v.startsWith('[')) return v.slice(1, v.indexOf(']') < 0 ? undefined : v.indexOf(']'));
  const colon = v.indexOf(':');
  return colon < 0 ? v : v.slice(0, colon);
}

export interface AdminOptions {
  /**
   * The listener is bound to loopback: answer only requests whose Host names loopback (a literal or `localhost`), so a
   * web page that rebinds its own name to 127.0.0.1 cannot read the statistics through a developer's browser.
   */
  readonly loopbackOnly: boolean;
}

export function createAdminServer(sources: AdminSources, opts: AdminOptions = { loopbackOnly: true }): http.Server {
  // prom-client loads on the first scrape: a proxy nobody scrapes does not keep it resident (issue 12, peak RSS).
  let metrics: Promise<Metrics> | undefined;
  const loadMetrics = (): Promise<Metrics> =>
    (metrics ??= import('./metrics.js').then((m) => new m.Metrics(() => sources.stats())));
  const fresh = (): Promise<void> => (sources.refresh === undefined ? Promise.resolve() : sources.refresh().catch(() => undefined));
  return http.createServer((req, res) => {
    if (opts.loopbackOnly && !isLoopbackHost(hostName(req.headers.host))) {
      send(res, 403, TEXT, 'forbidden: the admin listener answers only requests addressed to a loopback host\n');
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, TEXT, 'method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    const flows = answerFlows(sources.flows, path, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
    if (flows !== undefined) {
      send(res, flows.status, flows.type, flows.body);
      return;
    }
    switch (path) {
      case '/':
        send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, { 'Content-Security-Policy': DASHBOARD_CSP });
        return;
      case '/healthz':
        send(res, 200, TEXT, 'ok\n');
        return;
      case '/stats':
        void fresh()
          .then(() => send(res, 200, 'application/json', `${JSON.stringify(sources.stats(), null, 2)}\n`))
          .catch((err: unknown) => send(res, 500, TEXT, `stats failed: ${String(err)}\n`));
        return;
      case '/metrics':
        void fresh()
          .then(loadMetrics)
          .then(async (m) => ({ type: m.contentType, text: await m.render() }))
          .then(
            ({ type, text }) => send(res, 200, type, text),
            (err: unknown) => send(res, 500, TEXT, `metrics failed: ${String(err)}\n`),
          );
        return;
      default:
        send(res, 404, TEXT, 'not found: try / (dashboard), /stats, /metrics, /flows, /flows.har or /healthz\n');
    }
  });
}
