/**
 * The checks every plain-HTTP request passes before anything goes upstream (issue 7), in this order: a head with more
 * fields than `downstream.maxHeaderCount` (431: Node truncated it, so nothing else may be read from it), message framing
 * Node's parser lets through (SPEC §5.3: 400, 501, 505), an expectation this hop cannot meet (417), proxy
 * authentication (407), loops (SPEC §2.4: 508) and
 * destination access (403), then a declared body over `downstream.maxBodySize` (413). Synchronous unless scrypt has
 * to run for a credential not seen before.
 */
import type { IncomingMessage } from 'node:http';
import type { DownstreamConnection } from '../downstream/connections.js';
import { ProxyError } from '../errors/index.js';
import { declaredLength, requestFramingIssue, type UpstreamTarget } from '../policy/index.js';
import type { AccessGuard } from './guard.js';
import { deny, type Refusal } from './verdict.js';

export type { Refusal } from './verdict.js';

/** Decides whether a request may go upstream; a Refusal is answered through the one error writer. */
export type RequestGate = (
  req: IncomingMessage,
  conn: DownstreamConnection,
  target: UpstreamTarget | undefined,
) => Refusal | undefined | Promise<Refusal | undefined>;

/** Node's own test for a 100-continue expectation (lib/_http_common.js `continueExpression`), so both agree. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * An `Expect` other than 100-continue on an HTTP/1.1 request (RFC 9110 §10.1.1: MAY answer 417). HTTP/1.0 requests
 * ignore Expect, as Node does.
 */
function expectationIssue(req: IncomingMessage): Refusal | undefined {
  const expect = req.headers.expect;
  if (expect === undefined || req.httpVersionMinor !== 1 || CONTINUE.test(expect)) return undefined;
  return deny(new ProxyError('EXPECTATION_FAILED', 'only "Expect: 100-continue" is supported', { leg: 'downstream', phase: 'request-head' }));
}


/**
 * A request head over `downstream.maxHeaderCount` fields (0 = unlimited). The downstream server lets Node keep one
 * field more than allowed, so a head with more fields than the limit arrives with exactly `max + 1` of them and is
 * refused here before anything reads the partial list (issue 17: a `Via`, `Connection` or `Content-Length` past
 * Node's cut would otherwise go unseen).
 */
export function headerCountRefusal(raw: readonly string[], max: number): Refusal | undefined {
  if (max === 0 || raw.length <= 2 * max) return undefined;
  const message = `the request head has more than ${max} header fields (downstream.maxHeaderCount)`;
  return deny(new ProxyError('TOO_MANY_HEADER_FIELDS', message, { leg: 'downstream', phase: 'request-head' }));
}

export function requestGate(guard: AccessGuard, maxBodySize: number, maxHeaderCount = 0): RequestGate {
  const afterAccess = (req: IncomingMessage, refusal: Refusal | undefined): Refusal | undefined => {
    if (refusal !== undefined || maxBodySize === 0) return refusal;
    const length = declaredLength(req.rawHeaders);
    if (length === undefined || length <= maxBodySize) return undefined;
    const message = `request body of ${length} bytes exceeds downstream.maxBodySize (${maxBodySize} bytes)`;
    return deny(new ProxyError('PAYLOAD_TOO_LARGE', message, { leg: 'downstream', phase: 'request-head' }));
  };
  return (req, conn, target) => {
    const tooMany = headerCountRefusal(req.rawHeaders, maxHeaderCount);
    if (tooMany !== undefined) return tooMany;
    const framing = requestFramingIssue(req.rawHeaders, req.httpVersionMajor, req.httpVersionMinor);
    if (framing !== undefined) {
      return deny(new ProxyError(framing.code, framing.reason, { leg: 'downstream', phase: 'request-head' }));
    }
    const expectation = expectationIssue(req);
    if (expectation !== undefined) return expectation;
    const access = guard.admitRequest(req.rawHeaders, target, conn);
    return access instanceof Promise ? access.then((r) => afterAccess(req, r)) : afterAccess(req, access);
  };
}
