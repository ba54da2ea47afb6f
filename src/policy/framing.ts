/**
 * Message-framing checks on top of Node's strict parser (SPEC §5.3, RFC 9112 §6). llhttp already refuses most
 * smuggling vectors (CL+TE, duplicate or non-numeric Content-Length, obs-fold, bare CR/LF, NUL, bad names, bad chunk
 * sizes); these checks cover what it lets through and a proxy must not relay. Found by sending each vector to Node's
 * parser (test/integration/smuggling.test.ts keeps them honest). Pure: raw headers in, an issue or undefined out.
 */
import type { ErrorCode } from '../errors/codes.js';
import { parseAuthority, quote } from './authority.js';
import type { RawHeaders } from './hop-by-hop.js';

/** Why a request is refused before anything is forwarded. */
export interface FramingIssue {
  readonly code: Extract<ErrorCode, 'BAD_REQUEST' | 'UNSUPPORTED_TRANSFER_CODING' | 'UNSUPPORTED_VERSION'>;
  readonly reason: string;
}

/** The framing-relevant fields of a head: every Transfer-Encoding coding, every Content-Length and Host line. */
interface FramingFields {
  codings: string[];
  contentLengths: string[];
  hosts: number;
  /** The first Host line's value (requests). */
  host: string | undefined;
}

function collect(raw: RawHeaders): FramingFields {
  const f: FramingFields = { codings: [], contentLengths: [], hosts: 0, host: undefined };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // Length tests first: most names are never lowercased (hot path).
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      for (const member of raw[i + 1]!.split(',')) {
        const coding = member.trim().toLowerCase();
        if (coding !== '') f.codings.push(coding);
      }
    } else if (name.length === 14 && name.toLowerCase() === 'content-length') {
      f.contentLengths.push(raw[i + 1]!.trim());
    } else if (name.length === 4 && name.toLowerCase() === 'host') {
      if (f.hosts++ === 0) f.host = raw[i + 1]!;
    }
  }
  return f;
}

const DIGITS = /^\d+$/;

function bad(reason: string): FramingIssue {
  return { code: 'BAD_REQUEST', reason };
}

/**
 * Request framing a proxy must refuse (status from the errors table: 400, 501, 505):
 * - an HTTP major version other than 1 (RFC 9110 §6.2: we speak HTTP/1.x; 505);
 * - `Transfer-Encoding` in an HTTP/1.0 request (RFC 9112 §6.1: the framing is faulty);
 * - `Transfer-Encoding` other than exactly one `chunked`: codings before it (`gzip, chunked`) cannot be relayed
 *   because the proxy re-frames the body and drops the field (RFC 9112 §6.1: 501); anything else is malformed (400);
 * - `Transfer-Encoding` with `Content-Length`, several or non-numeric `Content-Length`s (RFC 9112 §6.3);
 * - zero or several `Host` lines in HTTP/1.1, several in HTTP/1.0, or a `Host` that is not `host[:port]`
 *   (RFC 9112 §3.2: MUST respond 400).
 */
