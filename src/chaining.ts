/**
 * Composition of parent proxies (issue 13, SPEC §4.7): the routing table compiled from the configuration, every
 * parent it (or a gateway route) names, the connection vetting that applies to parents, and the start-up refusal of a
 * parent that is this proxy's own listener. No I/O.
 */
import type { Config } from './config/schema.js';
import { routingInput } from './config/proxy-settings.js';
import { ProxyError } from './errors/index.js';
import { parseIp } from './policy/address.js';
import { parseProxyAuth, type ParentProxy } from './policy/parent.js';
import { compileChoice, compileRouting, isLoopbackName, type ProxyRouter } from './policy/proxy-route.js';
import type { ConnectionVetter } from './upstream/connector.js';

export interface Chaining {
  readonly router: ProxyRouter;
  /** Every parent named anywhere (upstream routing and gateway routes), one per key. */
  readonly parents: readonly ParentProxy[];
  /** Their keys (`http://host:port`): the parent pools, and what /stats lists under `upstream.parents`. */
  readonly keys: ReadonlySet<string>;
}

/** Compiles the routing settings (validated at load; a problem here is a programming error). */
export function chainingFor(config: Config): Chaining {
  const { router, issues } = compileRouting(routingInput(config.upstream));
  const auth = parseProxyAuth(config.upstream.proxyAuth);
  const parents = new Map(router.parents.map((p) => [p.key, p]));
  config.routes.forEach((r, i) => {
    if (r.proxy === undefined) return;
    const choice = compileChoice(r.proxy, typeof auth === 'string' ? { kind: 'none' } : auth, `routes[${i}].proxy`, true);
    issues.push(...choice.issues);
    if (choice.route.kind === 'parent') for (const p of choice.route.parents) if (!parents.has(p.key)) parents.set(p.key, p);
  });
  if (issues.length > 0) throw new Error(`invalid parent proxy settings: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return { router, parents: [...parents.values()], keys: new Set(parents.keys()) };
}

/**
 * The connector's vetting with parents set apart: a socket to a parent (by the name and port dialled) is checked for
 * loops only (a parent that is this proxy's own listener → 508, SPEC §2.4) — the destination rules and the built-in
 * protections are about origins, and a parent is the operator's own choice, often on loopback or a private address.
 */
export function vetWithParents(chaining: Chaining, isSelf: (address: string, port: number) => boolean, vetOrigin: ConnectionVetter): ConnectionVetter {
  if (chaining.parents.length === 0) return vetOrigin;
  const endpoints = new Set(chaining.parents.map((p) => `${p.hostname} ${p.port}`));
  return (hostname, address, port) => {
    if (!endpoints.has(`${hostname} ${port}`)) return vetOrigin(hostname, address, port);
    if (address === undefined || !isSelf(address, port)) return undefined;
    const why = `parent proxy ${hostname}:${port} is this proxy's own listener: hopwise cannot be its own parent`;
    return new ProxyError('LOOP_DETECTED', why, { leg: 'upstream', phase: 'connect' });
  };
}

/** After listen: a parent at one of our own bound addresses (ephemeral ports included) is refused at start-up. */
export function selfParent(chaining: Chaining, bound: readonly { readonly host: string; readonly port: number }[]): string | undefined {
  for (const p of chaining.parents) {
    for (const a of bound) {
      if (a.port !== p.port) continue;
      const literal = parseIp(p.hostname);
      const same = isLoopbackName(p.hostname) ? isLoopbackName(a.host) || a.host === '0.0.0.0' || a.host === '::' : literal !== null && p.hostname === a.host;
      if (same) return `parent proxy ${p.key} is this proxy's own listener ${a.host}:${a.port}: hopwise cannot be its own parent`;
    }
  }
  return undefined;
}
