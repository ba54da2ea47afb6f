/**
 * The access guard (issue 7; SPEC §2.4, §10.3): who may use the proxy (`access.clients`), with which credentials
 * (`access.users`), and where to (`access.destinations` plus built-in protections), and loop detection. Every refusal
 * is a ProxyError with its status from the one table, and one `access.denied` telemetry event (logged as
 * `access-denied`). The decisions themselves are pure (policy/access.ts, policy/address.ts); this class holds the
 * compiled client list and the authenticator, and delegates destinations and loops by address to DestinationGuard
 * (destinations.ts), which knows the proxy's own addresses (after listen) and does the DNS lookup for tunnels.
 *
 * Destinations are checked twice for plain HTTP: by name and literal address before dispatch
 * ({@link AccessGuard.precheckDestination}), and on the address actually connected to
 * ({@link AccessGuard.vetConnection}, called by the upstream connector), so DNS rebinding and numeric spellings such
 * as `2130706433` cannot slip past. CONNECT resolves once here and connects to the vetted address
 * ({@link AccessGuard.admitTunnel}).
 */
import { randomBytes } from 'node:crypto';
import type { DownstreamConnection } from '../downstream/connections.js';
import { ProxyError } from '../errors/index.js';
import type { DenialKind, Telemetry } from '../observability/events.js';
import type { DestinationRule } from '../policy/access.js';
import { CidrList, parseIp, type IpAddress } from '../policy/address.js';
import { viaContains, type RawHeaders } from '../policy/index.js';
import { ProxyAuthenticator, type AuthOutcome, type UserEntry } from './authenticator.js';
import { DestinationGuard } from './destinations.js';
import { ALLOW, deny, type Refusal, type TunnelVerdict, type Verdict } from './verdict.js';

export type { Refusal, TunnelVerdict, Verdict } from './verdict.js';

export interface GuardOptions {
  readonly access: {
    readonly clients: readonly string[];
    readonly destinations: readonly DestinationRule[];
    readonly users: readonly UserEntry[];
    readonly realm: string;
  };
  readonly telemetry: Telemetry;
  readonly pseudonym: string;
  /** This instance's id, carried as the comment of its `Via` member (SPEC §2.4). */
  readonly instanceId: string;
  /** Forward mode checks destinations; in gateway mode the operator configured the target. Loops are always checked. */
  readonly checkDestinations: boolean;
  /** All addresses of a name (tests inject one); defaults to the system resolver. */
  readonly resolveAll?: (hostname: string) => Promise<string[]>;
}

/**
 * A fresh instance id for the `Via` comment (SPEC §2.4): `hw-` and 24 random bits, so two chained instances collide
 * with probability 2^-24 while the header stays short.
 */
export function newInstanceId(): string {
  return `hw-${randomBytes(3).toString('hex')}`;
}

/** Bound on the allowed-client memo: a proxy open to a large network forgets and re-parses rather than grow. */
const ALLOWED_CLIENTS_MAX = 4096;

export class AccessGuard {
  readonly #o: GuardOptions;
  readonly #clients: CidrList;
  readonly #destinations: DestinationGuard;
  readonly #auth: ProxyAuthenticator;
  /**
   * Client addresses already allowed (issue 8: a `Connection: close` client is checked on every connection, and the
   * rules never change after start-up). Only allowed addresses are kept, and at most {@link ALLOWED_CLIENTS_MAX}.
   */
  readonly #allowedClients = new Set<string>();

