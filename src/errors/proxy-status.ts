/**
 * The `Proxy-Status` field value (RFC 9209) of a response hopwise generates itself: one list member naming this proxy,
 * with the registered error type and a short `details` string, so a client (or the next proxy back) can tell which hop
 * failed and why. Pure: serialisation and sanitising only (Structured Field Values, RFC 8941).
 */
import type { ProxyStatusType } from './codes.js';

/** Longest `details` sent; the body line carries the full message. */
export const DETAILS_MAX = 200;

/** RFC 8941 §3.3.4 sf-token: starts with ALPHA or `*`, then tchar, `:` or `/`. */
const SF_TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/;

/**
 * RFC 8941 §3.3.3 sf-string: printable ASCII (0x20–0x7E) between double quotes, with `"` and `\` escaped by a
 * backslash. Anything else (CR, LF, other controls, non-ASCII) cannot be represented and becomes `?`, so the value can
 * never split the field or the head.
 */
export function sfString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c > 0x7e) out += '?';
    else if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The proxy's name as an sf-item: a token when it is one (`hopwise`), else an sf-string (RFC 9209 §2). */
export function proxyNameItem(name: string): string {
  return SF_TOKEN.test(name) ? name : sfString(name);
}

/** `scheme://user:password@host` → `scheme://host`: credentials in a target never leave in a header. */
const USERINFO = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/@]*@/g;

/**
 * `details` for an error message: credentials in URLs removed, whitespace runs (CR/LF included) collapsed to one
 * space, cut to {@link DETAILS_MAX} characters. Messages never carry header values of credentials (the auth
 * refusals say "invalid credentials", issue 7); this also keeps a URL's userinfo out.
 */
export function sanitizeDetails(message: string): string {
  const text = message.replace(USERINFO, '$1').replace(/\s+/g, ' ').trim();
  return text.length <= DETAILS_MAX ? text : `${text.slice(0, DETAILS_MAX - 3)}...`;
}

/** `hopwise; error=connection_refused; details="..."` (RFC 9209 §2, §2.1.1, §2.1.2). */
export function proxyStatusValue(proxyName: string, type: ProxyStatusType, details: string): string {
  return `${proxyNameItem(proxyName)}; error=${type}; details=${sfString(sanitizeDetails(details))}`;
}
