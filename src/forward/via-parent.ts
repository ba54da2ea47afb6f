/**
 * Requests routed to a parent proxy (issue 13, SPEC §2.5, §4.7): the same prepared request, sent in absolute-form
 * over the parent's pool, with this hop's credentials, and a failover chain over the parents of its route. Pure
 * apart from the ParentSet's down marks, which `failover` updates.
 */
import type { ProxyError } from '../errors/index.js';
import type { RawHeaders } from '../policy/index.js';
import { parentAuthorization, type ParentProxy } from '../policy/parent.js';
import type { UpstreamTarget } from '../policy/target.js';
import { ParentSet } from '../upstream/parents.js';
import type { UpstreamRequest } from './exchange.js';

/**
 * The absolute-form target for a parent (RFC 9112 §3.2.2): the origin and the origin-form path; `OPTIONS *` becomes
 * the bare origin (RFC 9112 §3.2.4). The origin keeps its explicit port: the pool key is the authority dialled.
 */
export function absoluteForm(target: UpstreamTarget): string {
  return target.path === '*' ? target.origin : `${target.origin}${target.path}`;
}

/** `base` (direct, origin-form) as attempt `i` of the failover list `order`, which chains to the next on failure. */
export function viaParents(base: UpstreamRequest, target: UpstreamTarget, order: readonly ParentProxy[], clientHead: RawHeaders, parents: ParentSet, i = 0): UpstreamRequest {
  const parent = order[i]!;
  const headers = [...base.headers];
  for (const value of parentAuthorization(parent, clientHead)) headers.push('Proxy-Authorization', value);
  return {
    ...base,
    path: absoluteForm(target),
    headers,
    route: parent.key,
    failover: (err: ProxyError) => {
      if (!ParentSet.isFailover(err)) return undefined;
      const next = i + 1 < order.length ? order[i + 1] : undefined;
      parents.markDown(parent, err, next);
      return next === undefined ? undefined : viaParents(base, target, order, clientHead, parents, i + 1);
    },
  };
}
