import type { ErrorCode } from './codes.js';
import { statusFor } from './codes.js';

/** Which connection a failure belongs to (STYLE rule 8). */
export type Leg = 'downstream' | 'upstream';

/** Where in an exchange a failure happened: the timeout or error names its phase (STYLE rule 4). */
export type Phase = 'target' | 'connect' | 'request-head' | 'request-body' | 'response-head' | 'response-body' | 'tunnel';

/**
 * The one error class of the proxy: a stable `code`, the leg and phase it happened in, and the original cause.
 * Modelled on undici's error hierarchy (one class per failure, stable codes) but flattened: the code carries the
 * distinction, the status comes from the table in codes.ts.
 */
export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly leg: Leg;
  readonly phase: Phase;
  /** The origin (`scheme://host:port`) involved, when known. */
  readonly origin: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { leg: Leg; phase: Phase; origin?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ProxyError';
    this.code = code;
    this.leg = opts.leg;
    this.phase = opts.phase;
    this.origin = opts.origin;
  }

  /** The HTTP status this error is answered with (from the one table). */
  get status(): number {
    return statusFor(this.code);
  }
}
