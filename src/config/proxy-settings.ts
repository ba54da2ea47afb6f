/**
 * Parent-proxy settings (issue 13): their semantic checks, and `upstream.proxy: "env"` — the one opt-in to the
 * environment's `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`. hopwise never reads those unasked: a shell that points its own
 * `HTTP_PROXY` at hopwise would otherwise make hopwise chain to itself. Pure: the environment is an argument.
 */
import { compileChoice, compileRouting, isLoopbackName, type ProxyList, type RoutingInput } from '../policy/proxy-route.js';
import { parseProxyAuth } from '../policy/parent.js';
import type { Config, ConfigInput } from './schema.js';
import type { ConfigIssue } from './validate.js';

/** The value of `upstream.proxy` that asks for the environment's proxy variables. */
export const FROM_ENV = 'env';

/** The routing settings of `upstream`, as the pure router takes them. */
export function routingInput(upstream: Config['upstream']): RoutingInput {
  return { proxy: upstream.proxy, proxyAuth: upstream.proxyAuth, noProxy: upstream.noProxy, proxyRules: upstream.proxyRules };
}

/**
 * Every problem in the parent-proxy settings: malformed URLs, host patterns and rules (by the same compiler the proxy
 * runs, so validation and routing cannot disagree), a parent that is one of this proxy's own listeners, and parents
 * in a mode that does not use them. Messages never contain credentials.
 */
export function proxyIssues(c: Config): ConfigIssue[] {
  const { router, issues } = compileRouting(routingInput(c.upstream));
  const out: ConfigIssue[] = issues.map((i) => ({ path: `upstream.${i.path}`, message: i.message }));
  const auth = parseProxyAuth(c.upstream.proxyAuth);
  const parents = [...router.parents];
  c.routes.forEach((r, i) => {
    if (r.proxy === undefined) return;
    const choice = compileChoice(r.proxy, typeof auth === 'string' ? { kind: 'none' } : auth, `routes[${i}].proxy`, true);
    out.push(...choice.issues);
    if (choice.route.kind === 'parent') parents.push(...choice.route.parents);
  });
  const own = ownPorts(c);
  for (const p of parents) {
    const listener = own.get(p.port);
    if (listener !== undefined && isLoopbackName(p.hostname)) {
      out.push({ path: 'upstream.proxy', message: `parent ${p.key} is this proxy's own listener (${listener}): hopwise cannot be its own parent` });
    }
  }
  if ((c.mode === 'dumb' || c.mode === 'naive') && parents.length > 0) {
    out.push({ path: 'upstream.proxy', message: `${c.mode} mode does not use parent proxies; remove upstream.proxy and upstream.proxyRules` });
  }
  return out;
}

/** Fixed ports this proxy listens on, with the key that set each (ephemeral ports are checked after listen). */
function ownPorts(c: Config): Map<number, string> {
  const own = new Map<number, string>();
  if (c.listen.port !== 0) own.set(c.listen.port, 'listen.port');
  c.routes.forEach((r, i) => {
    if (r.listen.port !== 0) own.set(r.listen.port, `routes[${i}].listen.port`);
  });
  return own;
}

/** First non-empty value among the names (lowercase first, as curl reads them). */
function pick(env: NodeJS.ProcessEnv, lower: string): string | undefined {
  for (const name of [lower, lower.toUpperCase()]) {
    const v = env[name]?.trim();
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** `proxy.corp:3128` means `http://proxy.corp:3128` in the environment, as curl and Go read it. */
function withScheme(url: string): string {
  return url.includes('://') ? url : `http://${url}`;
}

/** The environment's proxy settings as configuration, or the problem (never echoing a value: it may hold a password). */
export type EnvProxy =
  | { readonly ok: true; readonly proxy: ProxyList | { http?: string; https?: string }; readonly noProxy: string | undefined }
  | { readonly ok: false; readonly message: string };

/**
 * `HTTP_PROXY` for `http:`/`ws:` traffic, `HTTPS_PROXY` for `https:`/`wss:` and CONNECT, `NO_PROXY` for
 * destinations that go direct; each in lower or upper case (lowercase wins, as in curl). A scheme whose variable is
 * unset goes direct, as it would for curl.
 */
export function proxyFromEnvironment(env: NodeJS.ProcessEnv): EnvProxy {
  const http = pick(env, 'http_proxy');
  const https = pick(env, 'https_proxy');
  const noProxy = pick(env, 'no_proxy');
  if (http === undefined && https === undefined) {
    return { ok: false, message: '"env" takes the parent from HTTP_PROXY/HTTPS_PROXY (either case), but neither is set' };
  }
  if (http !== undefined && https !== undefined && http === https) return { ok: true, proxy: withScheme(http), noProxy };
  const proxy: { http?: string; https?: string } = {};
  if (http !== undefined) proxy.http = withScheme(http);
  if (https !== undefined) proxy.https = withScheme(https);
  return { ok: true, proxy, noProxy };
}

/**
 * Replaces `upstream.proxy: "env"` in a merged (not yet validated) configuration with the environment's settings.
 * `NO_PROXY` is added to the configured `upstream.noProxy`. Returns the issue when the environment has no proxy.
 */
export function expandProxyFromEnv(merged: Record<string, unknown>, env: NodeJS.ProcessEnv | undefined): ConfigIssue | undefined {
  const upstream = merged['upstream'] as Partial<ConfigInput['upstream']> | undefined;
  if (upstream?.proxy !== FROM_ENV) return undefined;
  const found = env === undefined ? ({ ok: false, message: '"env" needs the environment, and none was given' } as const) : proxyFromEnvironment(env);
  if (!found.ok) return { path: 'upstream.proxy', message: found.message };
  const configured = upstream.noProxy ?? [];
  const noProxy = found.noProxy === undefined ? configured : [...(typeof configured === 'string' ? [configured] : configured), found.noProxy];
  merged['upstream'] = { ...upstream, proxy: found.proxy, noProxy };
  return undefined;
}
