/**
 * Maps low-level errors (errno codes, undici error codes, llhttp parser codes) to stable ProxyError codes. Pure: it
 * only reads `err.code`/`err.name`, so it is unit-testable without sockets.
 */
import type { ErrorCode } from './codes.js';
import type { Phase } from './proxy-error.js';
import { ProxyError } from './proxy-error.js';

/** errno / undici code → proxy code. Anything unlisted is UPSTREAM_ERROR (or RESET/TRUNCATED by phase). */
const BY_CODE: Readonly<Record<string, ErrorCode>> = {
  ECONNREFUSED: 'UPSTREAM_REFUSED',
  EHOSTUNREACH: 'UPSTREAM_REFUSED',
  ENETUNREACH: 'UPSTREAM_REFUSED',
  EADDRNOTAVAIL: 'UPSTREAM_REFUSED',
  ENOTFOUND: 'UPSTREAM_DNS',
  EAI_AGAIN: 'UPSTREAM_DNS',
  EAI_NONAME: 'UPSTREAM_DNS',
  ETIMEDOUT: 'UPSTREAM_CONNECT_TIMEOUT',
  UND_ERR_CONNECT_TIMEOUT: 'UPSTREAM_CONNECT_TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'UPSTREAM_RESPONSE_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'UPSTREAM_BODY_TIMEOUT',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'UPSTREAM_TRUNCATED',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'REQUEST_BODY_ERROR',
  UND_ERR_HEADERS_OVERFLOW: 'UPSTREAM_BAD_RESPONSE',
  UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE: 'UPSTREAM_BAD_RESPONSE',
  ECONNRESET: 'UPSTREAM_RESET',
  EPIPE: 'UPSTREAM_RESET',
  UND_ERR_SOCKET: 'UPSTREAM_RESET',
  UND_ERR_CLOSED: 'UPSTREAM_RESET',
  UND_ERR_DESTROYED: 'UPSTREAM_RESET',
  UND_ERR_ABORTED: 'CLIENT_ABORTED',
};

const CAUSE_TEXT: Readonly<Partial<Record<ErrorCode, string>>> = {
  UPSTREAM_REFUSED: 'connection refused',
  UPSTREAM_DNS: 'name not resolved',
  UPSTREAM_CONNECT_TIMEOUT: 'connect timed out',
  UPSTREAM_RESPONSE_TIMEOUT: 'no response head in time',
  UPSTREAM_BODY_TIMEOUT: 'response body stalled',
  UPSTREAM_TRUNCATED: 'response truncated',
  UPSTREAM_RESET: 'connection closed before a response',
  UPSTREAM_BAD_RESPONSE: 'invalid response',
  UPSTREAM_TLS: 'TLS failure',
  REQUEST_BODY_ERROR: 'request body could not be read',
  CLIENT_ABORTED: 'client went away',
};

function lowLevelCode(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True for codes that name a TLS failure (Node's ERR_TLS_*, OpenSSL's certificate codes). */
function isTlsCode(code: string): boolean {
  return code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || code.includes('CERT') || code === 'EPROTO';
}

/**
 * Classify an upstream failure. `responseStarted` turns connection-level failures after the head into truncation:
 * the origin promised more than it sent (SPEC §5.2).
 */
export function classifyUpstreamError(
  err: unknown,
  ctx: { origin: string; phase: Phase; responseStarted: boolean },
): ProxyError {
  if (err instanceof ProxyError) return err;
  const low = lowLevelCode(err) ?? 'UNKNOWN';
  let code: ErrorCode = BY_CODE[low] ?? (low.startsWith('HPE_') ? 'UPSTREAM_BAD_RESPONSE' : 'UPSTREAM_ERROR');
  if (code === 'UPSTREAM_ERROR' && isTlsCode(low)) code = 'UPSTREAM_TLS';
  if (ctx.responseStarted && code === 'UPSTREAM_RESET') code = 'UPSTREAM_TRUNCATED';
  const detail = err instanceof Error ? err.message : String(err);
  const cause = CAUSE_TEXT[code] ?? 'upstream error';
  return new ProxyError(code, `${ctx.origin}: ${cause} (${low}: ${detail})`, {
    leg: 'upstream',
    phase: ctx.phase,
    origin: ctx.origin,
    cause: err,
  });
}