  /** Throws on malformed CIDRs or hashes: config validation reports those first, with the dotted path. */
  constructor(opts: GuardOptions) {
    this.#o = opts;
    this.#clients = new CidrList(opts.access.clients);
    this.#destinations = new DestinationGuard({
      rules: opts.access.destinations,
      checkDestinations: opts.checkDestinations,
      resolveAll: opts.resolveAll,
    });
    this.#auth = new ProxyAuthenticator(opts.access.users, opts.access.realm);
  }

  /** Record the bound listeners (after `listen()`): loop detection and the beyond-loopback protections need them. */
  listening(addresses: readonly { readonly host: string; readonly port: number }[]): void {
    this.#destinations.listening(addresses);
  }

  /** True when some listener is reachable from beyond this host (the built-in protections apply). */
  get exposed(): boolean {
    return this.#destinations.exposed;
  }

  /** `access.clients` (default loopback only). Checked when a connection is accepted. */
  checkClient(remoteAddress: string | undefined): Verdict {
    if (remoteAddress !== undefined && this.#allowedClients.has(remoteAddress)) return ALLOW;
    const ip = remoteAddress === undefined ? null : parseIp(remoteAddress);
    if (ip !== null && this.#clients.has(ip)) {
      if (this.#allowedClients.size >= ALLOWED_CLIENTS_MAX) this.#allowedClients.clear();
      this.#allowedClients.add(remoteAddress!);
      return ALLOW;
    }
    const who = remoteAddress ?? 'an unknown address';
    return deny(new ProxyError('FORBIDDEN', `client ${who} is not allowed by access.clients`, { leg: 'downstream', phase: 'request-head' }));
  }

  /** {@link checkClient} for an accepted connection, logged (`access-denied`, kind `client`) when refused. */
  admitClient(conn: DownstreamConnection): Refusal | undefined {
    const v = this.checkClient(conn.remoteAddress);
    if (v.ok) return undefined;
    this.#emit('downstream', v.error, conn, 'client');
    return v;
  }

  /** `Proxy-Authorization: Basic` when `access.users` is non-empty; synchronous unless scrypt has to run. */
  checkAuth(raw: RawHeaders): AuthOutcome | Promise<AuthOutcome> {
    return this.#auth.check(raw);
  }

  /** True if `ip:port` is one of this proxy's own listeners (SPEC §2.4). */
  isSelf(ip: IpAddress, port: number): boolean {
    return this.#destinations.isSelf(ip, port);
  }

  /** What can be decided before DNS: literal addresses, loops, name and port rules. The connector completes it. */
  precheckDestination(hostname: string, port: number): Verdict {
    return this.#destinations.precheck(hostname, port);
  }

  /** Full check with resolution (tunnels): every address of the name must pass; returns the one to connect to. */
  checkDestination(hostname: string, port: number): Promise<TunnelVerdict> {
    return this.#destinations.check(hostname, port);
  }

  /** Plain HTTP, before dispatch: auth (407), own Via (508), destination by name/literal (403, 508). */
  admitRequest(raw: RawHeaders, target: { hostname: string; port: number } | undefined, conn: DownstreamConnection): Refusal | undefined | Promise<Refusal | undefined> {
    const auth = this.checkAuth(raw);
    // No closure on the synchronous path (issue 8: this runs for every request).
    return auth instanceof Promise ? auth.then((a) => this.#afterAuth(a, raw, target, conn)) : this.#afterAuth(auth, raw, target, conn);
  }

  #afterAuth(auth: AuthOutcome, raw: RawHeaders, target: { hostname: string; port: number } | undefined, conn: DownstreamConnection): Refusal | undefined {
    if (!auth.ok) return this.#authRefusal(auth.reason, conn);
    const loop = this.#viaLoop(raw, conn);
    if (loop !== undefined || target === undefined) return loop;
    return this.#refusal(this.precheckDestination(target.hostname, target.port), conn);
  }

  /**
   * CONNECT (for src/tunnel): auth (407), own Via (508), destination with resolution (403, 508, 502 when the name
   * does not resolve). On success connect to `address`, not to the name: it is the address that was vetted.
   * `resolve: false` (through a parent proxy): no DNS; the name is checked by the rules and passed on as it is.
   */
  async admitTunnel(raw: RawHeaders, hostname: string, port: number, conn: DownstreamConnection, resolve = true): Promise<TunnelVerdict> {
    const a = await this.checkAuth(raw);
    const early = a.ok ? this.#viaLoop(raw, conn) : this.#authRefusal(a.reason, conn);
    if (early !== undefined) return early;
    // Through a parent proxy (issue 13) the name is the parent's to resolve; the rules apply to it by name and literal.
    const v: TunnelVerdict = resolve ? await this.checkDestination(hostname, port) : this.#byName(hostname, port);
    return v.ok ? v : this.#refusal(v, conn)!;
  }

  /**
   * The upstream connector's check on the socket it just connected (`remoteAddress`), or undefined to proceed.
   * Catches names that resolve to protected or own addresses, whatever their spelling.
   */
  vetConnection(hostname: string, address: string | undefined, port: number): ProxyError | undefined {
    const ip = address === undefined ? null : parseIp(address);
    if (ip === null) return undefined;
    const v = this.#destinations.checkAddress(hostname, ip, port, 'upstream');
    if (v.ok) return undefined;
    this.#emit('upstream', v.error, undefined);
    return v.error;
  }

  /** The precheck alone (no DNS), allowing the name itself as the "address" handed on to the parent. */
  #byName(hostname: string, port: number): TunnelVerdict {
    const p = this.precheckDestination(hostname, port);
    return p.ok ? { ok: true, address: hostname } : p;
  }

  #viaLoop(raw: RawHeaders, conn: DownstreamConnection): Refusal | undefined {
    if (!viaContains(raw, this.#o.pseudonym, this.#o.instanceId)) return undefined;
    const reason = `the request already passed through this proxy (Via: ${this.#o.pseudonym} (${this.#o.instanceId}))`;
    return this.#refusal(deny(new ProxyError('LOOP_DETECTED', reason, { leg: 'downstream', phase: 'request-head' })), conn);
  }

  #authRefusal(reason: string, conn: DownstreamConnection): Refusal {
    const error = new ProxyError('PROXY_AUTH_REQUIRED', reason, { leg: 'downstream', phase: 'request-head' });
    this.#emit('downstream', error, conn);
    return deny(error, ['Proxy-Authenticate', this.#auth.challenge]);
  }

  #refusal(v: Verdict, conn: DownstreamConnection): Refusal | undefined {
    if (v.ok) return undefined;
    // A name that does not resolve is an upstream failure (502), not a denial: it is not logged as access-denied.
    if (v.error.code !== 'UPSTREAM_DNS') this.#emit('downstream', v.error, conn);
    return v;
  }

  #emit(leg: 'downstream' | 'upstream', error: ProxyError, conn: DownstreamConnection | undefined, kind?: DenialKind): void {
    const k = kind ?? (error.code === 'PROXY_AUTH_REQUIRED' ? 'auth' : error.code === 'LOOP_DETECTED' ? 'loop' : 'destination');
    this.#o.telemetry.emit({ type: 'access.denied', leg, kind: k, conn: conn?.id, remote: conn?.remoteAddress, reason: error.message });
  }
}
