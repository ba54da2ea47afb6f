/**
 * The stale-connection retry decision (SPEC §4.3, STYLE rule 5): a pure predicate; the engine owns the loop.
 * An origin may close an idle keep-alive socket just as the proxy reuses it; RFC 9112 §9.3.1 allows an automatic
 * retry only for idempotent requests, and hopwise narrows that further to what it can replay safely.
 */

/** Idempotent methods (RFC 9110 §9.2.2). Method names are case-sensitive (RFC 9110 §9.1): `get` is not `GET`. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Whether `method` is idempotent per RFC 9110 §9.2.2 (exact, case-sensitive match). */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** What the engine knows about a failed attempt. */
export interface RetryContext {
  method: string;
  /** The request had no body, so nothing needs replaying from a consumed stream. */
  bodyless: boolean;
  /** The upstream socket had served an earlier request (a fresh socket failing is not the stale race). */
  reusedSocket: boolean;
  /** Any byte of the response had arrived: past that point the request may have been processed. */
  responseStarted: boolean;
  /** 1 for the first try. */
  attempt: number;
}

/**
 * True only for the stale keep-alive race: idempotent, bodyless, on a reused upstream socket, before any response
 * byte, and on the first attempt, so a request is retried at most once (SPEC §4.3). `POST`/`PATCH` never are.
 */
export function shouldRetryStale(ctx: RetryContext): boolean {
  return (
    ctx.attempt === 1 && ctx.reusedSocket && !ctx.responseStarted && ctx.bodyless && IDEMPOTENT.has(ctx.method)
  );
}
