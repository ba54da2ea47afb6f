/**
 * Request-target policy (SPEC §2.1–2.2, RFC 9112 §3.2): where a request goes upstream, the origin-form path it is
 * sent with, and the `Host` it carries. Forward mode needs absolute-form; gateway mode addresses a fixed target;
 * CONNECT uses authority-form. The target is taken apart by hand and the path passed on byte for byte: a transparent
 * proxy does not normalise what it forwards. Pure: every refusal is a value with a one-line reason for the `400`.
 */
import { parseAuthority, quote, type Authority } from './authority.js';

/** Where one request goes upstream. */
export interface UpstreamTarget {
  /** Pool key (SPEC §4.1): always `scheme://host:port` with an explicit port, IPv6 in brackets. */
  origin: string;
  protocol: 'http:' | 'https:';
  /** Lowercased, without brackets: what to connect to. */
  hostname: string;
  port: number;
  /** Origin-form (RFC 9112 §3.2.1): path and query, `/` when empty, `*` for OPTIONS with an empty path (§3.2.4). */
  path: string;
  /** Value for the upstream `Host` header: the authority, port omitted when default, IPv6 in brackets. */
  host: string;
}

export type TargetResult = { ok: true; target: UpstreamTarget } | { ok: false; status: 400; reason: string };

interface Scheme {
  protocol: 'http:' | 'https:';
  defaultPort: number;
}

const HTTP: Scheme = { protocol: 'http:', defaultPort: 80 };
const HTTPS: Scheme = { protocol: 'https:', defaultPort: 443 };
/** `ws:`/`wss:` arrive as upgrade targets and are carried over HTTP/1.1 (RFC 6455 §3, §4.1). */
const SCHEMES: ReadonlyMap<string, Scheme> = new Map([
  ['http', HTTP],
  ['https', HTTPS],
  ['ws', HTTP],
  ['wss', HTTPS],
]);

/** Node's http client throws on these in a path (`ERR_UNESCAPED_CHARACTERS`); refuse them here as a `400`. */
const INVALID_PATH = /[^\u0021-\u00ff]/;

const NEEDS_ABSOLUTE = 'hopwise is a forward proxy: the request target must be an absolute URI such as http://host/path';
const GATEWAY_FORMS = 'the request target must be a path such as /x or an absolute URI such as http://host/x';

interface Absolute {
  scheme: Scheme;
  authority: Authority;
  /** Path and query as sent, fragment dropped; may be empty or start with `?`. */
  rest: string;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; status: 400; reason: string };

function bad(reason: string): { ok: false; status: 400; reason: string } {
  return { ok: false, status: 400, reason };
}

/**
 * Splits `scheme://authority[path][?query][#fragment]`; the scheme is matched case-insensitively (RFC 3986 §3.1).
 * `expected` opens the reason when `text` is not absolute-form at all.
 */
function parseAbsolute(text: string, expected: string): Parsed<Absolute> {
  const separator = text.indexOf('://');
  if (separator <= 0) return bad(`${expected} (got ${quote(text)})`);
  const scheme = SCHEMES.get(text.slice(0, separator).toLowerCase());
  if (scheme === undefined) {
    return bad(`unsupported scheme in ${quote(text)}: hopwise forwards http, https, ws and wss`);
  }
  const start = separator + 3;
  let end = start;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    if (code === 0x2f || code === 0x3f || code === 0x23) break; // '/', '?', '#' end the authority
    end++;
  }
  const parsed = parseAuthority(text.slice(start, end), scheme.defaultPort);
  if (!parsed.ok) return bad(parsed.reason);
  const hash = text.indexOf('#', end);
  return { ok: true, value: { scheme, authority: parsed.authority, rest: text.slice(end, hash === -1 ? undefined : hash) } };
}

/** The origin-form for a path-and-query that may be empty or query-only (RFC 9112 §3.2.1, §3.2.4). */
function originForm(rest: string, method: string): string {
  if (rest === '') return method === 'OPTIONS' ? '*' : '/';
  return rest.charCodeAt(0) === 0x3f ? `/${rest}` : rest;
}

function build(scheme: Scheme, authority: Authority, path: string): TargetResult {
  if (INVALID_PATH.test(path)) return bad(`invalid character in the request target path ${quote(path)}`);
  const { hostname, port, ipv6 } = authority;
  const bracketed = ipv6 ? `[${hostname}]` : hostname;
  return {
    ok: true,
    target: {
      origin: `${scheme.protocol}//${bracketed}:${port}`,
      protocol: scheme.protocol,
      hostname,
      port,
      path,
      host: port === scheme.defaultPort ? bracketed : `${bracketed}:${port}`,
    },
  };
}

/**
 * Forward mode (SPEC §2.1): an absolute-form `http://`, `https://`, `ws://` or `wss://` target becomes an upstream
 * origin, an origin-form path and a `Host` taken from the URI, whatever `Host` the client sent. Origin-form and
 * asterisk-form address the proxy itself and get a `400` explaining that an absolute URI is needed (SPEC §2.2);
 * userinfo, an empty host, an unknown scheme or a bad port are refused too. Fragments are dropped.
 */
