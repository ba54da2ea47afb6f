import { describe, expect, it } from 'vitest';
import { applyMaxForwards } from '../../src/policy/index.js';

describe('applyMaxForwards', () => {
  it.each([
    { name: 'OPTIONS with 0 is answered', method: 'OPTIONS', raw: ['Max-Forwards', '0'], out: null },
    { name: 'TRACE with 00 is answered', method: 'TRACE', raw: ['max-forwards', '00'], out: null },
    {
      name: 'OPTIONS with 5 is decremented in place, name case kept',
      method: 'OPTIONS',
      raw: ['Host', 'h', 'Max-Forwards', '5', 'Accept', '*/*'],
      out: ['Host', 'h', 'Max-Forwards', '4', 'Accept', '*/*'],
    },
    { name: 'TRACE with 1 becomes 0', method: 'TRACE', raw: ['MAX-FORWARDS', '1'], out: ['MAX-FORWARDS', '0'] },
    { name: 'leading zeros', method: 'TRACE', raw: ['Max-Forwards', '010'], out: ['Max-Forwards', '9'] },
    { name: 'surrounding OWS', method: 'OPTIONS', raw: ['Max-Forwards', ' 3\t'], out: ['Max-Forwards', '2'] },
    {
      name: 'beyond Number precision',
      method: 'OPTIONS',
      raw: ['Max-Forwards', '18446744073709551616'],
      out: ['Max-Forwards', '18446744073709551615'],
    },
    { name: 'GET ignores it, even at 0', method: 'GET', raw: ['Max-Forwards', '0'], out: ['Max-Forwards', '0'] },
    { name: 'methods are case-sensitive', method: 'options', raw: ['Max-Forwards', '0'], out: ['Max-Forwards', '0'] },
    { name: 'missing', method: 'OPTIONS', raw: ['Host', 'h'], out: ['Host', 'h'] },
    { name: 'not a number', method: 'OPTIONS', raw: ['Max-Forwards', 'abc'], out: ['Max-Forwards', 'abc'] },
    { name: 'negative', method: 'TRACE', raw: ['Max-Forwards', '-1'], out: ['Max-Forwards', '-1'] },
    { name: 'fraction', method: 'TRACE', raw: ['Max-Forwards', '1.5'], out: ['Max-Forwards', '1.5'] },
    { name: 'empty', method: 'TRACE', raw: ['Max-Forwards', ''], out: ['Max-Forwards', ''] },
    { name: 'a list', method: 'TRACE', raw: ['Max-Forwards', '0, 3'], out: ['Max-Forwards', '0, 3'] },
    {
      name: 'repeated field lines',
      method: 'OPTIONS',
      raw: ['Max-Forwards', '0', 'Max-Forwards', '3'],
      out: ['Max-Forwards', '0', 'Max-Forwards', '3'],
    },
  ])('$name', ({ method, raw, out }) => {
    const frozen = Object.freeze([...raw]);
    const decision = applyMaxForwards(method, frozen);
    if (out === null) {
      expect(decision).toEqual({ action: 'answer' });
    } else {
      expect(decision).toEqual({ action: 'forward', headers: out });
      if (decision.action === 'forward') expect(decision.headers).not.toBe(frozen);
    }
    expect(frozen).toEqual(raw);
  });
});
