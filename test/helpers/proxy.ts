/**
 * A hopwise instance on ephemeral loopback ports for integration tests, with its log entries captured as objects.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { PassThrough } from 'node:stream';
import { configSchema } from '../../src/config/schema.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/observability/logger.js';
import type { LogLevel } from '../../src/observability/logger.js';
import { createProxy } from '../../src/proxy.js';
import type { Proxy } from '../../src/proxy.js';
import type { StatsSnapshot } from '../../src/observability/stats.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] };

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base === null || over === null || typeof base !== 'object' || typeof over !== 'object' || Array.isArray(over)) return over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
  return out;
}

/** The embedded defaults with test-friendly ports (0) and the given overrides, validated by the real schema. */
export function testConfig(overrides: DeepPartial<Config> = {}): Config {
  const defaults = JSON.parse(readFileSync(new URL('../../config/default.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  delete defaults.$comment;
  const base = merge(defaults, { listen: { port: 0 }, admin: { port: 0 }, stats: { interval: 0 } });
  return configSchema.parse(merge(base, overrides));
}

export interface TestProxy {
  readonly proxy: Proxy;
  readonly port: number;
  readonly adminPort: number | undefined;
  /** Gateway routes' ports, in config order. */
  readonly routePorts: readonly number[];
  readonly url: string;
  /** Log entries written so far (JSON objects). */
  readonly logs: Record<string, unknown>[];
  stats(): StatsSnapshot;
  close(): Promise<void>;
}

export async function startProxy(
  overrides: DeepPartial<Config> = {},
  level: LogLevel = 'debug',
  opts: { instanceId?: string; lookup?: LookupFunction } = {},
): Promise<TestProxy> {
  const stream = new PassThrough();
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  stream.on('data', (c: Buffer) => {
    pending += c.toString();
    let i: number;
    while ((i = pending.indexOf('\n')) >= 0) {
      logs.push(JSON.parse(pending.slice(0, i)) as Record<string, unknown>);
      pending = pending.slice(i + 1);
    }
  });
  const logger = createLogger({ level, format: 'json', stream });
  const proxy = createProxy(testConfig(overrides), { logger, ...opts });
  const info = await proxy.listen();
  return {
    proxy,
    port: info.proxy.port,
    adminPort: info.admin?.port,
    routePorts: info.routes.map((r) => r.port),
    url: `http://127.0.0.1:${info.proxy.port}`,
    logs,
    stats: () => proxy.stats(),
    close: async () => {
      await proxy.destroy();
      await logger.close();
    },
  };
}

export interface ClientResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

/** Send one request through the proxy (absolute-form target) with Node's http client. */
export function viaProxy(
  proxyPort: number,
  target: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders | string[]; body?: Buffer | string; agent?: http.Agent | false } = {},
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: proxyPort,
      method: opts.method ?? 'GET',
      path: target,
      headers: opts.headers,
      agent: opts.agent ?? false,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
