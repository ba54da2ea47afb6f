/**
 * The one configuration schema (zod). Every key the proxy reads is declared here, strictly: an unknown key is an
 * error (STYLE rule 6). Defaults do NOT live here: they are data in `config/default.json`, merged under the user's
 * file and flags by `load.ts`, and the merged result is validated by this schema once, at the process edge.
 *
 * Units: every duration is in milliseconds, except `stats.interval`, which is in seconds (SPEC §8.3).
 */
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
// Units live in metadata so validation messages and docs can name them ("… (milliseconds)").
const ms = z.number().int().min(0).meta({ unit: 'milliseconds' });
const bytes = z.number().int().min(0).meta({ unit: 'bytes' });
const positiveInt = z.number().int().min(1);
const host = z.string().min(1);

const listen = z.strictObject({
  host: host.describe('address to bind; 127.0.0.1 by default (loopback: a fresh install is never an open proxy)'),
  port: port.describe('TCP port; 0 picks a free one'),
});

const originUrl = z
  .string()
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.pathname === '/' && !u.search && !u.hash;
    } catch {
      return false;
    }
  }, 'expected an origin URL such as http://127.0.0.1:9000 (scheme, host, optional port, no path)');

/**
 * Parent proxy URLs (issue 13): one, or a failover list. Only the type is checked here; the URLs themselves are parsed
 * by policy/parent.ts in the semantic checks (validate.ts), so messages can name the entry without echoing credentials.
 */
const proxyList = z.union([z.string(), z.array(z.string())]);

const route = z.strictObject({
  listen,
  target: originUrl,
  preserveHost: z.boolean().optional(),
  proxy: proxyList.optional().describe('parent proxy URL(s) for this route, or "direct"; default: upstream routing'),
});

const proxyRule = z.strictObject({
  hosts: z.array(z.string()).describe('host patterns as in noProxy'),
  proxy: proxyList.describe('parent proxy URL(s), or "direct"'),
});

/** Per-origin upstream settings: the upstream defaults, overridden for one origin (e.g. a legacy next hop). */
const originSettings = z.strictObject({
  origin: originUrl.describe('the origin these settings apply to, e.g. http://10.0.0.5:3128'),
  maxSockets: positiveInt.optional().describe('connections to this origin'),
  idleTimeout: ms.optional().describe('idle sockets to this origin are retired after this'),
  maxRequestsPerSocket: z.number().int().min(0).optional().describe('1 = a new connection for every request; 0 = unlimited'),
});

const destinationRule = z.strictObject({
  action: z.enum(['allow', 'deny']),
  host: z.string().optional().describe('host glob, e.g. *.internal'),
  cidr: z.string().optional().describe('IPv4/IPv6 CIDR, e.g. 10.0.0.0/8'),
  ports: z.array(port).optional(),
});

const user = z.strictObject({
  username: z.string().min(1),
  passwordHash: z.string().min(1).describe('output of `hopwise hash-password`'),
});

