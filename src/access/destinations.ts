/**
 * Where a request or tunnel may go (issue 7; SPEC §2.4, §10.3): `access.destinations` rules, the built-in protections
 * that apply once a listener is beyond loopback (link-local, cloud metadata, this host's own addresses), and the
 * proxy's own listening addresses (loops). The rules are pure (policy/access.ts); this class adds what only the
 * running proxy knows — its bound addresses and this host's interfaces (after `listen()`) — and DNS for tunnels.
 */
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { ProxyError } from '../errors/index.js';
import { DestinationRules, protectedReason, type DestinationRule } from '../policy/access.js';
import { CidrList, formatIp, isLocalhostName, isLoopbackIp, parseIp, type IpAddress } from '../policy/address.js';
import { ALLOW, deny, type Verdict } from './verdict.js';

export { ALLOW, type Verdict } from './verdict.js';


export interface DestinationOptions {
  readonly rules: readonly DestinationRule[];
  /** Forward mode checks destinations; in gateway mode the operator configured the target. Loops are always checked. */
  readonly checkDestinations: boolean;
  /** All addresses of a name (tests inject one); defaults to the system resolver. */
  readonly resolveAll?: ((hostname: string) => Promise<string[]>) | undefined;
}

/** Bound on the allowed-destination memo (a forward proxy may see many names): forget all and start again. */
const ALLOWED_MAX = 4096;
const UNSPECIFIED = new CidrList(['0.0.0.0', '::']);

async function systemResolveAll(hostname: string): Promise<string[]> {
  const all = await lookup(hostname, { all: true, verbatim: true });
  return all.map((a) => a.address);
}

/** `localhost` is loopback by definition (RFC 6761 §6.3); an IP literal is itself; any other name needs DNS. */
function literalAddresses(hostname: string): IpAddress[] | undefined {
  if (isLocalhostName(hostname)) return [parseIp('127.0.0.1')!, parseIp('::1')!];
  const ip = parseIp(hostname);
  return ip === null ? undefined : [ip];
}

function show(ip: IpAddress, port: number): string {
  return ip.family === 6 ? `[${formatIp(ip)}]:${port}` : `${formatIp(ip)}:${port}`;
}

export class DestinationGuard {
  readonly #o: DestinationOptions;
  readonly #rules: DestinationRules;
  readonly #ports = new Set<number>();
  #bound = new CidrList([]);
  #ownHost = new CidrList([]);
  #anyInterface = false;
  #exposed = false;
  /**
   * `port hostname` pairs whose pre-DNS check allowed them (issue 8: every plain-HTTP request is prechecked, and the
   * answer depends only on the rules and the bound listeners). Cleared when the listeners change; bounded.
   */
  readonly #allowed = new Set<string>();

  /** Throws on a malformed `cidr`: config validation reports those first, with the dotted path. */
  constructor(opts: DestinationOptions) {
    this.#o = opts;
    this.#rules = new DestinationRules(opts.rules);
  }

