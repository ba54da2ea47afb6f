/**
 * The one code table (status + RFC 9209 error type per code), the reason-phrase table, and the Proxy-Status
 * serialisation (RFC 8941 sf-string / sf-token).
 */
import { describe, expect, it } from 'vitest';
import {
  DETAILS_MAX,
  proxyNameItem,
  proxyStatusValue,
  sanitizeDetails,
  sfString,
} from '../../src/errors/proxy-status.js';
import {
  ERROR_CODES,
  ERROR_STATUS,
  PROXY_STATUS_TYPES,
  proxyStatusTypeFor,
  reasonPhrase,
  statusFor,
  type ErrorCode,
} from '../../src/errors/index.js';

import { clientErrorAnswer } from '../../src/downstream/client-error.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('the code table', () => {
  it.each(codes)('%s has a status, a reason phrase and a registered Proxy-Status type', (code) => {
    const status = statusFor(code);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    expect(ERROR_STATUS[code]).toBe(status);
    expect(reasonPhrase(status)).not.toBe('');
    expect(PROXY_STATUS_TYPES).toContain(proxyStatusTypeFor(code));
  });

  it.each([
    ['UPSTREAM_REFUSED', 502, 'connection_refused'],
    ['UPSTREAM_DNS', 502, 'dns_error'],
    ['UPSTREAM_CONNECT_TIMEOUT', 504, 'connection_timeout'],
    ['UPSTREAM_RESPONSE_TIMEOUT', 504, 'http_response_timeout'],
    ['UPSTREAM_TRUNCATED', 502, 'http_response_incomplete'],
    ['UPSTREAM_BAD_RESPONSE', 502, 'http_protocol_error'],
    ['LOOP_DETECTED', 508, 'proxy_loop_detected'],
    ['FORBIDDEN', 403, 'http_request_denied'],
    ['PROXY_AUTH_REQUIRED', 407, 'http_request_denied'],
    ['PAYLOAD_TOO_LARGE', 413, 'http_request_error'],
    ['REQUEST_TIMEOUT', 408, 'http_request_error'],
    ['HEADER_TOO_LARGE', 431, 'http_request_error'],
    ['EXPECTATION_FAILED', 417, 'http_request_error'],
    ['TOO_MANY_CONNECTIONS', 503, 'proxy_internal_response'],
    ['SHUTTING_DOWN', 503, 'proxy_internal_response'],
    ['PARENT_AUTH_REQUIRED', 502, 'proxy_configuration_error'],
    ['PARENT_REFUSED', 502, 'destination_unavailable'],
    ['PARENT_TIMEOUT', 504, 'connection_timeout'],
  ] as const)('%s → %i %s', (code, status, type) => {
    expect(statusFor(code)).toBe(status);
    expect(proxyStatusTypeFor(code)).toBe(type);
  });

  it('reason phrases are those of RFC 9110 §15', () => {
    expect(reasonPhrase(413)).toBe('Content Too Large');
    expect(reasonPhrase(431)).toBe('Request Header Fields Too Large');
    expect(reasonPhrase(508)).toBe('Loop Detected');
    expect(reasonPhrase(299)).toBe('');
  });
});

describe('sf-string (RFC 8941 §3.3.3)', () => {
  it.each([
    ['plain', '"plain"'],
    ['', '""'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['a\r\nb', '"a??b"'],
    ['tab\there', '"tab?here"'],
    ['del\x7f', '"del?"'],
    ['café', '"caf?"'],
    ['😀', '"?"'],
  ])('%j → %s', (input, out) => {
    expect(sfString(input)).toBe(out);
  });
});

describe('the proxy name', () => {
  it.each([
    ['hopwise', 'hopwise'],
    ['edge-1.example', 'edge-1.example'],
    ['1proxy', '"1proxy"'],
    ['_x', '"_x"'],
  ])('%s → %s', (name, item) => {
    expect(proxyNameItem(name)).toBe(item);
  });
});

describe('details', () => {
  it('collapses CR, LF and other whitespace runs to one space', () => {
    expect(sanitizeDetails(' a\r\n\r\nb\t c ')).toBe('a b c');
  });

  it('removes credentials from URLs', () => {
    expect(sanitizeDetails('http://user:secret@origin.example:8080/x: connection refused')).toBe(
      'http://origin.example:8080/x: connection refused',
    );
  });

  it(`is cut to ${DETAILS_MAX} characters`, () => {
    const d = sanitizeDetails('x'.repeat(1000));
    expect(d).toHaveLength(DETAILS_MAX);
    expect(d.endsWith('...')).toBe(true);
  });
});

describe('the field value', () => {
  it('names the proxy, the type and the details (RFC 9209 §2)', () => {
    expect(proxyStatusValue('hopwise', 'connection_refused', 'http://127.0.0.1:9/: connection refused (ECONNREFUSED)')).toBe(
      'hopwise; error=connection_refused; details="http://127.0.0.1:9/: connection refused (ECONNREFUSED)"',
    );
  });

  it('never contains CR or LF, whatever the message', () => {
    const v = proxyStatusValue('hopwise', 'http_request_error', 'a\r\nSet-Cookie: x=1\r\n"quoted"');
    expect(v).not.toMatch(/[\r\n]/);
    expect(v).toBe('hopwise; error=http_request_error; details="a Set-Cookie: x=1 \\"quoted\\""');
  });
});

describe('answers to Node clientErrors come from the table', () => {
  it.each([
    ['HPE_INVALID_METHOD', 400, 'the request could not be parsed (HPE_INVALID_METHOD)'],
    ['HPE_HEADER_OVERFLOW', 431, 'the request head is larger than downstream.maxHeaderSize (1024 bytes)'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'the request did not arrive in time'],
    ['HPE_HEADERS_TIMEOUT', 408, 'the request did not arrive in time'],
  ])('%s → %i', (code, status, text) => {
    const err = clientErrorAnswer(code, 1024);
    expect(err.status).toBe(status);
    expect(err.message).toContain(text);
    expect(err.message).not.toContain(status === 408 ? 'could not be parsed' : 'in time');
  });
});
