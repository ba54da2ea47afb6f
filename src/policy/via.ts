/**
 * The `Via` header (SPEC §1.4, RFC 9110 §7.6.3): a proxy MUST append its own member to requests and responses. It is
 * added after hop-by-hop stripping as a new field line, so a client cannot remove it by listing `Via` in
 * `Connection` (SPEC §1.2), and earlier intermediaries' members stay before it. Also read back for loop detection
 * (SPEC §2.4). Pure: no I/O, inputs never modified.
 */
import type { RawHeaders } from './hop-by-hop.js';

/** `major[.minor]` as Node reports `message.httpVersion`. */
const VERSION = /^\d{1,3}(?:\.\d{1,3})?$/;

/**
 * `(comment)` with `\\`, `(` and `)` quoted (RFC 9110 §5.6.5: quoted-pair) and control characters other than HTAB,
 * which can never appear in a field value (RFC 9110 §5.5), replaced by a space.
 */
function formatComment(comment: string): string {
  let out = '(';
  for (let i = 0; i < comment.length; i++) {
    const code = comment.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) out += ' ';
    else if (code === 0x5c || code === 0x28 || code === 0x29) out += `\\${comment[i]!}`;
    else out += comment[i]!;
  }
  return `${out})`;
}

/**
 * One `Via` member: `received-protocol received-by [comment]`, e.g. `1.1 hopwise` or `1.1 hopwise (a1b2)`.
 * `httpVersion` is the version of the message as received (`1.0 hopwise` for an HTTP/1.0 request); the protocol name
 * is omitted because it is HTTP (RFC 9110 §7.6.3). Anything that is not `major[.minor]` falls back to `1.1`, the
 * protocol hopwise speaks, because Via is a MUST and must not fail the exchange. `pseudonym` is a token validated by
 * the config schema. The value depends only on its arguments: compute it once per version, not per request.
 */
export function viaValue(httpVersion: string, pseudonym: string, comment?: string): string {
  const received = VERSION.test(httpVersion) ? httpVersion : '1.1';
  return comment === undefined ? `${received} ${pseudonym}` : `${received} ${pseudonym} ${formatComment(comment)}`;
}

/**
 * A new flat array: `stripped` followed by the proxy-added field lines `added` (flat `[name, value, ...]`). A new
 * `Via` line after any existing ones is equivalent to appending to a comma-joined one (RFC 9110 §5.3).
 */
export function withAddedHeaders(stripped: readonly string[], added: readonly string[]): string[] {
  return stripped.concat(added);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Whether one member (`value.slice(start, end)`) was received by `pseudonym` (lowercased) and, when `comment` is
 * given, carries exactly that comment (`formatted`, as {@link viaValue} writes it).
 */
function memberMatches(value: string, start: number, end: number, pseudonym: string, formatted?: string): boolean {
  let i = start;
  while (i < end && isOws(value.charCodeAt(i))) i++;
  while (i < end && !isOws(value.charCodeAt(i))) i++; // received-protocol
  while (i < end && isOws(value.charCodeAt(i))) i++;
  const byStart = i;
  while (i < end && !isOws(value.charCodeAt(i))) i++; // received-by
  if (i - byStart !== pseudonym.length || value.slice(byStart, i).toLowerCase() !== pseudonym) return false;
  if (formatted === undefined) return true;
  let last = end;
  while (last > i && isOws(value.charCodeAt(last - 1))) last--;
  while (i < last && isOws(value.charCodeAt(i))) i++;
  return value.slice(i, last) === formatted;
}

/** Whether one `Via` field value has a matching member. Commas inside a comment do not separate members. */
function valueContains(value: string, pseudonym: string, formatted?: string): boolean {
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    const code = i < value.length ? value.charCodeAt(i) : 0x2c;
    if (code === 0x5c && depth > 0) {
      if (i + 1 < value.length) i++; // quoted-pair: skip the escaped character
    } else if (code === 0x28) depth++;
    else if (code === 0x29 && depth > 0) depth--;
    else if (code === 0x2c && (depth === 0 || i === value.length)) {
      if (memberMatches(value, start, i, pseudonym, formatted)) return true;
      start = i + 1;
    }
  }
  return false;
}

/**
 * True if any member of any `Via` field line has received-by equal to `pseudonym` (case-insensitive) and, when
 * `comment` is given, carries that comment (compared exactly). Used for loop detection (SPEC §2.4).
 */
export function viaContains(raw: RawHeaders, pseudonym: string, comment?: string): boolean {
  const wanted = pseudonym.toLowerCase();
  const formatted = comment === undefined ? undefined : formatComment(comment);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 3 && name.toLowerCase() === 'via' && valueContains(raw[i + 1]!, wanted, formatted)) {
      return true;
    }
  }
  return false;
}
