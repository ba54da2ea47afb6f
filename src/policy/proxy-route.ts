/**
 * Per-destination routing (issue 13, SPEC §4.7): does a request, tunnel or upgrade go `direct` to its origin, or
 * through which parent proxies (a failover list)? Decided in this order, first answer wins:
 *   1. `upstream.proxyRules`, in order: the first rule whose `hosts` cover the destination decides (`direct`, or its
 *      parents) — an explicit rule beats everything below, loopback included;
 *   2. `upstream.noProxy` (curl's NO_PROXY rules, policy/no-proxy.ts) → direct;
 *   3. a loopback destination (127.0.0.0/8, ::1, `localhost`, `*.localhost`) → direct;
 *   4. the default, `upstream.proxy` (for that scheme when it is given per scheme) → its parents, or direct when none.
 * The scheme of a CONNECT tunnel is `https` (what tunnels carry, and what HTTPS_PROXY means to curl); `ws:` is `http`,
 * `wss:` is `https`. Names are never resolved here: a route depends on the destination as requested. Pure.
 */
import { parseIp } from './address.js';
import { anyMatches, parseHostList, type HostPattern, type RouteDestination } from './no-proxy.js';
import { parseParentUrl, parseProxyAuth, type ParentAuth, type ParentProxy, type ProxyAuthSetting } from './parent.js';

export type RouteScheme = 'http' | 'https';

/** A destination with the scheme its traffic uses. */
export interface RoutedDestination extends RouteDestination {
  readonly scheme: RouteScheme;
}

/** A parent URL or a failover list of them. */
export type ProxyList = string | readonly string[];

/** `upstream.proxy`: none, one list for every scheme, or one per scheme (what HTTP_PROXY/HTTPS_PROXY express). */
export type ProxySetting =
  | null
  | ProxyList
  | { readonly http?: ProxyList | null | undefined; readonly https?: ProxyList | null | undefined };

/** One `upstream.proxyRules` entry: `proxy` is `"direct"` or parent URL(s). */
export interface ProxyRuleInput {
  readonly hosts: readonly string[];
  readonly proxy: ProxyList;
}

export interface RoutingInput {
  readonly proxy: ProxySetting;
  readonly proxyAuth: ProxyAuthSetting;
  readonly noProxy: string | readonly string[];
  readonly proxyRules: readonly ProxyRuleInput[];
}

export type DirectWhy = 'rule' | 'no-proxy' | 'loopback' | 'default';

/** The decision for one destination. `rule` is the deciding `proxyRules` index, when a rule decided. */
export type Route =
  | { readonly kind: 'direct'; readonly why: DirectWhy; readonly rule?: number }
  | { readonly kind: 'parent'; readonly parents: readonly ParentProxy[]; readonly rule?: number };

/** A problem in the routing settings; `path` is relative to `upstream` (`proxyRules[1].hosts[0]`). */
export interface RoutingIssue {
  readonly path: string;
  readonly message: string;
}

const DIRECT: Route = Object.freeze({ kind: 'direct', why: 'default' });

/** A compiled `upstream.proxyRules` entry. */
export interface CompiledRule {
  readonly hosts: readonly HostPattern[];
  readonly route: Route;
}

/** The compiled routing table of one proxy. Read-only after construction. */
export class ProxyRouter {
  readonly #rules: readonly CompiledRule[];
  readonly #noProxy: readonly HostPattern[];
  readonly #http: Route;
  readonly #https: Route;
  /** Every distinct parent named anywhere (by key, first spelling wins), for start-up checks and stats. */
  readonly parents: readonly ParentProxy[];

  constructor(rules: readonly CompiledRule[], noProxy: readonly HostPattern[], http: Route, https: Route, parents: readonly ParentProxy[]) {
    this.#rules = rules;
    this.#noProxy = noProxy;
    this.#http = http;
    this.#https = https;
    this.parents = parents;
  }

  /** False when no parent is configured at all: every route is direct. */
  get enabled(): boolean {
    return this.parents.length > 0;
  }

