import { describe, expect, it } from 'vitest';
import { ERROR_STATUS, ProxyError, classifyUpstreamError, statusFor } from '../../src/errors/index.js';

const ctx = { origin: 'http://o.test:80', phase: 'response-head' as const, responseStarted: false };

function err(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('classifyUpstreamError (SPEC §4.4)', () => {
  it.each([
    ['ECONNREFUSED', 'UPSTREAM_REFUSED', 502],
    ['EHOSTUNREACH', 'UPSTREAM_REFUSED', 502],
    ['ENOTFOUND', 'UPSTREAM_DNS', 502],
    ['EAI_AGAIN', 'UPSTREAM_DNS', 502],
    ['UND_ERR_CONNECT_TIMEOUT', 'UPSTREAM_CONNECT_TIMEOUT', 504],
    ['ETIMEDOUT', 'UPSTREAM_CONNECT_TIMEOUT', 504],
    ['UND_ERR_HEADERS_TIMEOUT', 'UPSTREAM_RESPONSE_TIMEOUT', 504],
    ['UND_ERR_BODY_TIMEOUT', 'UPSTREAM_BODY_TIMEOUT', 504],
    ['ECONNRESET', 'UPSTREAM_RESET', 502],
    ['EPIPE', 'UPSTREAM_RESET', 502],
    ['UND_ERR_SOCKET', 'UPSTREAM_RESET', 502],
    ['HPE_INVALID_CONSTANT', 'UPSTREAM_BAD_RESPONSE', 502],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UPSTREAM_TRUNCATED', 502],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'UPSTREAM_TLS', 502],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UPSTREAM_TLS', 502],
    ['SOMETHING_ELSE', 'UPSTREAM_ERROR', 502],
  ])('%s → %s (%i)', (low, code, status) => {
    const e = classifyUpstreamError(err(low), ctx);
    expect(e).toBeInstanceOf(ProxyError);
    expect(e.code).toBe(code);
    expect(e.status).toBe(status);
    expect(e.leg).toBe('upstream');
    expect(e.origin).toBe(ctx.origin);
    expect(e.message).toContain(ctx.origin);
    expect(e.message).toContain(low);
  });

  it('a reset after the response head is truncation (SPEC §5.2)', () => {
    expect(classifyUpstreamError(err('ECONNRESET'), { ...ctx, phase: 'response-body', responseStarted: true }).code).toBe(
      'UPSTREAM_TRUNCATED',
    );
  });

  it('passes a ProxyError through unchanged', () => {
    const original = new ProxyError('LOOP_DETECTED', 'loop', { leg: 'downstream', phase: 'target' });
    expect(classifyUpstreamError(original, ctx)).toBe(original);
  });

  it('keeps the low-level error as the cause', () => {
    const low = err('ECONNREFUSED');
    expect(classifyUpstreamError(low, ctx).cause).toBe(low);
  });

  it('handles non-Error throwables', () => {
    expect(classifyUpstreamError('weird', ctx).code).toBe('UPSTREAM_ERROR');
  });
});

describe('the one status table', () => {
  it('maps every code to an HTTP status', () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(statusFor(code as keyof typeof ERROR_STATUS)).toBe(status);
      expect(status >= 400 && status < 600).toBe(true);
    }
  });
});
