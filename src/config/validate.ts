/**
 * Semantic checks: rules that span several keys and so cannot live in the per-key schema. Pure: a validated Config in,
 * a list of problems out (empty = fine). `load.ts` runs them once, after the schema, and fails fast (SPEC §10.2).
 */
import { isLoopbackHost, parseCidr } from '../policy/address.js';
import { parsePasswordHash } from '../policy/credentials.js';
import { originKey } from '../policy/target.js';
import type { Config } from './schema.js';

/** One configuration problem: the dotted key (`routes[1].listen.port`) and what was expected there. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * The admin listener's port: `admin.port`, or `listen.port + 1` when it is null — except that an ephemeral proxy port
 * (0) gives an ephemeral admin port (0), since "free port + 1" is not a port anyone can know in advance.
 */
export function resolvedAdminPort(c: Config): number {
  if (c.admin.port !== null) return c.admin.port;
  return c.listen.port === 0 ? 0 : c.listen.port + 1;
}

/** Every cross-key problem in `c`, in a stable order; empty when the configuration is coherent. */
export function semanticIssues(c: Config): ConfigIssue[] {
  return [...modeIssues(c), ...exposureIssues(c), ...clientRuleIssues(c), ...accessIssues(c), ...portIssues(c), ...upstreamOriginIssues(c)];
}

function modeIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.mode === 'gateway' && c.target === null && c.routes.length === 0) {
    issues.push({
      path: 'target',
      message: 'gateway mode needs a target origin (--target http://host:port) or at least one entry in routes',
    });
  }
  if (c.mode === 'forward' && c.target !== null) {
    issues.push({
      path: 'target',
      message:
        'forward mode takes each origin from the request URI and must not have a target; ' +
        'use --mode gateway for a fixed upstream',
    });
  }
  if (c.mode === 'forward' && c.routes.length > 0) {
    issues.push({ path: 'routes', message: 'routes are gateway-mode listeners; forward mode must not have any' });
  }
  // The workshop modes are deliberately broken proxies (SPEC §9): never let one face a network.
  if ((c.mode === 'dumb' || c.mode === 'naive') && !isLoopbackHost(c.listen.host)) {
    issues.push({
      path: 'listen.host',
      message:
        `${c.mode} mode is for workshops and only binds loopback (127.0.0.1, ::1, localhost), ` +
        `got "${c.listen.host}"`,
    });
  }
  return issues;
}

/** SPEC §10.3: listening beyond loopback requires an explicit access rule, not the loopback-only default. */
function exposureIssues(c: Config): ConfigIssue[] {
  const exposed = [c.listen.host, ...c.routes.map((r) => r.listen.host)].filter((h) => !isLoopbackHost(h));
  if (exposed.length === 0) return [];
  const explicit = c.access.clients.some((cidr) => !isLoopbackHost(cidr.split('/')[0] ?? ''));
  if (explicit) return [];
  return [
    {
      path: 'access.clients',
      message:
        `listening on ${exposed.join(', ')} (beyond loopback) requires an explicit access rule: name the clients ` +
        'allowed to use the proxy with --allow-client 10.0.0.0/8 (repeatable), HOPWISE_ACCESS_CLIENTS=10.0.0.0/8,192.168.0.0/16, ' +
        'or access.clients in the configuration file',
    },
  ];
}

function clientRuleIssues(c: Config): ConfigIssue[] {
  return c.access.clients.flatMap((entry, i) =>
    isCidr(entry)
      ? []
      : [
          {
            path: `access.clients[${i}]`,
            message: `expected an IP address or CIDR such as 10.0.0.0/8 or ::1/128, got ${JSON.stringify(entry)}`,
          },
        ],
  );
}

/** Destination rules and users (issue 7): the guard compiles them at start and must not meet a malformed one. */
function accessIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  c.access.destinations.forEach((rule, i) => {
    if (rule.cidr !== undefined && parseCidr(rule.cidr) === null) {
      issues.push({ path: `access.destinations[${i}].cidr`, message: `expected a CIDR such as 10.0.0.0/8 or fd00::/8, got ${JSON.stringify(rule.cidr)}` });
    }
    if (rule.host?.trim() === '') issues.push({ path: `access.destinations[${i}].host`, message: 'expected a host glob such as *.internal' });
  });
  const seen = new Set<string>();
  c.access.users.forEach((user, i) => {
    if (user.username.includes(':')) {
      issues.push({ path: `access.users[${i}].username`, message: 'a Basic user-id cannot contain ":" (RFC 7617 §2)' });
    }
    if (seen.has(user.username)) issues.push({ path: `access.users[${i}].username`, message: `duplicate user ${JSON.stringify(user.username)}` });
    seen.add(user.username);
    const parsed = parsePasswordHash(user.passwordHash);
    if (typeof parsed === 'string') issues.push({ path: `access.users[${i}].passwordHash`, message: parsed });
  });
  return issues;
}

/** Two listeners on one port cannot both bind (the host is ignored: the same port on two loopback names still clashes). */
function portIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Map<number, string>();
  const claim = (port: number, path: string, note = ''): void => {
    if (port === 0) return; // ephemeral ports never clash
    const owner = seen.get(port);
    if (owner === undefined) seen.set(port, path);
    else issues.push({ path, message: `port ${port}${note} is already used by ${owner}; each listener needs its own` });
  };
  claim(c.listen.port, 'listen.port');
  c.routes.forEach((r, i) => claim(r.listen.port, `routes[${i}].listen.port`));
  if (c.admin.enabled) {
    const adminPort = resolvedAdminPort(c);
    if (adminPort > 65535) {
      issues.push({
        path: 'admin.port',
        message: `admin.port defaults to listen.port + 1 = ${adminPort}, which is not a TCP port; set admin.port`,
      });
    } else {
      claim(adminPort, 'admin.port', c.admin.port === null ? ' (listen.port + 1, as admin.port is null)' : '');
    }
  }
  return issues;
}

/**
 * `upstream.origins`: each entry must name an origin the way requests are pooled (the same parser as the request
 * target, so `http://Example.com` and `http://example.com:80` are one origin), and no origin may be listed twice.
 */
function upstreamOriginIssues(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  c.upstream.origins.forEach((entry, i) => {
    const key = originKey(entry.origin);
    const path = `upstream.origins[${i}].origin`;
    if (key === undefined) {
      issues.push({ path, message: `expected an origin URL such as http://10.0.0.5:3128, got ${JSON.stringify(entry.origin)}` });
      return;
    }
    const first = seen.get(key);
    if (first !== undefined) issues.push({ path, message: `${key} is already configured by upstream.origins[${first}]` });
    else seen.set(key, i);
  });
  return issues;
}

/** The same parser the access guard uses, so validation and enforcement cannot disagree. */
function isCidr(entry: string): boolean {
  return parseCidr(entry) !== null;
}