export function forwardTarget(requestTarget: string, method: string): TargetResult {
  if (requestTarget.charCodeAt(0) === 0x2f) return bad(`${NEEDS_ABSOLUTE} (got origin-form ${quote(requestTarget)})`);
  if (requestTarget === '*') return bad(`${NEEDS_ABSOLUTE} (got asterisk-form "*")`);
  const parsed = parseAbsolute(requestTarget, NEEDS_ABSOLUTE);
  if (!parsed.ok) return parsed;
  const { scheme, authority, rest } = parsed.value;
  return build(scheme, authority, originForm(rest, method));
}

/**
 * Gateway mode: the request goes to the fixed `targetOrigin` (an origin URL validated by the config schema). An
 * origin-form target is used as the path; an absolute-form one is accepted too (RFC 9112 §3.2.2: servers MUST accept
 * it) but only its path and query are used; `OPTIONS *` passes as `*`. With `preserveHost`, `host` is
 * the authority the client asked for ({@link requestedHost}: an absolute-form target's, else its `Host`); otherwise,
 * or when there is none, the target's authority.
 */
export function gatewayTarget(
  requestTarget: string,
  method: string,
  targetOrigin: string,
  clientHost: string | undefined,
  preserveHost: boolean,
): TargetResult {
  const origin = parseAbsolute(targetOrigin, 'expected an origin URL');
  if (!origin.ok) return bad(`invalid gateway target ${quote(targetOrigin)}: ${origin.reason}`);
  let path: string;
  if (requestTarget.charCodeAt(0) === 0x2f) {
    const hash = requestTarget.indexOf('#');
    path = hash === -1 ? requestTarget : requestTarget.slice(0, hash);
  } else if (requestTarget === '*') {
    if (method !== 'OPTIONS') return bad(`the asterisk-form target "*" is only for OPTIONS (got ${quote(method)})`);
    path = '*';
  } else {
    const parsed = parseAbsolute(requestTarget, GATEWAY_FORMS);
    if (!parsed.ok) return parsed;
    path = originForm(parsed.value.rest, method);
  }
  const result = build(origin.value.scheme, origin.value.authority, path);
  if (result.ok && preserveHost) {
    // RFC 9112 §3.2.2: with an absolute-form target the authority comes from the target; Host is ignored.
    const host = requestedHost(requestTarget, clientHost);
    if (host !== undefined && host !== '') result.target.host = host;
  }
  return result;
}

/**
 * The authority the client asked for (what `X-Forwarded-Host`, `Forwarded: host=` and a gateway's preserved `Host`
 * carry): an absolute-form target's authority, port omitted when default (RFC 9112 §3.2.2: a server MUST ignore the
 * `Host` field then), else the client's `Host`. Undefined when neither is known.
 */
export function requestedHost(requestTarget: string, clientHost: string | undefined): string | undefined {
  const c = requestTarget.charCodeAt(0);
  if (c === 0x2f || requestTarget === '*' || requestTarget.indexOf('://') <= 0) return clientHost;
  const parsed = parseAbsolute(requestTarget, GATEWAY_FORMS);
  if (!parsed.ok) return clientHost;
  const result = build(parsed.value.scheme, parsed.value.authority, '/');
  return result.ok ? result.target.host : clientHost;
}

/**
 * The pool key (SPEC §4.1: `scheme://host:port`, explicit port, lowercased host, IPv6 in brackets) under which
 * requests to `originUrl` are pooled, spelt exactly as {@link forwardTarget} and {@link gatewayTarget} key them;
 * undefined when it is not an http(s) origin URL. `upstream.origins` entries are matched by this key.
 */
export function originKey(originUrl: string): string | undefined {
  if (!/^https?:\/\//i.test(originUrl)) return undefined;
  const parsed = parseAbsolute(originUrl, 'expected an origin URL');
  if (!parsed.ok || (parsed.value.rest !== '' && parsed.value.rest !== '/')) return undefined;
  const result = build(parsed.value.scheme, parsed.value.authority, '/');
  return result.ok ? result.target.origin : undefined;
}

/** CONNECT authority-form (RFC 9112 §3.2.3): `host:port` or `[v6]:port`, port required (SPEC §6.1). */
export function authorityTarget(
  requestTarget: string,
): { ok: true; hostname: string; port: number } | { ok: false; status: 400; reason: string } {
  if (requestTarget.includes('/')) return bad(`CONNECT needs an authority-form target host:port (got ${quote(requestTarget)})`);
  const parsed = parseAuthority(requestTarget, undefined);
  if (!parsed.ok) return bad(parsed.reason);
  return { ok: true, hostname: parsed.authority.hostname, port: parsed.authority.port };
}
