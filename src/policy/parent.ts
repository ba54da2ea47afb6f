/**
 * Parent proxies (issue 13, SPEC §4.7): the URL of a parent (`http://[user:pass@]host[:port]`, or `https://` for TLS
 * to the parent itself), the credentials hopwise sends it, and the text under which it appears in logs and stats —
 * which never carries the credentials. Pure.
 */
import { parseAuthority } from './authority.js';
import type { RawHeaders } from './hop-by-hop.js';

/** What hopwise puts in `Proxy-Authorization` towards one parent (credentials are per hop: SPEC §4.7). */
export type ParentAuth =
  | { readonly kind: 'none' }
  /** Our own credentials, as the whole header value (`Basic …`). */
  | { readonly kind: 'basic'; readonly header: string }
  /** The client's own `Proxy-Authorization`, relayed (`upstream.proxyAuth: "passthrough"`, Squid's login=PASSTHRU). */
  | { readonly kind: 'passthrough' };

/** One parent proxy. */
export interface ParentProxy {
  /** `http://host:port` (explicit port, IPv6 in brackets, no credentials): the pool key and the name in stats. */
  readonly key: string;
  /** TLS to the parent itself (`https://` parent URL). */
  readonly secure: boolean;
  /** Lowercased, without brackets: what to connect to. */
  readonly hostname: string;
  readonly port: number;
  readonly auth: ParentAuth;
}

/** `upstream.proxyAuth`: credentials for parents whose URL has none, or `passthrough`. */
export type ProxyAuthSetting = null | string | { readonly username: string; readonly password: string };

const NONE: ParentAuth = Object.freeze({ kind: 'none' });
const PASSTHROUGH: ParentAuth = Object.freeze({ kind: 'passthrough' });

/** `Basic base64(user:pass)` (RFC 7617 §2; UTF-8, as §2.1 recommends). */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** The default credentials for parents (`upstream.proxyAuth`), or a reason they cannot be used (never echoing them). */
export function parseProxyAuth(setting: ProxyAuthSetting): ParentAuth | string {
  if (setting === null) return NONE;
  if (setting === 'passthrough') return PASSTHROUGH;
  if (typeof setting === 'string') {
    const colon = setting.indexOf(':');
    if (colon <= 0) return 'expected "user:password", {"username", "password"} or "passthrough" (the value is not shown: it may be a secret)';
    return { kind: 'basic', header: basicAuthorization(setting.slice(0, colon), setting.slice(colon + 1)) };
  }
  if (setting.username === '' || setting.username.includes(':')) {
    return 'the username must be non-empty and cannot contain ":" (RFC 7617 §2)';
  }
  return { kind: 'basic', header: basicAuthorization(setting.username, setting.password) };
}

/** `text` with any `user:pass@` replaced by `***@`: parent URLs may appear in messages, their credentials never. */
export function redactProxyUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

/**
 * Parses a parent URL. The credentials in its userinfo (percent-decoded) take precedence over `fallback` (the
 * parsed `upstream.proxyAuth`). The port defaults to the scheme's (80, 443), as a URL means. Returns a reason, with
 * the credentials redacted, when the text is not `http(s)://[user:pass@]host[:port][/]`.
 */
export function parseParentUrl(text: string, fallback: ParentAuth = NONE): ParentProxy | string {
  const shown = JSON.stringify(redactProxyUrl(text));
  const m = /^(https?):\/\/([^/?#]*)\/?$/i.exec(text.trim());
  if (m === null) return `expected a parent proxy URL such as http://proxy.example:3128 (scheme http or https, host, optional port, no path), got ${shown}`;
  const secure = m[1]!.toLowerCase() === 'https';
  let authority = m[2]!;
  let auth = fallback;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const creds = userinfo(authority.slice(0, at));
    if (typeof creds === 'string') return `${creds} in ${shown}`;
    auth = creds;
    authority = authority.slice(at + 1);
  }
  const parsed = parseAuthority(authority, secure ? 443 : 80);
  if (!parsed.ok) return `${parsed.reason} (parent proxy ${shown})`;
  const { hostname, port, ipv6 } = parsed.authority;
  const key = `${secure ? 'https' : 'http'}://${ipv6 ? `[${hostname}]` : hostname}:${port}`;
  return { key, secure, hostname, port, auth };
}

function userinfo(text: string): ParentAuth | string {
  const colon = text.indexOf(':');
  try {
    const username = decodeURIComponent(colon === -1 ? text : text.slice(0, colon));
    const password = colon === -1 ? '' : decodeURIComponent(text.slice(colon + 1));
    if (username === '') return 'empty username in the credentials';
    return { kind: 'basic', header: basicAuthorization(username, password) };
  } catch {
    return 'malformed percent-encoding in the credentials';
  }
}

/**
 * The `Proxy-Authorization` values for `parent`: ours, the client's own (`passthrough`), or none. The client's header
 * was stripped with the other hop-by-hop fields (SPEC §1.1); only `passthrough` brings it back, for this hop.
 */
export function parentAuthorization(parent: ParentProxy, clientHead: RawHeaders): string[] {
  if (parent.auth.kind === 'basic') return [parent.auth.header];
  if (parent.auth.kind === 'none') return [];
  const out: string[] = [];
  for (let i = 0; i + 1 < clientHead.length; i += 2) if (clientHead[i]!.toLowerCase() === 'proxy-authorization') out.push(clientHead[i + 1]!);
  return out;
}
