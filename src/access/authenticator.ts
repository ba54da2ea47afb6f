/**
 * Proxy authentication (issue 7): `Proxy-Authorization: Basic` checked against `access.users` (salted scrypt hashes).
 *
 * scrypt is deliberately slow (tens of milliseconds of CPU), so:
 * - a verified credential is remembered by the SHA-256 of its token (bounded LRU), so a client that sends the same
 *   header on every request pays for scrypt once; the token itself is never stored;
 * - identical verifications in flight share one scrypt run (a browser opening six connections at once);
 * - at most {@link MAX_RUNNING} run at a time on libuv's pool (which DNS lookups share) and at most
 *   {@link MAX_QUEUED} wait; beyond that the answer is `407` at once rather than an unbounded queue;
 * - an unknown user costs a full scrypt run against a dummy hash, so timing does not reveal which users exist.
 * Nothing here logs the header, the user name or the password.
 */
import { createHash } from 'node:crypto';
import { basicChallenge, parseBasicCredentials, parsePasswordHash, type PasswordHash } from '../policy/credentials.js';
import type { RawHeaders } from '../policy/index.js';
import { verifyPassword } from './password.js';

export type AuthOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** One configured user (`access.users[]`). */
export interface UserEntry {
  readonly username: string;
  readonly passwordHash: string;
}

const MAX_RUNNING = 2;
const MAX_QUEUED = 64;
const CACHE_SIZE = 256;
const OK: AuthOutcome = Object.freeze({ ok: true });

const PROBLEM_TEXT = {
  missing: 'proxy authentication required',
  malformed: 'malformed Proxy-Authorization',
  'not-basic': 'only the Basic scheme is supported',
} as const;

export class ProxyAuthenticator {
  readonly #users = new Map<string, PasswordHash>();
  readonly #dummy: PasswordHash | undefined;
  readonly #challenge: string;
  /** SHA-256(token) → true, in least-recently-used order (Map insertion order). */
  readonly #verified = new Map<string, true>();
  readonly #inFlight = new Map<string, Promise<AuthOutcome>>();
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  /** Throws on a malformed hash: config validation reports those first, with the dotted path. */
  constructor(users: readonly UserEntry[], realm: string) {
    for (const u of users) {
      const parsed = parsePasswordHash(u.passwordHash);
      if (typeof parsed === 'string') throw new Error(`access.users: ${u.username}: ${parsed}`);
      this.#users.set(u.username, parsed);
    }
    const first = this.#users.values().next().value;
    this.#dummy = first === undefined ? undefined : { ...first, salt: Buffer.alloc(first.salt.length), hash: Buffer.alloc(first.hash.length) };
    this.#challenge = basicChallenge(realm);
  }

  /** Authentication is on when at least one user is configured. */
  get enabled(): boolean {
    return this.#users.size > 0;
  }

  /** The `Proxy-Authenticate` value sent with every `407`. */
  get challenge(): string {
    return this.#challenge;
  }

  /** Check a request's credentials; synchronous when nothing needs scrypt (disabled, missing, cached). */
  check(raw: RawHeaders): AuthOutcome | Promise<AuthOutcome> {
    if (!this.enabled) return OK;
    const creds = parseBasicCredentials(raw);
    if (!creds.ok) return { ok: false, reason: PROBLEM_TEXT[creds.problem] };
    const key = createHash('sha256').update(creds.token).digest('base64');
    if (this.#verified.has(key)) {
      this.#verified.delete(key);
      this.#verified.set(key, true);
      return OK;
    }
    const shared = this.#inFlight.get(key);
    if (shared !== undefined) return shared;
    if (this.#running + this.#waiting.length >= MAX_RUNNING + MAX_QUEUED) {
      return { ok: false, reason: 'too many authentications in progress' };
    }
    const outcome = this.#verify(key, creds.username, creds.password);
    this.#inFlight.set(key, outcome);
    return outcome;
  }

  async #verify(key: string, username: string, password: string): Promise<AuthOutcome> {
    await this.#slot();
    try {
      const stored = this.#users.get(username);
      const match = await verifyPassword(password, stored ?? this.#dummy!).catch(() => false);
      if (!match || stored === undefined) return { ok: false, reason: 'invalid credentials' };
      this.#verified.set(key, true);
      if (this.#verified.size > CACHE_SIZE) this.#verified.delete(this.#verified.keys().next().value!);
      return OK;
    } finally {
      this.#inFlight.delete(key);
      this.#running--;
      this.#waiting.shift()?.();
    }
  }

  /** Wait for one of the {@link MAX_RUNNING} scrypt slots. */
  #slot(): Promise<void> {
    if (this.#running < MAX_RUNNING) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#waiting.push(() => {
        this.#running++;
        resolve();
      });
    });
  }
}
