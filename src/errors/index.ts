export { ERROR_STATUS, statusFor } from './codes.js';
export type { ErrorCode } from './codes.js';
export { ProxyError } from './proxy-error.js';
export type { Leg, Phase } from './proxy-error.js';
export { classifyUpstreamError } from './classify.js';
