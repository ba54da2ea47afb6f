/**
 * The one table of proxy error codes (SPEC §4.4; STYLE rule 4): each code's HTTP status and its Proxy-Status error
 * type (RFC 9209 §2.3, the registered types). Every response hopwise generates itself goes through here (the writer
 * is respond.ts), so a status or a type can be changed in exactly one place.
 *
 * Types where RFC 9209 leaves a choice: request-side failures are `http_request_error` (RFC 9209 names 400, 408,
 * 413 and 417 among its statuses); refusals by policy are `http_request_denied`; answers hopwise gives without trying
 * the next hop for reasons of its own state (shutting down, connection limits, CONNECT on a gateway) are
 * `proxy_internal_response`; `connection_limit_reached` is about the next hop, not the client, so it is not used for client limits.
 */
export const ERROR_CODES = {
  /** The origin refused the connection (ECONNREFUSED) or was unreachable. */
  UPSTREAM_REFUSED: { status: 502, type: 'connection_refused' },
  /** The origin's name did not resolve (ENOTFOUND, EAI_AGAIN). */
  UPSTREAM_DNS: { status: 502, type: 'dns_error' },
  /** TCP/TLS connect did not complete within upstream.connectTimeout. */
  UPSTREAM_CONNECT_TIMEOUT: { status: 504, type: 'connection_timeout' },
  /** No response head within upstream.responseTimeout. */
  UPSTREAM_RESPONSE_TIMEOUT: { status: 504, type: 'http_response_timeout' },
  /** The origin closed or reset the connection before a response head. */
  UPSTREAM_RESET: { status: 502, type: 'connection_terminated' },
  /** The origin sent an unparsable or invalid response. */
  UPSTREAM_BAD_RESPONSE: { status: 502, type: 'http_protocol_error' },
  /** TLS handshake or certificate failure towards an https origin. */
  UPSTREAM_TLS: { status: 502, type: 'tls_protocol_error' },
  /** The response body stalled past upstream.bodyTimeout (only ever seen after the head was sent). */
  UPSTREAM_BODY_TIMEOUT: { status: 504, type: 'connection_read_timeout' },
  /** The origin closed before the promised end of the body (SPEC §5.2; after the head: abort downstream). */
  UPSTREAM_TRUNCATED: { status: 502, type: 'http_response_incomplete' },
  /** No upstream connection became free within upstream.queueTimeout (the origin's pool stayed full). */
  UPSTREAM_QUEUE_TIMEOUT: { status: 503, type: 'connection_limit_reached' },
  /** Any other upstream failure. */
  UPSTREAM_ERROR: { status: 502, type: 'proxy_internal_error' },
  /** The request target is not usable (origin-form in forward mode, bad URI). */
  BAD_REQUEST_TARGET: { status: 400, type: 'http_request_error' },
  /** The request body could not be read from the client. */
  REQUEST_BODY_ERROR: { status: 400, type: 'http_request_error' },
  /** The request violates message framing rules (SPEC §5.3). */
  BAD_REQUEST: { status: 400, type: 'http_request_error' },
  /** A request transfer coding other than chunked (`gzip, chunked`): it cannot be re-framed (RFC 9112 §6.1). */
  UNSUPPORTED_TRANSFER_CODING: { status: 501, type: 'http_request_error' },
  /** A request in an HTTP major version other than 1 (RFC 9110 §15.6.6). */
  UNSUPPORTED_VERSION: { status: 505, type: 'http_request_error' },
  /** The client went away; nothing is written, the code exists for logs and stats. */
  CLIENT_ABORTED: { status: 499, type: 'http_request_error' },
  /** Loop detected via Via or the proxy's own address (SPEC §2.4). */
  LOOP_DETECTED: { status: 508, type: 'proxy_loop_detected' },
  /** Access control denied the client or the destination. */
  FORBIDDEN: { status: 403, type: 'http_request_denied' },
  /** Proxy authentication is required or failed. */
  PROXY_AUTH_REQUIRED: { status: 407, type: 'http_request_denied' },
  /** A request head with more fields than downstream.maxHeaderCount: never processed in part (Node keeps only the first ones). */
  TOO_MANY_HEADER_FIELDS: { status: 431, type: 'http_request_error' },
  /** Request body larger than downstream.maxBodySize. */
  PAYLOAD_TOO_LARGE: { status: 413, type: 'http_request_error' },
  /** The proxy is shutting down and no longer accepts work. */
  SHUTTING_DOWN: { status: 503, type: 'proxy_internal_response' },
  /** CONNECT to a port outside tunnel.allowedPorts (SPEC §6.1). */
  TUNNEL_PORT_DENIED: { status: 403, type: 'http_request_denied' },
  /** CONNECT to a gateway: a gateway serves its fixed target and opens no tunnels (RFC 9110 §15.6.2). */
  CONNECT_UNSUPPORTED: { status: 501, type: 'proxy_internal_response' },
  /** The request head (downstream.headersTimeout) or the whole request (downstream.requestTimeout) came too slowly. */
  REQUEST_TIMEOUT: { status: 408, type: 'http_request_error' },
  /** The request head is larger than downstream.maxHeaderSize (SPEC §3.4). */
  HEADER_TOO_LARGE: { status: 431, type: 'http_request_error' },
  /** An `Expect` other than 100-continue (RFC 9110 §10.1.1). */
  EXPECTATION_FAILED: { status: 417, type: 'http_request_error' },
  /** Accept-time refusal: downstream.maxConnections or downstream.maxConnectionsPerClient reached (RFC 9110 §15.6.4). */
  TOO_MANY_CONNECTIONS: { status: 503, type: 'proxy_internal_response' },
} as const satisfies Record<string, { readonly status: number; readonly type: ProxyStatusType }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Code → status, the shape other modules and tests read (derived from {@link ERROR_CODES}). */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze(
  Object.fromEntries(Object.entries(ERROR_CODES).map(([code, row]) => [code, row.status])) as Record<ErrorCode, number>,
);

/** Status for a code; the one lookup every error writer uses. */
export function statusFor(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** The Proxy-Status error type (RFC 9209 §2.3) for a code. */
export function proxyStatusTypeFor(code: ErrorCode): ProxyStatusType {
  return ERROR_CODES[code].type;
}

/** The registered Proxy-Status error types (RFC 9209 §2.3; IANA "HTTP Proxy-Status Parameters"). */
export const PROXY_STATUS_TYPES = [
  'dns_timeout', 'dns_error', 'destination_not_found', 'destination_unavailable', 'destination_ip_prohibited',
  'destination_ip_unroutable', 'connection_refused', 'connection_terminated', 'connection_timeout',
  'connection_read_timeout', 'connection_write_timeout', 'connection_limit_reached', 'tls_protocol_error',
  'tls_certificate_error', 'tls_alert_received', 'http_request_error', 'http_request_denied', 'http_response_incomplete',
  'http_response_header_section_size', 'http_response_header_size', 'http_response_body_size',
  'http_response_trailer_section_size', 'http_response_trailer_size', 'http_response_transfer_coding',
  'http_response_content_coding', 'http_response_timeout', 'http_upgrade_failed', 'http_protocol_error',
  'proxy_internal_response', 'proxy_internal_error', 'proxy_configuration_error', 'proxy_loop_detected',
] as const;

export type ProxyStatusType = (typeof PROXY_STATUS_TYPES)[number];
