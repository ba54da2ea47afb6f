export { ERROR_CODES, ERROR_STATUS, PROXY_STATUS_TYPES, proxyStatusTypeFor, statusFor } from './codes.js';
export type { ErrorCode, ProxyStatusType } from './codes.js';
export { ProxyError } from './proxy-error.js';
export type { Leg, Phase } from './proxy-error.js';
export { classifyUpstreamError } from './classify.js';
export { LINGER_MS, closeLingering } from './linger.js';
export { proxyNameItem, proxyStatusValue, sanitizeDetails, sfString } from './proxy-status.js';
export {
  DEFAULT_PROXY_NAME,
  REASON_PHRASES,
  errorText,
  nameProxy,
  rawErrorResponse,
  reasonPhrase,
  writeProxyError,
  writeRawProxyError,
  writeText,
} from './respond.js';
