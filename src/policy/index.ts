/**
 * The pure header and target policy (STYLE: pure core): hop-by-hop stripping, Via, forwarded headers, request targets,
 * Max-Forwards, the retry decision, message framing, access rules and credentials formats. No I/O and no Node http
 * imports; every function returns new values and leaves inputs alone.
 */
export {
  connectionTokens,
  explainHopByHop,
  hopByHopPass,
  isUpgradeRequest,
  stripHopByHop,
  type HopPass,
  type HopExplanation,
  type HopPassOptions,
  type RawHeaders,
  type RemovalReason,
  type RemovedField,
  type StripOptions,
} from './hop-by-hop.js';
export { hopDiff, REQUEST_SET_BY_PROXY, type ChangeReason, type DiffOptions, type HeaderChange } from './hop-diff.js';
export { viaContains, viaValue, withAddedHeaders } from './via.js';
export {
  authorityTarget,
  forwardTarget,
  gatewayTarget,
  originKey,
  requestedHost,
  type TargetResult,
  type UpstreamTarget,
} from './target.js';
export {
  forwardedElement,
  forwardedNode,
  forwardedStyle,
  withForwarded,
  type ForwardedFacts,
  type ForwardedStyle,
} from './forwarded.js';
export { applyMaxForwards, type MaxForwardsDecision } from './max-forwards.js';
export { isIdempotent, shouldRetryStale, type RetryContext } from './retry.js';
export { collapseIdenticalLengths, declaredLength, requestFramingIssue, responseFramingIssue, vetResponseFraming, type FramingIssue } from './framing.js';
export {
  CidrList,
  cidrContains,
  formatIp,
  isLocalhostName,
  isLoopbackHost,
  isLoopbackIp,
  parseCidr,
  parseIp,
  type Cidr,
  type IpAddress,
} from './address.js';
export { DestinationRules, globMatches, protectedReason, type Destination, type DestinationRule, type RuleDecision } from './access.js';
export {
  basicChallenge,
  formatPasswordHash,
  parseBasicCredentials,
  parsePasswordHash,
  type BasicCredentials,
  type PasswordHash,
} from './credentials.js';
