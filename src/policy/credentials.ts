/**
 * Proxy authentication, the pure parts (issue 7): reading `Proxy-Authorization: Basic` (RFC 9110 §11.7.2,
 * RFC 7617), the `Proxy-Authenticate` challenge, and the stored password-hash format
 * `scrypt$N$r$p$salt$hash` (salt and hash in base64). The hashing itself (node:crypto scrypt) lives in
 * access/password.ts. Nothing here logs or keeps a secret.
 */
import type { RawHeaders } from './hop-by-hop.js';

/** A password hash as stored in `access.users[].passwordHash`. */
export interface PasswordHash {
  /** scrypt CPU/memory cost: a power of two. */
  readonly N: number;
  /** scrypt block size. */
  readonly r: number;
  /** scrypt parallelisation. */
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export type BasicCredentials =
  | { readonly ok: true; readonly username: string; readonly password: string; readonly token: string }
  | { readonly ok: false; readonly problem: 'missing' | 'malformed' | 'not-basic' };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SCHEME_BASIC = /^basic$/i;
/** Bounds that keep verification affordable and meaningful (N ≥ 2^10, at most 2^20 ≈ 1 GiB·r/8 of memory). */
const LIMITS = { minLogN: 10, maxLogN: 20, maxR: 32, maxP: 16, minSalt: 16, minHash: 16 } as const;

/**
 * The Basic credentials of a request. Exactly one `Proxy-Authorization` line is accepted (several would be ambiguous);
 * the scheme is case-insensitive (RFC 9110 §11.1), the token strict base64, the user-id may not contain `:`
 * (RFC 7617 §2). `token` is the base64 text, used as the verification cache key by the caller (after hashing).
 */
export function parseBasicCredentials(raw: RawHeaders): BasicCredentials {
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length !== 19 || name.toLowerCase() !== 'proxy-authorization') continue;
    if (value !== undefined) return { ok: false, problem: 'malformed' };
    value = raw[i + 1]!;
  }
  if (value === undefined) return { ok: false, problem: 'missing' };
  const trimmed = value.trim();
  const space = trimmed.indexOf(' ');
  if (space === -1) return { ok: false, problem: SCHEME_BASIC.test(trimmed) ? 'malformed' : 'not-basic' };
  if (!SCHEME_BASIC.test(trimmed.slice(0, space))) return { ok: false, problem: 'not-basic' };
  const token = trimmed.slice(space + 1).trim();
  if (token === '' || !BASE64.test(token)) return { ok: false, problem: 'malformed' };
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return { ok: false, problem: 'malformed' };
  return { ok: true, username: decoded.slice(0, colon), password: decoded.slice(colon + 1), token };
}

/** The `Proxy-Authenticate` value for a `407` (RFC 7617 §2: realm as a quoted-string, UTF-8 announced). */
export function basicChallenge(realm: string): string {
  let quoted = '';
  for (const ch of realm) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) continue; // control characters cannot appear in a field value
    quoted += ch === '"' || ch === '\\' ? `\\${ch}` : ch;
  }
  return `Basic realm="${quoted}", charset="UTF-8"`;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Parse `scrypt$N$r$p$salt$hash`; a string explains what is wrong (for config validation). */
export function parsePasswordHash(text: string): PasswordHash | string {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    return 'expected scrypt$N$r$p$salt$hash as printed by `hopwise hash-password`';
  }
  const [, nText, rText, pText, saltText, hashText] = parts as [string, string, string, string, string, string];
  if (![nText, rText, pText].every((t) => /^\d{1,8}$/.test(t))) return 'N, r and p must be decimal integers';
  const N = Number(nText);
  const r = Number(rText);
  const p = Number(pText);
  if (!isPowerOfTwo(N) || N < 2 ** LIMITS.minLogN || N > 2 ** LIMITS.maxLogN) {
    return `N must be a power of two between 2^${LIMITS.minLogN} and 2^${LIMITS.maxLogN}`;
  }
  if (r < 1 || r > LIMITS.maxR || p < 1 || p > LIMITS.maxP) return `r must be 1-${LIMITS.maxR} and p 1-${LIMITS.maxP}`;
  if (!BASE64.test(saltText) || !BASE64.test(hashText)) return 'salt and hash must be base64';
  const salt = Buffer.from(saltText, 'base64');
  const hash = Buffer.from(hashText, 'base64');
  if (salt.length < LIMITS.minSalt || hash.length < LIMITS.minHash) {
    return `salt and hash must be at least ${LIMITS.minSalt} bytes each`;
  }
  return { N, r, p, salt, hash };
}

/** The stored form of a hash, the inverse of {@link parsePasswordHash}. */
export function formatPasswordHash(h: PasswordHash): string {
  return `scrypt$${h.N}$${h.r}$${h.p}$${h.salt.toString('base64')}$${h.hash.toString('base64')}`;
}