export const configSchema = z.strictObject({
  mode: z.enum(['forward', 'gateway', 'dumb', 'naive']),
  listen,
  target: originUrl.nullable().describe('gateway mode: the fixed upstream origin'),
  routes: z.array(route).describe('gateway mode: extra listeners, each with its own target'),
  preserveHost: z.boolean().describe('gateway mode: keep the client Host (true) or rewrite it to the target'),
  forwarded: z
    .enum(['auto', 'none', 'x-forwarded', 'rfc7239'])
    .describe('client-address headers added after stripping; auto = none (forward), x-forwarded (gateway)'),
  via: z.strictObject({
    pseudonym: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a token: letters, digits, . _ -'),
  }),
  log: z.strictObject({
    level: z.enum(['error', 'warn', 'info', 'debug']),
    format: z.enum(['auto', 'pretty', 'json']).describe('auto: pretty on a TTY, JSON otherwise'),
    access: z.boolean().describe('one info entry per request'),
  }),
  downstream: z.strictObject({
    keepAliveTimeout: ms.describe('idle time before an idle client connection is closed'),
    headersTimeout: ms.describe('time allowed for a request head (slowloris) → 408'),
    requestTimeout: ms.describe('time allowed for a whole request, head and body; 0 disables'),
    maxRequestsPerConnection: z.number().int().min(0).describe('0 = unlimited'),
    maxHeaderSize: positiveInt.meta({ unit: 'bytes' }).describe('bytes; a larger request head → 431'),
    maxHeaderCount: z.number().int().min(0).describe('header fields in a request head; more → 431; 0 = unlimited'),
    maxConnections: z.number().int().min(0).describe('0 = unlimited'),
    maxConnectionsPerClient: z.number().int().min(0).describe('0 = unlimited'),
    maxBodySize: bytes.describe('bytes; 0 = unlimited; larger → 413'),
    tcpKeepAlive: z.boolean(),
    tcpKeepAliveInitialDelay: ms,
    noDelay: z.boolean(),
  }),
  upstream: z.strictObject({
    maxSockets: positiveInt.describe('connections per origin'),
    idleTimeout: ms.describe('idle upstream sockets are retired after this; keep below origin timeouts'),
    keepAliveHintMargin: ms.describe('retire a socket this long before an origin Keep-Alive: timeout=N expires'),
    maxRequestsPerSocket: z.number().int().min(0).describe('0 = unlimited'),
    connectTimeout: ms,
    responseTimeout: ms.describe('time to the response head → 504'),
    bodyTimeout: ms.describe('max idle time between response body chunks; 0 disables'),
    queueTimeout: ms.describe('max wait for a free connection when the pool is full → 503; 0 disables'),
    maxOrigins: positiveInt.describe('pools kept; the least recently used idle pool is evicted beyond this'),
    retryStale: z.boolean().describe('retry idempotent bodyless requests once after a stale-socket failure'),
    tcpKeepAlive: z.boolean(),
    tcpKeepAliveInitialDelay: ms,
    noDelay: z.boolean(),
    ca: z.string().min(1).nullable().describe('PEM file of extra CAs trusted for https origins (besides the system store); null = none'),
    origins: z.array(originSettings).describe('per-origin overrides of maxSockets, idleTimeout and maxRequestsPerSocket'),
    proxy: z
      .union([proxyList, z.strictObject({ http: proxyList.nullable().optional(), https: proxyList.nullable().optional() })])
      .nullable()
      .describe('parent proxy URL(s) (a list fails over), per scheme as {http, https}, "env", or null = direct'),
    proxyAuth: z
      .union([z.string(), z.strictObject({ username: z.string(), password: z.string() })])
      .nullable()
      .describe('credentials for parents whose URL has none ("user:pass" or {username, password}), or "passthrough"'),
    noProxy: z.union([z.string(), z.array(z.string())]).describe("destinations that bypass the parents (curl's NO_PROXY rules)"),
    proxyRules: z.array(proxyRule).describe('ordered per-destination routes; the first match wins'),
    proxyRetryAfter: ms.describe('a parent whose connect failed is skipped for this long'),
  }),
  tunnel: z.strictObject({
    allowedPorts: z.array(port).describe('CONNECT ports allowed; empty = all'),
    idleTimeout: ms.describe('0 disables'),
    connectTimeout: ms,
    readBufferSize: bytes.describe('bytes; one reused read buffer per CONNECT tunnel for the download direction; 0 = a fresh buffer per read'),
  }),
  stats: z.strictObject({
    interval: z.number().min(0).meta({ unit: 'seconds' }).describe('seconds between summaries; 0 disables'),
    maxOrigins: positiveInt.describe('origins with their own statistics; the rest are counted together as "(other)"'),
  }),
  flows: z.strictObject({
    size: z.number().int().min(0).meta({ unit: 'records' }).describe('flow records kept; 0 turns recording off'),
    redact: z.boolean().describe('hide Authorization, Proxy-Authorization, Cookie and Set-Cookie values in flows'),
    serverTiming: z.boolean().describe('add a Server-Timing header with the proxy phases to responses'),
  }),
  admin: z.strictObject({
    enabled: z.boolean(),
    host,
    port: port.nullable().describe('null = listen.port + 1'),
  }),
  access: z.strictObject({
    clients: z.array(z.string()).describe('CIDRs allowed to use the proxy'),
    destinations: z.array(destinationRule),
    users: z.array(user).describe('non-empty enables Proxy-Authorization: Basic'),
    realm: z.string(),
  }),
  shutdown: z.strictObject({
    drainTimeout: ms,
  }),
  workers: z.union([z.number().int().min(1), z.literal('auto')]),
});

/** The validated, read-only configuration every module receives. */
export type Config = Readonly<z.infer<typeof configSchema>>;
export type Mode = Config['mode'];
/** What a config file or override may contain before validation (the schema's input type). */
export type ConfigInput = z.input<typeof configSchema>;
