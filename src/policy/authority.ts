/**
 * URI authority parsing shared by the request-target policies (RFC 3986 §3.2, RFC 9112 §3.2). Hand-written rather
 * than `new URL()` so nothing is normalised behind the proxy's back, and so each refusal gets its own one-line
 * reason for the `400` body (SPEC §2.2). Pure.
 */

/** A parsed `host[:port]`: hostname lowercased and without brackets. */
export interface Authority {
  hostname: string;
  port: number;
  /** Whether the host was an IP-literal, which must be bracketed again when written (RFC 3986 §3.2.2). */
  ipv6: boolean;
}

export type AuthorityResult = { ok: true; authority: Authority } | { ok: false; reason: string };

/**
 * Host names as they reach DNS: letters, digits, `-`, `.`, `_`, `~`. Stricter than RFC 3986 reg-name on purpose: the
 * name is resolved and written into `Host`, and sub-delims or percent-escapes there only serve smuggling.
 */
const REG_NAME = /^[a-z0-9._~-]+$/i;
/** IPv6 literal body: hex digits, colons, and dots for an embedded IPv4 tail. Zone ids and IPvFuture are refused. */
const IPV6 = /^[0-9a-f:.]+$/i;
const PORT = /^\d{1,5}$/;
const MAX_QUOTED = 100;

/** `JSON.stringify` of a possibly truncated string: quoted, escaped, one line, bounded (for `400` reasons). */
export function quote(text: string): string {
  return JSON.stringify(text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text);
}

function fail(reason: string): AuthorityResult {
  return { ok: false, reason };
}

/**
 * Parses `host`, `host:port`, `[v6]` or `[v6]:port`. With `defaultPort` undefined the port is required (CONNECT
 * authority-form, RFC 9112 §3.2.3); otherwise a missing or empty port (`h:`, RFC 3986 §3.2.3) means the default.
 * Userinfo is refused: RFC 9110 §4.2.4 deprecates it and credentials for the proxy go in `Proxy-Authorization`.
 */
export function parseAuthority(text: string, defaultPort: number | undefined): AuthorityResult {
  if (text === '') return fail('empty host in the request target');
  if (text.includes('@')) {
    return fail(`userinfo (user@host) is not allowed in the request target (RFC 9110 §4.2.4): ${quote(text)}`);
  }
  let hostname: string;
  let portText: string | undefined;
  const ipv6 = text.charCodeAt(0) === 0x5b; // '['
  if (ipv6) {
    const close = text.indexOf(']');
    if (close === -1) return fail(`unterminated IPv6 literal in ${quote(text)}`);
    hostname = text.slice(1, close);
    if (close + 1 < text.length) {
      if (text.charCodeAt(close + 1) !== 0x3a) return fail(`unexpected characters after ']' in ${quote(text)}`);
      portText = text.slice(close + 2);
    }
    if (!hostname.includes(':') || !IPV6.test(hostname)) return fail(`invalid IPv6 literal in ${quote(text)}`);
  } else {
    const colon = text.lastIndexOf(':');
    hostname = colon === -1 ? text : text.slice(0, colon);
    if (colon !== -1) portText = text.slice(colon + 1);
    if (hostname.includes(':')) return fail(`an IPv6 address must be in brackets, e.g. [::1]:8080: ${quote(text)}`);
    if (hostname === '') return fail(`empty host in ${quote(text)}`);
    if (!REG_NAME.test(hostname)) return fail(`invalid host name in ${quote(text)}`);
  }

  let port: number;
  if (portText === undefined || portText === '') {
    if (defaultPort === undefined) return fail(`missing port in ${quote(text)}: expected host:port`);
    port = defaultPort;
  } else {
    if (!PORT.test(portText)) return fail(`invalid port in ${quote(text)}`);
    port = Number(portText);
    if (port < 1 || port > 65535) return fail(`port out of range (1-65535) in ${quote(text)}`);
  }
  return { ok: true, authority: { hostname: hostname.toLowerCase(), port, ipv6 } };
}