  route(dest: RoutedDestination): Route {
    if (this.parents.length === 0) return DIRECT;
    for (const rule of this.#rules) if (anyMatches(rule.hosts, dest)) return rule.route;
    if (anyMatches(this.#noProxy, dest)) return { kind: 'direct', why: 'no-proxy' };
    if (isLoopbackName(dest.hostname)) return { kind: 'direct', why: 'loopback' };
    return dest.scheme === 'https' ? this.#https : this.#http;
  }
}

/** True for 127.0.0.0/8, ::1 (and ::ffff:127.x), `localhost` and names under `.localhost` (RFC 6761 §6.3). */
export function isLoopbackName(hostname: string): boolean {
  const h = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const ip = parseIp(h);
  if (ip === null) return false;
  if (ip.family === 4) return ip.bytes[0] === 127;
  return ip.bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

/** Compiles the routing settings; `issues` lists every malformed value (empty when the router is usable). */
export function compileRouting(input: RoutingInput): { router: ProxyRouter; issues: RoutingIssue[] } {
  const issues: RoutingIssue[] = [];
  const fallback = parseProxyAuth(input.proxyAuth);
  if (typeof fallback === 'string') issues.push({ path: 'proxyAuth', message: fallback });
  const auth = typeof fallback === 'string' ? ({ kind: 'none' } as const) : fallback;
  const seen = new Map<string, ParentProxy>();
  const parentsOf = (value: ProxyList, path: string, allowDirect: boolean): Route => {
    const choice = compileChoice(value, auth, path, allowDirect);
    issues.push(...choice.issues);
    if (choice.route.kind === 'parent') for (const p of choice.route.parents) if (!seen.has(p.key)) seen.set(p.key, p);
    return choice.route;
  };
  let http = DIRECT;
  let https = DIRECT;
  const proxy = input.proxy;
  if (typeof proxy === 'string' || Array.isArray(proxy)) {
    http = https = parentsOf(proxy as ProxyList, 'proxy', false);
  } else if (proxy !== null && typeof proxy === 'object') {
    const perScheme = proxy as Exclude<ProxySetting, ProxyList | null>;
    if (perScheme.http != null) http = parentsOf(perScheme.http, 'proxy.http', false);
    if (perScheme.https != null) https = parentsOf(perScheme.https, 'proxy.https', false);
  }
  const noProxy = hostPatterns(input.noProxy, 'noProxy', issues);
  const rules = input.proxyRules.map((rule, i): CompiledRule => {
    const path = `proxyRules[${i}]`;
    if (rule.hosts.length === 0) issues.push({ path: `${path}.hosts`, message: 'expected at least one host pattern (use "*" for every destination)' });
    const route = parentsOf(rule.proxy, `${path}.proxy`, true);
    return { hosts: hostPatterns(rule.hosts, `${path}.hosts`, issues), route: withRule(route, i) };
  });
  return { router: new ProxyRouter(rules, noProxy, http, https, [...seen.values()]), issues };
}

/**
 * One proxy choice: `"direct"` (where allowed) or a non-empty list of parent URLs; a list is a failover order.
 * Used for `upstream.proxy`, each rule's `proxy`, and a gateway route's `proxy`.
 */
export function compileChoice(value: ProxyList, auth: ParentAuth, path: string, allowDirect: boolean): { route: Route; issues: RoutingIssue[] } {
  const issues: RoutingIssue[] = [];
  if (value === 'direct') {
    if (!allowDirect) issues.push({ path, message: '"direct" is for rules; for no parent proxy use null' });
    return { route: { kind: 'direct', why: 'rule' }, issues };
  }
  const list = typeof value === 'string' ? [value] : value;
  if (list.length === 0) issues.push({ path, message: `expected a parent proxy URL or a non-empty list of them${allowDirect ? ', or "direct"' : ''}` });
  const parents: ParentProxy[] = [];
  list.forEach((url, i) => {
    const at = typeof value === 'string' ? path : `${path}[${i}]`;
    const parsed = url === 'direct' ? '"direct" cannot be part of a list of parents' : parseParentUrl(url, auth);
    if (typeof parsed === 'string') issues.push({ path: at, message: parsed });
    else if (parents.some((p) => p.key === parsed.key)) issues.push({ path: at, message: `${parsed.key} is already in this list` });
    else parents.push(parsed);
  });
  return { route: parents.length === 0 ? DIRECT : { kind: 'parent', parents }, issues };
}

function withRule(route: Route, rule: number): Route {
  return route.kind === 'direct' ? { kind: 'direct', why: 'rule', rule } : { ...route, rule };
}

function hostPatterns(input: string | readonly string[], path: string, issues: RoutingIssue[]): HostPattern[] {
  const parsed = parseHostList(input);
  for (const issue of parsed.issues) issues.push({ path: issue.index === undefined ? path : `${path}[${issue.index}]`, message: issue.message });
  return parsed.patterns;
}

/**
 * The order in which to try a failover list now: parents not marked down, in configured order, then the ones marked
 * down, soonest retry first (all down: try them anyway rather than fail without trying). `downUntil` gives the time a
 * parent's mark expires (undefined or past: up).
 */
export function failoverOrder(parents: readonly ParentProxy[], downUntil: (key: string) => number | undefined, now: number): ParentProxy[] {
  const up: ParentProxy[] = [];
  const down: { p: ParentProxy; until: number }[] = [];
  for (const p of parents) {
    const until = downUntil(p.key);
    if (until === undefined || until <= now) up.push(p);
    else down.push({ p, until });
  }
  down.sort((a, b) => a.until - b.until);
  return [...up, ...down.map((d) => d.p)];
}
