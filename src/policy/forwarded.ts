/**
 * Client-address headers a gateway adds to requests (SPEC §1.2): the de-facto `X-Forwarded-For` / `-Proto` / `-Host`
 * trio, or RFC 7239 `Forwarded`. They are applied to the head AFTER hop-by-hop stripping, so a client cannot remove
 * them by listing them in `Connection`; and whatever the client sent is treated the way Go's httputil.ReverseProxy
 * treats it: `X-Forwarded-For` and `Forwarded` are lists that we extend (the client's entries first, ours last, in
 * ONE field line, because many frameworks read only the first line), while `X-Forwarded-Proto` and
 * `X-Forwarded-Host` describe our hop and are replaced. Pure: no I/O, inputs never modified.
 */
import type { RawHeaders } from './hop-by-hop.js';

/** The `forwarded` setting once `auto` is decided by the mode. */
export type ForwardedStyle = 'none' | 'x-forwarded' | 'rfc7239';

/** `auto` means none in forward mode (a dev proxy does not announce its user) and x-forwarded in gateway mode. */
export function forwardedStyle(setting: ForwardedStyle | 'auto', mode: string): ForwardedStyle {
  if (setting !== 'auto') return setting;
  return mode === 'gateway' ? 'x-forwarded' : 'none';
}

/** What the proxy knows about the client's hop. */
export interface ForwardedFacts {
  /** The client's IP address as its socket reports it; undefined when unknown. */
  readonly clientAddress: string | undefined;
  /** The scheme the client used to reach us. */
  readonly proto: 'http' | 'https';
  /** The `Host` the client sent, if any. */
  readonly host: string | undefined;
}

/** RFC 9110 §5.6.2 tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A token as is, anything else as a quoted-string with `"` and `\` escaped (RFC 9110 §5.6.4). */
function tokenOrQuoted(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * An RFC 7239 §6 node for the `for=` parameter: an IPv4 address as a token, an IPv6 address bracketed and therefore
 * quoted (`for="[2001:db8::1]"`, §6 and the §7.4 example), `unknown` when the address is not known (§6.2).
 */
export function forwardedNode(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  return address.includes(':') ? `"[${address}]"` : tokenOrQuoted(address);
}

/** One RFC 7239 forwarded-element describing the client's hop: `for=...;proto=...[;host=...]`. */
export function forwardedElement(facts: ForwardedFacts): string {
  let element = `for=${forwardedNode(facts.clientAddress)};proto=${facts.proto}`;
  if (facts.host !== undefined && facts.host !== '') element += `;host=${tokenOrQuoted(facts.host)}`;
  return element;
}

/** `head` without the fields named in `drop` (lowercase), and the values of the `collect` field in order. */
function partition(head: RawHeaders, drop: ReadonlySet<string>, collect: string): { rest: string[]; values: string[] } {
  const rest: string[] = [];
  const values: string[] = [];
  for (let i = 0; i + 1 < head.length; i += 2) {
    const lower = head[i]!.toLowerCase();
    if (lower === collect) {
      const value = head[i + 1]!.trim();
      if (value !== '') values.push(value);
    } else if (!drop.has(lower)) {
      rest.push(head[i]!, head[i + 1]!);
    }
  }
  return { rest, values };
}

const X_FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
const FORWARDED = new Set(['forwarded']);

/**
 * A new head with the client-address fields of `style` applied (see the module comment); `none` returns a copy.
 * X-Forwarded-For carries the bare address (IPv6 without brackets, as nginx and Go write it) or `unknown`.
 */
export function withForwarded(head: RawHeaders, style: ForwardedStyle, facts: ForwardedFacts): string[] {
  if (style === 'none') return [...head];
  if (style === 'rfc7239') {
    const { rest, values } = partition(head, FORWARDED, 'forwarded');
    values.push(forwardedElement(facts));
    rest.push('Forwarded', values.join(', '));
    return rest;
  }
  const { rest, values } = partition(head, X_FORWARDED, 'x-forwarded-for');
  values.push(facts.clientAddress === undefined || facts.clientAddress === '' ? 'unknown' : facts.clientAddress);
  rest.push('X-Forwarded-For', values.join(', '), 'X-Forwarded-Proto', facts.proto);
  if (facts.host !== undefined && facts.host !== '') rest.push('X-Forwarded-Host', facts.host);
  return rest;
}
