/**
 * The one table that maps proxy error codes to HTTP statuses (SPEC §4.4; STYLE rule 4). Every error the proxy
 * answers itself goes through here, so a status can be changed in exactly one place.
 */
export const ERROR_STATUS = {
  /** The origin refused the connection (ECONNREFUSED) or was unreachable. */
  UPSTREAM_REFUSED: 502,
  /** The origin's name did not resolve (ENOTFOUND, EAI_AGAIN). */
  UPSTREAM_DNS: 502,
  /** TCP/TLS connect did not complete within upstream.connectTimeout. */
  UPSTREAM_CONNECT_TIMEOUT: 504,
  /** No response head within upstream.responseTimeout. */
  UPSTREAM_RESPONSE_TIMEOUT: 504,
  /** The origin closed or reset the connection before a response head. */
  UPSTREAM_RESET: 502,
  /** The origin sent an unparsable or invalid response. */
  UPSTREAM_BAD_RESPONSE: 502,
  /** TLS handshake or certificate failure towards an https origin. */
  UPSTREAM_TLS: 502,
  /** The response body stalled past upstream.bodyTimeout (only ever seen after the head was sent). */
  UPSTREAM_BODY_TIMEOUT: 504,
  /** The origin closed before the promised end of the body (SPEC §5.2; after the head: abort downstream). */
  UPSTREAM_TRUNCATED: 502,
  /** Any other upstream failure. */
  UPSTREAM_ERROR: 502,
  /** The request target is not usable (origin-form in forward mode, bad URI). */
  BAD_REQUEST_TARGET: 400,
  /** The request body could not be read from the client. */
  REQUEST_BODY_ERROR: 400,
  /** The request violates message framing rules (SPEC §5.3). */
  BAD_REQUEST: 400,
  /** A request transfer coding other than chunked (`gzip, chunked`): it cannot be re-framed (RFC 9112 §6.1). */
  UNSUPPORTED_TRANSFER_CODING: 501,
  /** A request in an HTTP major version other than 1 (RFC 9110 §15.6.6). */
  UNSUPPORTED_VERSION: 505,
  /** The client went away; nothing is written, the code exists for logs and stats. */
  CLIENT_ABORTED: 499,
  /** Loop detected via Via or the proxy's own address (SPEC §2.4). */
  LOOP_DETECTED: 508,
  /** Access control denied the client or the destination. */
  FORBIDDEN: 403,
  /** Proxy authentication is required or failed. */
  PROXY_AUTH_REQUIRED: 407,
  /** A request head with more fields than downstream.maxHeaderCount (issue 17: never processed in part). */
  TOO_MANY_HEADER_FIELDS: 431,
  /** Request body larger than downstream.maxBodySize. */
  PAYLOAD_TOO_LARGE: 413,
  /** The proxy is shutting down and no longer accepts work. */
  SHUTTING_DOWN: 503,
  /** CONNECT to a port outside tunnel.allowedPorts (SPEC §6.1). */
  TUNNEL_PORT_DENIED: 403,
  /** CONNECT to a gateway: a gateway serves its fixed target and opens no tunnels (RFC 9110 §15.6.2). */
  CONNECT_UNSUPPORTED: 501,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Status for a code; the one lookup every error writer uses. */
export function statusFor(code: ErrorCode): number {
  return ERROR_STATUS[code];
}
