/**
 * Password hashing for proxy authentication (issue 7): salted scrypt (node:crypto), stored as
 * `scrypt$N$r$p$salt$hash` (format in policy/credentials.ts). scrypt runs on libuv's thread pool, so a verification
 * never blocks the event loop; the comparison is constant-time (`timingSafeEqual`).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { formatPasswordHash, type PasswordHash } from '../policy/credentials.js';

/** scrypt cost parameters. The defaults follow the common interactive-login recommendation (N = 2^14, r = 8, p = 1). */
export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = Object.freeze({ N: 2 ** 14, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; allow that plus headroom so large-but-valid N does not hit Node's 32 MiB default.
  const maxmem = 128 * params.N * params.r * params.p + 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keylen, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err !== null) reject(err);
      else resolve(key);
    });
  });
}

/** Hash a password with a fresh random salt; returns the stored form for `access.users[].passwordHash`. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, KEY_BYTES, params);
  return formatPasswordHash({ ...params, salt, hash });
}

/** True when `password` matches the stored hash. Derives a key of the stored length and compares in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const key = await derive(password, stored.salt, stored.hash.length, stored);
  return timingSafeEqual(key, stored.hash);
}
