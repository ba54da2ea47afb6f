import { describe, expect, it } from 'vitest';
import { isIdempotent, shouldRetryStale, type RetryContext } from '../../src/policy/index.js';

describe('isIdempotent', () => {
  it.each([
    ['GET', true],
    ['HEAD', true],
    ['OPTIONS', true],
    ['TRACE', true],
    ['PUT', true],
    ['DELETE', true],
    ['POST', false],
    ['PATCH', false],
    ['CONNECT', false],
    ['get', false],
    ['Delete', false],
    ['', false],
  ])('%s → %s', (method, expected) => {
    expect(isIdempotent(method)).toBe(expected);
  });
});

describe('shouldRetryStale', () => {
  const stale: RetryContext = { method: 'GET', bodyless: true, reusedSocket: true, responseStarted: false, attempt: 1 };

  it.each([
    { name: 'the stale keep-alive race', change: {}, retry: true },
    { name: 'PUT', change: { method: 'PUT' }, retry: true },
    { name: 'DELETE', change: { method: 'DELETE' }, retry: true },
    { name: 'POST', change: { method: 'POST' }, retry: false },
    { name: 'PATCH', change: { method: 'PATCH' }, retry: false },
    { name: 'lowercase get', change: { method: 'get' }, retry: false },
    { name: 'a request body', change: { bodyless: false }, retry: false },
    { name: 'a fresh socket', change: { reusedSocket: false }, retry: false },
    { name: 'a response byte arrived', change: { responseStarted: true }, retry: false },
    { name: 'already retried once', change: { attempt: 2 }, retry: false },
    { name: 'attempt 0 (not a valid first try)', change: { attempt: 0 }, retry: false },
  ])('$name → $retry', ({ change, retry }) => {
    expect(shouldRetryStale({ ...stale, ...change })).toBe(retry);
  });
});
