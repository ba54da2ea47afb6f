/**
 * Where each downstream listener sends its requests and what the proxy adds to them (composition, no I/O): forward
 * mode has one listener resolving absolute-form targets; a gateway has its top-level `target` listener and one per
 * `routes` entry, each with its own target and Host policy. The additions are Via and the configured client-address
 * headers, applied after stripping (SPEC §1.2, §1.4).
 */
import type { Config } from './config/schema.js';
import type { RequestAdditions, TargetResolver } from './forward/engine.js';
import { forwardTarget, forwardedStyle, gatewayTarget, requestedHost, viaValue, withForwarded } from './policy/index.js';

/** One listening socket and where its requests go. */
export interface ListenerPlan {
  readonly host: string;
  readonly port: number;
  readonly resolve: TargetResolver;
}

/** The main listener (absent in a routes-only gateway) and one per gateway route. */
export function listenerPlans(config: Config): { main: ListenerPlan | undefined; routes: ListenerPlan[] } {
  const { host, port } = config.listen;
  if (config.mode !== 'gateway') {
    return { main: { host, port, resolve: (req) => forwardTarget(req.url ?? '', req.method ?? 'GET') }, routes: [] };
  }
  const gateway =
    (target: string, preserveHost: boolean): TargetResolver =>
    (req) =>
      gatewayTarget(req.url ?? '/', req.method ?? 'GET', target, req.headers.host, preserveHost);
  const main = config.target === null ? undefined : { host, port, resolve: gateway(config.target, config.preserveHost) };
  const routes = config.routes.map((r) => ({
    host: r.listen.host,
    port: r.listen.port,
    resolve: gateway(r.target, r.preserveHost ?? config.preserveHost),
  }));
  if (main === undefined && routes.length === 0) throw new Error('gateway mode needs a target or at least one route');
  return { main, routes };
}

/** Via, then the configured client-address headers, both after stripping (SPEC §1.2, §1.4). */
export function additionsFor(config: Config, instanceId: string): RequestAdditions {
  const pseudonym = config.via.pseudonym;
  // The instance id rides in our Via as a comment, so a request that comes back to us is recognised (SPEC §2.4).
  const via11 = viaValue('1.1', pseudonym, instanceId);
  const style = forwardedStyle(config.forwarded, config.mode);
  return (req, head) => {
    head.push('Via', req.httpVersion === '1.1' ? via11 : viaValue(req.httpVersion, pseudonym, instanceId));
    if (style === 'none') return head;
    // Plain-HTTP listeners only, so the client's scheme is always http. The host is the one the client asked for:
    // an absolute-form target's authority wins over its Host (RFC 9112 §3.2.2).
    const host = requestedHost(req.url ?? '/', req.headers.host);
    return withForwarded(head, style, { clientAddress: req.socket.remoteAddress, proto: 'http', host });
  };
}
