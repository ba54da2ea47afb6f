import { describe, expect, it } from 'vitest';
import { declaredLength, requestFramingIssue, responseFramingIssue, vetResponseFraming } from '../../src/policy/index.js';

const H = ['Host', 'a'];

describe('requestFramingIssue (what Node’s parser lets through)', () => {
  it.each([
    { name: 'plain GET', raw: H, v: [1, 1], out: undefined },
    { name: 'chunked', raw: [...H, 'Transfer-Encoding', 'chunked'], v: [1, 1], out: undefined },
    { name: 'CHUNKED with OWS', raw: [...H, 'transfer-encoding', ' CHUNKED '], v: [1, 1], out: undefined },
    { name: 'Content-Length', raw: [...H, 'Content-Length', '5'], v: [1, 1], out: undefined },
    { name: 'HTTP/1.0 without Host', raw: [], v: [1, 0], out: undefined },
    { name: 'gzip, chunked → 501', raw: [...H, 'Transfer-Encoding', 'gzip, chunked'], v: [1, 1], out: 'UNSUPPORTED_TRANSFER_CODING' },
    { name: 'gzip line then chunked line → 501', raw: [...H, 'Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'], v: [1, 1], out: 'UNSUPPORTED_TRANSFER_CODING' },
    { name: 'chunked, chunked', raw: [...H, 'Transfer-Encoding', 'chunked, chunked'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'chunked, identity', raw: [...H, 'Transfer-Encoding', 'chunked, identity'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'identity', raw: [...H, 'Transfer-Encoding', 'identity'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'xchunked', raw: [...H, 'Transfer-Encoding', 'xchunked'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'TE + CL', raw: [...H, 'Transfer-Encoding', 'chunked', 'Content-Length', '3'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'TE in HTTP/1.0', raw: [...H, 'Transfer-Encoding', 'chunked'], v: [1, 0], out: 'BAD_REQUEST' },
    { name: 'two Content-Length', raw: [...H, 'Content-Length', '3', 'Content-Length', '3'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'non-numeric Content-Length', raw: [...H, 'Content-Length', '+3'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'two Host', raw: [...H, 'host', 'b'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'no Host in HTTP/1.1', raw: [], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'HTTP/2.0 request line', raw: H, v: [2, 0], out: 'UNSUPPORTED_VERSION' },
    // Issue 17 finding 12: RFC 9112 §3.2, an invalid Host is a 400.
    { name: 'Host with a port', raw: ['Host', 'a.example:8080'], v: [1, 1], out: undefined },
    { name: 'Host IPv6 literal', raw: ['Host', '[::1]:80'], v: [1, 1], out: undefined },
    { name: 'Host a, b', raw: ['Host', 'a, b'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'Host with userinfo and a bad port', raw: ['Host', 'evil.example:65536@internal'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'Host port 65536', raw: ['Host', 'a:65536'], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'empty Host', raw: ['Host', ''], v: [1, 1], out: 'BAD_REQUEST' },
    { name: 'two Host in HTTP/1.0', raw: [...H, 'Host', 'a'], v: [1, 0], out: 'BAD_REQUEST' },
    { name: 'invalid Host in HTTP/1.0', raw: ['Host', 'a b'], v: [1, 0], out: 'BAD_REQUEST' },
  ])('$name → $out', ({ raw, v, out }) => {
    expect(requestFramingIssue(raw, v[0]!, v[1]!)?.code).toBe(out);
  });
});

describe('responseFramingIssue', () => {
  it.each([
    { name: 'Content-Length', raw: ['Content-Length', '2'], out: undefined },
    { name: 'chunked', raw: ['Transfer-Encoding', 'chunked'], out: undefined },
    { name: 'neither (close-delimited)', raw: ['X', 'y'], out: undefined },
    { name: 'CL + TE', raw: ['Content-Length', '2', 'Transfer-Encoding', 'chunked'], out: /both/ },
    { name: 'xchunked', raw: ['Transfer-Encoding', 'xchunked'], out: /unsupported/ },
    { name: 'gzip, chunked', raw: ['Transfer-Encoding', 'gzip, chunked'], out: /unsupported/ },
    { name: 'identity', raw: ['Transfer-Encoding', 'identity'], out: /unsupported/ },
    { name: 'chunked twice', raw: ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'], out: /unsupported/ },
    { name: 'two CL', raw: ['Content-Length', '2', 'Content-Length', '2'], out: /several/ },
    { name: 'CL list', raw: ['Content-Length', '2, 2'], out: /invalid/ },
  ])('$name', ({ raw, out }) => {
    const issue = responseFramingIssue(raw);
    if (out === undefined) expect(issue).toBeUndefined();
    else expect(issue).toMatch(out);
  });
});

describe('vetResponseFraming: the verdict both relay paths use', () => {
  it.each([
    { name: 'sound: the head itself', raw: ['Content-Length', '2', 'X', 'y'], out: ['Content-Length', '2', 'X', 'y'] },
    { name: 'identical lengths: one line kept', raw: ['Content-Length', '2', 'X', 'y', 'content-length', ' 2'], out: ['Content-Length', '2', 'X', 'y'] },
    { name: 'differing lengths: the issue', raw: ['Content-Length', '2', 'Content-Length', '3'], out: /several/ },
    { name: 'CL + TE: the issue', raw: ['Content-Length', '2', 'Transfer-Encoding', 'chunked'], out: /both/ },
  ])('$name', ({ raw, out }) => {
    const verdict = vetResponseFraming(raw);
    if (out instanceof RegExp) expect(verdict).toMatch(out);
    else expect(verdict).toEqual(out);
  });

  it('returns the same array when nothing is wrong (no allocation on the hot path)', () => {
    const raw = ['Content-Length', '2'];
    expect(vetResponseFraming(raw)).toBe(raw);
  });
});

describe('declaredLength', () => {
  it.each([
    { raw: ['Content-Length', '12'], out: 12 },
    { raw: ['content-length', ' 0 '], out: 0 },
    { raw: ['Transfer-Encoding', 'chunked'], out: undefined },
    { raw: [], out: undefined },
  ])('$raw → $out', ({ raw, out }) => {
    expect(declaredLength(raw)).toBe(out);
  });
});
