/**
 * Host patterns for proxy routing (issue 13): `upstream.noProxy` and the `hosts` of `upstream.proxyRules`, with curl's
 * `NO_PROXY` rules, so a value copied from a shell's environment means here what it means to curl:
 * - a comma-separated list (or an array); blanks around entries are ignored; case-insensitive;
 * - `*` alone matches every destination;
 * - `example.com` and `.example.com` (and the common `*.example.com`) match the domain and all its subdomains;
 * - an IP address matches that literal address, a CIDR block (`10.0.0.0/8`, `fd00::/8`) any literal address inside it
 *   (names are not resolved to decide a route: as in curl, a name never matches an IP entry);
 * - an optional `:port` (`example.com:8080`, `[::1]:8080`) restricts an entry to that port.
 * Pure: text in, compiled patterns or a one-line reason out.
 */
import { cidrContains, parseCidr, parseIp, type Cidr } from './address.js';

/** One compiled entry. */
export type HostPattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'domain'; readonly domain: string; readonly port: number | undefined }
  | { readonly kind: 'cidr'; readonly cidr: Cidr; readonly port: number | undefined };

/** What a route is chosen for: the destination as requested (hostname lowercased, no brackets). */
export interface RouteDestination {
  readonly hostname: string;
  readonly port: number;
}

/** A malformed entry: the index of the array item it came from (undefined for a single string) and why. */
export interface PatternIssue {
  readonly index: number | undefined;
  readonly message: string;
}

const NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;
const PORT = /^\d{1,5}$/;

/** Splits `input` into entries: a comma list, or an array whose items may themselves be comma lists. */
export function hostListEntries(input: string | readonly string[]): string[] {
  const items = typeof input === 'string' ? [input] : input;
  return items.flatMap((item) => item.split(',')).map((e) => e.trim()).filter((e) => e !== '');
}

/** One entry, or a reason it cannot be used. */
export function parseHostPattern(entry: string): HostPattern | string {
  const text = entry.trim().toLowerCase();
  if (text === '*') return { kind: 'any' };
  const split = splitPort(text);
  if (typeof split === 'string') return split;
  const { host, port } = split;
  if (host.includes('/') || parseIp(host) !== null) {
    const cidr = parseCidr(host);
    if (cidr === null) return `${JSON.stringify(entry)} is not an IP address or CIDR block such as 10.0.0.0/8`;
    return { kind: 'cidr', cidr, port };
  }
  // `.example.com` and `*.example.com` mean what `example.com` means (curl strips the leading dot).
  const domain = host.replace(/^\*?\./, '').replace(/\.$/, '');
  if (!NAME.test(domain)) {
    return `${JSON.stringify(entry)} is not a host pattern: expected *, a domain such as .example.com, an IP or a CIDR, optionally with :port`;
  }
  return { kind: 'domain', domain, port };
}

/** Compiles a whole list; every malformed entry is reported, with the array item it came from. */
export function parseHostList(input: string | readonly string[]): { patterns: HostPattern[]; issues: PatternIssue[] } {
  const patterns: HostPattern[] = [];
  const issues: PatternIssue[] = [];
  const items = typeof input === 'string' ? [input] : input;
  items.forEach((item, i) => {
    for (const entry of hostListEntries(item)) {
      const p = parseHostPattern(entry);
      if (typeof p === 'string') issues.push({ index: typeof input === 'string' ? undefined : i, message: p });
      else patterns.push(p);
    }
  });
  return { patterns, issues };
}

/** True when `pattern` covers `dest`. */
export function patternMatches(pattern: HostPattern, dest: RouteDestination): boolean {
  if (pattern.kind === 'any') return true;
  if (pattern.port !== undefined && pattern.port !== dest.port) return false;
  const host = dest.hostname.endsWith('.') ? dest.hostname.slice(0, -1) : dest.hostname;
  if (pattern.kind === 'cidr') {
    const ip = parseIp(host);
    return ip !== null && cidrContains(pattern.cidr, ip);
  }
  const d = pattern.domain;
  return host === d || (host.length > d.length && host.endsWith(d) && host.charCodeAt(host.length - d.length - 1) === 0x2e);
}

/** True when any pattern of the list covers `dest`. */
export function anyMatches(patterns: readonly HostPattern[], dest: RouteDestination): boolean {
  for (const p of patterns) if (patternMatches(p, dest)) return true;
  return false;
}

/**
 * `host:port`, `[v6]:port`, `[v6]`, or a bare host. A bare IPv6 address (`::1`, `fd00::/8`) has no port: its colons
 * are the address's own.
 */
function splitPort(text: string): { host: string; port: number | undefined } | string {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) return `unterminated IPv6 literal in ${JSON.stringify(text)}`;
    const rest = text.slice(close + 1);
    if (rest === '') return { host: text.slice(1, close), port: undefined };
    if (!rest.startsWith(':')) return `unexpected characters after ']' in ${JSON.stringify(text)}`;
    const port = portOf(rest.slice(1), text);
    return typeof port === 'string' ? port : { host: text.slice(1, close), port };
  }
  const first = text.indexOf(':');
  if (first === -1 || first !== text.lastIndexOf(':')) return { host: text, port: undefined };
  const port = portOf(text.slice(first + 1), text);
  return typeof port === 'string' ? port : { host: text.slice(0, first), port };
}

function portOf(text: string, entry: string): number | string {
  const n = PORT.test(text) ? Number(text) : NaN;
  return n >= 1 && n <= 65535 ? n : `invalid port in ${JSON.stringify(entry)}`;
}
