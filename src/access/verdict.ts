/**
 * The one verdict type of access control, used by every leg: accept-time admission of client connections, the
 * request gate of plain HTTP, and CONNECT/Upgrade tunnels. Allowed (with what the check found, e.g. the vetted address
 * a tunnel dials) or refused: a ProxyError (status and Proxy-Status type from the one table) and the headers its
 * answer needs (`Proxy-Authenticate` on a `407`), answered by the one writer (src/errors/respond.ts).
 */
import type { ProxyError } from '../errors/index.js';

/** The refused arm of a {@link Verdict}. */
export interface Refusal {
  readonly ok: false;
  readonly error: ProxyError;
  /** Flat `[name, value, ...]`: `Proxy-Authenticate` on a `407`. */
  readonly headers: readonly string[];
}

/** Allowed, carrying `A` (e.g. `{ address }` for a tunnel), or a {@link Refusal}. */
export type Verdict<A extends object = object> = ({ readonly ok: true } & Readonly<A>) | Refusal;

/** A CONNECT's verdict: the vetted address to connect to (never the name again), or the refusal. */
export type TunnelVerdict = Verdict<{ address: string }>;

/** The allowed verdict without payload (shared, frozen). */
export const ALLOW: Verdict = Object.freeze({ ok: true });

/** A refusal of `error`, answered with `headers`. */
export function deny(error: ProxyError, headers: readonly string[] = []): Refusal {
  return { ok: false, error, headers };
}
