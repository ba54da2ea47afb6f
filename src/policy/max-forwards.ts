/**
 * `Max-Forwards` (SPEC §2.3, RFC 9110 §7.6.2): on `OPTIONS` and `TRACE` a proxy answers itself when the value is 0
 * and otherwise forwards the request with the value decremented. Other methods ignore the field. Pure: the input
 * array is never modified.
 */
import type { RawHeaders } from './hop-by-hop.js';

/** Forward with these headers (a new array), or answer the request at the proxy. */
export type MaxForwardsDecision = { action: 'forward'; headers: string[] } | { action: 'answer' };

/** `Max-Forwards = 1*DIGIT` (RFC 9110 §7.6.2). */
const DIGITS = /^\d+$/;
const ZEROS = /^0+$/;

/** Decrements a decimal string of any length without losing precision; `value` is > 0. */
function decrement(value: string): string {
  if (value.length <= 15) return String(Number(value) - 1);
  return (BigInt(value) - 1n).toString();
}

/**
 * Applies `Max-Forwards` to an `OPTIONS` or `TRACE` request (methods are case-sensitive, RFC 9110 §9.1): `0` → answer;
 * a valid decimal above 0 → forward with that field decremented in place (same position, same name case). A missing,
 * repeated or non-numeric field is not a valid limit and the request is forwarded unchanged, as for any other method.
 */
export function applyMaxForwards(method: string, raw: RawHeaders): MaxForwardsDecision {
  const headers = raw.slice();
  if (method !== 'OPTIONS' && method !== 'TRACE') return { action: 'forward', headers };
  let index = -1;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 12 && name.toLowerCase() === 'max-forwards') {
      // A singleton field sent twice has no meaning we could trust (RFC 9110 §5.3).
      if (index !== -1) return { action: 'forward', headers };
      index = i + 1;
    }
  }
  if (index === -1) return { action: 'forward', headers };
  const value = raw[index]!.trim();
  if (!DIGITS.test(value)) return { action: 'forward', headers };
  if (ZEROS.test(value)) return { action: 'answer' };
  headers[index] = decrement(value);
  return { action: 'forward', headers };
}