  /** Record the bound listeners (after `listen()`): loop detection and the beyond-loopback protections need them. */
  listening(addresses: readonly { readonly host: string; readonly port: number }[]): void {
    const bound: string[] = [];
    for (const a of addresses) {
      this.#ports.add(a.port);
      const ip = parseIp(a.host);
      if (ip === null) continue;
      if (UNSPECIFIED.has(ip)) this.#anyInterface = true;
      else bound.push(formatIp(ip));
      if (!isLoopbackIp(ip)) this.#exposed = true;
    }
    this.#allowed.clear();
    this.#bound = new CidrList(bound);
    const own: string[] = [];
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) own.push(i.address);
    this.#ownHost = new CidrList(own);
  }

  /** True when some listener is reachable from beyond this host (the built-in protections apply). */
  get exposed(): boolean {
    return this.#exposed;
  }


  /** True if `ip:port` is one of this proxy's own listeners (SPEC §2.4). */
  isSelf(ip: IpAddress, port: number): boolean {
    if (!this.#ports.has(port)) return false;
    if (this.#bound.has(ip) || UNSPECIFIED.has(ip)) return true;
    return this.#anyInterface && (isLoopbackIp(ip) || this.#ownHost.has(ip));
  }

  /** The decision for a known address (literal target, resolved name, or the socket actually connected). */
  checkAddress(hostname: string, ip: IpAddress, port: number, leg: 'downstream' | 'upstream' = 'downstream'): Verdict {
    const phase = leg === 'upstream' ? 'connect' : 'target';
    if (this.isSelf(ip, port)) {
      return deny(new ProxyError('LOOP_DETECTED', `${show(ip, port)} is this proxy's own listening address`, { leg, phase }));
    }
    if (!this.#o.checkDestinations) return ALLOW;
    const d = this.#rules.decide({ hostname, port, address: ip });
    if (d.action === 'allow' && d.byCidr) return ALLOW;
    const why = this.#exposed ? protectedReason(ip, this.#ownHost) : undefined;
    if (why !== undefined) {
      const reason = `destination ${hostname} (${show(ip, port)}) is ${why}, denied when hopwise listens beyond loopback`;
      return deny(new ProxyError('FORBIDDEN', reason, { leg, phase }));
    }
    if (d.action === 'allow') return ALLOW;
    return deny(new ProxyError('FORBIDDEN', `destination ${hostname}:${port} denied by ${this.#rules.describe(d.rule)}`, { leg, phase }));
  }

  /** What can be decided before DNS: literal addresses, loops, name and port rules. The connector completes it. */
  precheck(hostname: string, port: number): Verdict {
    const key = `${port} ${hostname}`;
    if (this.#allowed.has(key)) return ALLOW;
    const verdict = this.#precheck(hostname, port);
    if (verdict.ok) {
      if (this.#allowed.size >= ALLOWED_MAX) this.#allowed.clear();
      this.#allowed.add(key);
    }
    return verdict;
  }

  #precheck(hostname: string, port: number): Verdict {
    const literal = literalAddresses(hostname);
    if (literal !== undefined) {
      for (const ip of literal) {
        const v = this.checkAddress(hostname, ip, port);
        if (!v.ok) return v;
      }
      return ALLOW;
    }
    if (!this.#o.checkDestinations) return ALLOW;
    const d = this.#rules.decide({ hostname, port });
    if (d.action !== 'deny') return ALLOW;
    const reason = `destination ${hostname}:${port} denied by ${this.#rules.describe(d.rule)}`;
    return deny(new ProxyError('FORBIDDEN', reason, { leg: 'downstream', phase: 'target' }));
  }

  /** Full check with resolution (tunnels): every address of the name must pass; returns the one to connect to. */
  async check(hostname: string, port: number): Promise<Verdict<{ address: string }>> {
    const pre = this.precheck(hostname, port);
    if (!pre.ok) return pre;
    const literal = literalAddresses(hostname);
    if (literal !== undefined) return { ok: true, address: isLocalhostName(hostname) ? '127.0.0.1' : hostname };
    let addresses: string[];
    try {
      addresses = await (this.#o.resolveAll ?? systemResolveAll)(hostname);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'ENOTFOUND';
      return deny(new ProxyError('UPSTREAM_DNS', `${hostname}: name not resolved (${code})`, { leg: 'upstream', phase: 'connect', cause: err }));
    }
    for (const a of addresses) {
      const ip = parseIp(a);
      const v = ip === null ? ALLOW : this.checkAddress(hostname, ip, port);
      if (!v.ok) return v;
    }
    if (addresses.length === 0) return deny(new ProxyError('UPSTREAM_DNS', `${hostname}: name not resolved`, { leg: 'upstream', phase: 'connect' }));
    return { ok: true, address: addresses[0]! };
  }
}