export function requestFramingIssue(raw: RawHeaders, major: number, minor: number): FramingIssue | undefined {
  if (major !== 1) return { code: 'UNSUPPORTED_VERSION', reason: `HTTP/${major}.${minor} is not supported; hopwise speaks HTTP/1.1` };
  const f = collect(raw);
  if (f.codings.length > 0) {
    if (minor === 0) return bad('Transfer-Encoding in an HTTP/1.0 request (RFC 9112 §6.1)');
    if (f.contentLengths.length > 0) return bad('both Transfer-Encoding and Content-Length (RFC 9112 §6.3)');
    if (f.codings.length > 1 || f.codings[0] !== 'chunked') {
      if (f.codings.at(-1) === 'chunked' && f.codings.indexOf('chunked') === f.codings.length - 1) {
        return { code: 'UNSUPPORTED_TRANSFER_CODING', reason: `transfer coding ${JSON.stringify(f.codings.join(', '))} is not supported` };
      }
      return bad(`invalid Transfer-Encoding ${JSON.stringify(f.codings.join(', '))}: only chunked is accepted`);
    }
  }
  if (f.contentLengths.length > 1) return bad('several Content-Length fields (RFC 9112 §6.3)');
  if (f.contentLengths.length === 1 && !DIGITS.test(f.contentLengths[0]!)) return bad('invalid Content-Length');
  if (minor >= 1 && f.hosts !== 1) return bad(f.hosts === 0 ? 'missing Host (RFC 9112 §3.2)' : 'several Host fields (RFC 9112 §3.2)');
  if (f.hosts > 1) return bad('several Host fields (RFC 9112 §3.2)');
  // RFC 9112 §3.2: a server MUST answer 400 to a Host field with an invalid value (`a, b`, `h:65536@x`, an empty
  // host for an http URI — RFC 9110 §4.2.1). Host names are held to the same syntax as the request target's.
  if (f.host !== undefined && !parseAuthority(f.host.trim(), 80).ok) return bad(`invalid Host ${quote(f.host)} (RFC 9112 §3.2)`);
  return undefined;
}

/**
 * Response framing the proxy must not relay (answered `502` instead): `Transfer-Encoding` other than exactly one
 * `chunked` (the proxy strips the field and re-frames, so any other coding would reach the client undeclared),
 * `Transfer-Encoding` with `Content-Length` (RFC 9112 §6.3: "ought to be handled as an error"), several or
 * non-numeric `Content-Length`s. Returns a short reason, or undefined when the head is sound.
 */
export function responseFramingIssue(raw: RawHeaders): string | undefined {
  const f = collect(raw);
  if (f.codings.length > 0) {
    if (f.contentLengths.length > 0) return 'both Transfer-Encoding and Content-Length';
    if (f.codings.length > 1 || f.codings[0] !== 'chunked') return `unsupported Transfer-Encoding ${JSON.stringify(f.codings.join(', '))}`;
  }
  if (f.contentLengths.length > 1) return SEVERAL_LENGTHS;
  if (f.contentLengths.length === 1 && !DIGITS.test(f.contentLengths[0]!)) return 'invalid Content-Length';
  return undefined;
}

const SEVERAL_LENGTHS = 'several Content-Length fields';

/**
 * The response framing verdict of every relay path (forwarded exchanges and declined upgrades alike): the head to
 * relay — `raw` itself, or with identical repeated `Content-Length` lines collapsed to one (RFC 9112 §6.3 rule 5) —
 * or, as a string, the issue to answer `502` for. No allocation unless lines are collapsed.
 */
export function vetResponseFraming(raw: RawHeaders): RawHeaders | string {
  const issue = responseFramingIssue(raw);
  if (issue === undefined) return raw;
  if (issue === SEVERAL_LENGTHS) return collapseIdenticalLengths(raw) ?? issue;
  return issue;
}

/** The declared request body length, or undefined when none is declared (or it is chunked). */
export function declaredLength(raw: RawHeaders): number | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return Number(raw[i + 1]!.trim());
  }
  return undefined;
}

/**
 * A response whose `Content-Length` lines all carry the same valid number has one length (RFC 9112 §6.3 rule 5: a
 * recipient MAY accept identical repeated values): the fields with the first line only, or undefined when the lines
 * differ or are not numbers. Called only after {@link responseFramingIssue} found several lines.
 */
export function collapseIdenticalLengths(raw: RawHeaders): string[] | undefined {
  const out: string[] = [];
  let length: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const value = raw[i + 1]!.trim();
      if (!DIGITS.test(value) || (length !== undefined && value !== length)) return undefined;
      if (length !== undefined) continue;
      length = value;
    }
    out.push(name, raw[i + 1]!);
  }
  return out;
}
