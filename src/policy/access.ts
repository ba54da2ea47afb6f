/**
 * Destination access rules (issue 7, SPEC §10.3): ordered allow/deny rules over host globs, CIDR blocks and ports,
 * first match wins, plus the built-in protections that apply when the proxy listens beyond loopback. Pure: the
 * address of a name is passed in once resolved (or left out when not yet known), nothing here does DNS.
 *
 * Semantics, documented in docs/security.md:
 * - A rule matches when every criterion it names matches: `host` (a glob on the requested name, case-insensitive,
 *   `*` = any run of characters including dots, `?` = one character), `cidr` (the address connected to), `ports`.
 * - No rule matched: deny if the list contains any `allow` rule (an allow-list), else allow (a deny-list).
 * - Built-in protections (link-local and cloud-metadata addresses, loopback, the proxy's own addresses) override every
 *   rule except an `allow` rule whose `cidr` contains the address: opening them takes a deliberate, address-level rule.
 */
import { CidrList, cidrContains, parseCidr, type Cidr, type IpAddress } from './address.js';

/** One `access.destinations` entry, as the config schema describes it. */
export interface DestinationRule {
  readonly action: 'allow' | 'deny';
  readonly host?: string | undefined;
  readonly cidr?: string | undefined;
  readonly ports?: readonly number[] | undefined;
}

/** Where a request or tunnel goes: the name as requested, the port, and the address once known. */
export interface Destination {
  readonly hostname: string;
  readonly port: number;
  readonly address?: IpAddress | undefined;
}

/**
 * The outcome of the rule list. `rule` is the index of the deciding rule, -1 for the default. `undecided` means a
 * rule whose `cidr` needs the address could match first; decide again when the address is known.
 */
export type RuleDecision =
  | { readonly action: 'allow' | 'deny'; readonly rule: number; readonly byCidr: boolean }
  | { readonly action: 'undecided'; readonly rule: number };

/** True if `host` matches `glob`: case-insensitive, `*` any run of characters (dots included), `?` one character. */
export function globMatches(glob: string, host: string): boolean {
  const g = glob.toLowerCase();
  const h = host.toLowerCase();
  // Iterative wildcard match with one backtrack point: linear-ish, no regex built from config text.
  let gi = 0;
  let hi = 0;
  let star = -1;
  let mark = 0;
  while (hi < h.length) {
    if (gi < g.length && (g[gi] === '?' || g[gi] === h[hi])) {
      gi++;
      hi++;
    } else if (gi < g.length && g[gi] === '*') {
      star = gi++;
      mark = hi;
    } else if (star !== -1) {
      gi = star + 1;
      hi = ++mark;
    } else {
      return false;
    }
  }
  while (gi < g.length && g[gi] === '*') gi++;
  return gi === g.length;
}

interface CompiledRule {
  readonly action: 'allow' | 'deny';
  readonly host: string | undefined;
  readonly cidr: Cidr | undefined;
  readonly ports: ReadonlySet<number> | undefined;
}

/** The `access.destinations` list, compiled once. */
export class DestinationRules {
  readonly #rules: readonly CompiledRule[];
  readonly #defaultAction: 'allow' | 'deny';
  readonly #source: readonly DestinationRule[];

  /** Throws on a malformed `cidr`: config validation reports those first, with the dotted path. */
  constructor(rules: readonly DestinationRule[]) {
    this.#source = rules;
    this.#rules = rules.map((r) => {
      const cidr = r.cidr === undefined ? undefined : parseCidr(r.cidr);
      if (cidr === null) throw new Error(`not a CIDR block: ${JSON.stringify(r.cidr)}`);
      return { action: r.action, host: r.host, cidr, ports: r.ports === undefined ? undefined : new Set(r.ports) };
    });
    this.#defaultAction = rules.some((r) => r.action === 'allow') ? 'deny' : 'allow';
  }

  /** First matching rule; `undecided` when an address-dependent rule could match and the address is not known. */
  decide(dest: Destination): RuleDecision {
    for (let i = 0; i < this.#rules.length; i++) {
      const r = this.#rules[i]!;
      if (r.ports !== undefined && !r.ports.has(dest.port)) continue;
      if (r.host !== undefined && !globMatches(r.host, dest.hostname)) continue;
      if (r.cidr !== undefined) {
        if (dest.address === undefined) return { action: 'undecided', rule: i };
        if (!cidrContains(r.cidr, dest.address)) continue;
      }
      return { action: r.action, rule: i, byCidr: r.cidr !== undefined };
    }
    return { action: this.#defaultAction, rule: -1, byCidr: false };
  }

  /** A short description of a decision for a `403` body and the log (`access.destinations[2] (deny *.internal)`). */
  describe(rule: number): string {
    if (rule < 0) {
      return this.#defaultAction === 'deny' ? 'no access.destinations allow rule matched' : 'allowed by default';
    }
    const r = this.#source[rule]!;
    const what = [r.host, r.cidr, r.ports === undefined ? undefined : `ports ${r.ports.join(',')}`].filter((x) => x !== undefined);
    return `access.destinations[${rule}] (${r.action} ${what.join(' ')})`;
  }
}

/**
 * Addresses a proxy that faces a network must not reach unless told to: link-local (169.254.0.0/16, fe80::/10, which
 * hold the cloud metadata services at 169.254.169.254 and fd00:ec2::254), the other well-known metadata addresses,
 * loopback and the unspecified addresses (which reach this host).
 */
const LINK_LOCAL = new CidrList(['169.254.0.0/16', 'fe80::/10']);
const METADATA = new CidrList(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);
const THIS_HOST = new CidrList(['127.0.0.0/8', '::1', '0.0.0.0/8', '::']);

/** Why an address is protected by default, or undefined. `own` holds this host's interface addresses. */
export function protectedReason(ip: IpAddress, own: CidrList): string | undefined {
  if (METADATA.has(ip)) return 'a cloud metadata address';
  if (LINK_LOCAL.has(ip)) return 'a link-local address';
  if (THIS_HOST.has(ip) || own.has(ip)) return "an address of the proxy's own host";
  return undefined;
}
