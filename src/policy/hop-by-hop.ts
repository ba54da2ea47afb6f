/**
 * Hop-by-hop header removal (SPEC §1.1–1.3, RFC 9110 §7.6.1), modelled on Go's httputil.ReverseProxy
 * `removeHopByHopHeaders`: a fixed list plus every header named in any `Connection` field line, both directions,
 * with an exception for protocol upgrades (SPEC §7, RFC 9110 §7.8).
 *
 * Pure and on the hot path of every proxied request: headers arrive in Node's `rawHeaders` shape (flat
 * `[name0, value0, name1, value1, ...]`, original case, duplicates in order), nothing is mutated, a name is
 * lowercased at most once (and only when it could be removed), and no regex is involved.
 */

/** Node's `rawHeaders` shape: `[name0, value0, name1, value1, ...]`, original name case, duplicates kept in order. */
export type RawHeaders = readonly string[];

/** Which message is being relayed; decides which of the two proxy-auth headers is hop-by-hop (SPEC §1.1). */
export interface StripOptions {
  direction: 'request' | 'response';
  /**
   * True only for a real upgrade (`Connection: Upgrade` + `Upgrade:` request, or its `101` response; SPEC §7): keep
   * one `Connection: Upgrade` line and the `Upgrade` field(s). Decide it with {@link isUpgradeRequest}.
   */
  upgrade?: boolean;
}

/**
 * Removed in both directions whether or not `Connection` lists them: `Connection` itself and the fields RFC 9110
 * §7.6.1 names as requiring removal (`Proxy-Connection`, RFC 9112 Appendix C.2.2; `Keep-Alive`, RFC 2068 §19.7.1;
 * `TE`; `Transfer-Encoding`, since the proxy re-frames the body, RFC 9112 §6.1; `Upgrade`), plus `Trailer`
 * (singular, RFC 9110 §6.6.2; `Trailers` is an ordinary end-to-end name, cf. RFC 2616 erratum 4522 in Go's list).
 */
const ALWAYS_HOP: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** SPEC §1.2: the proxy owns framing and routing, so listing these in `Connection` does not remove them. */
const PROXY_OWNED: ReadonlySet<string> = new Set(['host', 'content-length']);

/** OWS = *( SP / HTAB ) (RFC 9110 §5.6.3). */
function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Adds the lowercased, OWS-trimmed, non-empty comma-separated members of one field value to `into`
 * (RFC 9110 §5.6.1: empty list elements are ignored, so `,,close` is just `close`).
 */
function addTokens(value: string, into: Set<string>): void {
  const length = value.length;
  let start = 0;
  while (start <= length) {
    let end = value.indexOf(',', start);
    if (end === -1) end = length;
    let first = start;
    let last = end;
    while (first < last && isOws(value.charCodeAt(first))) first++;
    while (last > first && isOws(value.charCodeAt(last - 1))) last--;
    if (last > first) into.add(value.slice(first, last).toLowerCase());
    start = end + 1;
  }
}

/**
 * The connection options of a message: lowercased tokens from EVERY `Connection` field line (name matched
 * case-insensitively), comma-separated, OWS-tolerant, empty members ignored. Several lines combine (RFC 9110 §5.3).
 */
export function connectionTokens(raw: RawHeaders): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    // Cheap length test first so most names are never lowercased here.
    if (name.length === 10 && name.toLowerCase() === 'connection') addTokens(raw[i + 1]!, tokens);
  }
  return tokens;
}

/**
 * The protocol a message asks to switch to (lowercased, several `Upgrade` lines joined with `, `), or null unless it
 * carries both a `Connection` token `upgrade` and a non-empty `Upgrade` field (RFC 9110 §7.8: a sender of `Upgrade`
 * MUST also send the `upgrade` connection option). Works on a `101` response as well, so the two can be compared.
 */
export function isUpgradeRequest(raw: RawHeaders): string | null {
  let tokens: Set<string> | undefined;
  let protocols = '';
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      addTokens(raw[i + 1]!, (tokens ??= new Set()));
    } else if (name.length === 7 && name.toLowerCase() === 'upgrade') {
      const value = raw[i + 1]!.trim();
      if (value !== '') protocols = protocols === '' ? value : `${protocols}, ${value}`;
    }
  }
  if (protocols === '' || tokens === undefined || !tokens.has('upgrade')) return null;
  return protocols.toLowerCase();
}

/** What one pass over a message's fields learnt besides the fields to relay. */
export interface HopPass {
  /** The relayed fields: `prepend`, the surviving end-to-end fields in order, then `append` (see {@link HopPassOptions}). */
  readonly headers: string[];
  /** A `Connection` field carried the `close` option (RFC 9112 §9.6). */
  readonly close: boolean;
  /** Every `Keep-Alive` field value (hop-by-hop, removed from `headers`) joined with `, ` (RFC 9110 §5.3), if any. */
  readonly keepAlive: string | undefined;
}

/** {@link StripOptions} plus what the proxy itself drops and adds in the same pass. */
export interface HopPassOptions extends StripOptions {
  /** Lowercased names the proxy sets itself and so also removes (the request side: `host`, `expect`). */
  readonly drop?: ReadonlySet<string>;
  /** Flat fields placed before the relayed ones (the request side: `['host', authority]`, SPEC §2.1). */
  readonly prepend?: readonly string[];
  /** Flat fields appended after stripping, so a `Connection` token cannot remove them (`Via`, SPEC §1.2, §1.4). */
  readonly append?: readonly string[];
}

/**
 * Why the pass removes a field, or null if it keeps it (`Connection` under an upgrade is handled by the caller):
 * - `hop-by-hop`: in the fixed list (RFC 9110 §7.6.1); `framing`: `Transfer-Encoding`, since the proxy re-frames
 *   the body itself (RFC 9112 §6.1);
 * - `named-in-connection`: listed as a `Connection` option (not `Host`/`Content-Length`, SPEC §1.2);
 * - `proxy-auth`: `Proxy-Authorization` on requests, `Proxy-Authenticate` on responses (meant for this hop);
 * - `set-by-proxy`: a field the proxy sets itself this hop (`drop`: the request's `Host` and `Expect`).
 */
export type RemovalReason = 'hop-by-hop' | 'framing' | 'named-in-connection' | 'proxy-auth' | 'set-by-proxy';

/**
 * The one classification of a lowercased field name, used by {@link hopByHopPass} on its slow path and by
 * {@link explainHopByHop}, so that the explanation of a pass can never disagree with the pass.
 */
function removalReason(
  lower: string,
  tokens: ReadonlySet<string> | undefined,
  proxyAuth: string,
  upgrade: boolean,
  drop: ReadonlySet<string> | undefined,
): RemovalReason | null {
  if (upgrade && lower === 'upgrade') return null;
  if (ALWAYS_HOP.has(lower)) return lower === 'transfer-encoding' ? 'framing' : 'hop-by-hop';
  if (lower === proxyAuth) return 'proxy-auth';
  if (drop !== undefined && drop.has(lower)) return 'set-by-proxy';
  if (tokens !== undefined && tokens.has(lower) && !PROXY_OWNED.has(lower)) return 'named-in-connection';
  return null;
}

/**
 * A bit per name length below 32: the lengths of the names that can go without being named in `Connection` (see
 * ALWAYS_HOP and the proxy-auth pair). A name of any other length is kept unless a token or `drop` has its length.
 */
const FIXED_HOP_LENGTHS = lengthMask([...ALWAYS_HOP, 'proxy-authorization', 'proxy-authenticate'], 0);

/** `mask` plus a bit for the length of each name shorter than 32 characters. */
function lengthMask(names: Iterable<string>, mask: number): number {
  for (const n of names) if (n.length < 32) mask |= 1 << n.length;
  return mask;
}

/** Whether any name is 32 characters or longer (such names are then always checked). */
function hasLong(names: Iterable<string> | undefined): boolean {
  if (names !== undefined) for (const n of names) if (n.length >= 32) return true;
  return false;
}

/**
 * One pass over a message's fields (the hot path of every proxied request, issue 8): removes the hop-by-hop fields as
 * {@link stripHopByHop} does, also removes `drop`, puts `prepend` first and `append` last, and reports what the
 * `Connection` and `Keep-Alive` fields said. A name is lowercased only when its length matches a field that could be
 * removed, so most end-to-end fields are copied without allocating. `raw` is not modified.
 */
export function hopByHopPass(raw: RawHeaders, opts: HopPassOptions): HopPass {
  const count = raw.length >>> 1;
  // Pass 1: the Connection tokens, which may come after the fields they name. A length test first, so that most
  // names are never lowercased here.
  let tokens: Set<string> | undefined;
  for (let i = 0; i < count; i++) {
    const name = raw[2 * i]!;
    if (name.length === 10 && name.toLowerCase() === 'connection') addTokens(raw[2 * i + 1]!, (tokens ??= new Set()));
  }
  let mask = FIXED_HOP_LENGTHS;
  if (tokens !== undefined) mask = lengthMask(tokens, mask);
  if (opts.drop !== undefined) mask = lengthMask(opts.drop, mask);
  const long = hasLong(tokens) || hasLong(opts.drop);

  // Pass 2: copy what survives.
  const proxyAuth = opts.direction === 'request' ? 'proxy-authorization' : 'proxy-authenticate';
  const upgrade = opts.upgrade === true;
  const out: string[] = opts.prepend === undefined ? [] : opts.prepend.slice();
  let connectionKept = false;
  let keepAlive: string | undefined;
  for (let i = 0; i < count; i++) {
    const name = raw[2 * i]!;
    const length = name.length;
    if (length < 32 ? ((mask >>> length) & 1) === 0 : !long) {
      out.push(name, raw[2 * i + 1]!);
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'keep-alive') keepAlive = keepAlive === undefined ? raw[2 * i + 1]! : `${keepAlive}, ${raw[2 * i + 1]!}`;
    if (upgrade && lower === 'connection') {
      if (!connectionKept) out.push(name, 'Upgrade');
      connectionKept = true;
      continue;
    }
    if (removalReason(lower, tokens, proxyAuth, upgrade, opts.drop) === null) out.push(name, raw[2 * i + 1]!);
  }
  if (upgrade && !connectionKept) out.push('Connection', 'Upgrade');
  if (opts.append !== undefined) for (const field of opts.append) out.push(field);
  return { headers: out, close: tokens !== undefined && tokens.has('close'), keepAlive };
}

/**
 * Returns a NEW flat header array without the hop-by-hop fields (SPEC §1.1): `Connection`, every header it lists
 * (except `Host` and `Content-Length`, SPEC §1.2), `Proxy-Connection`, `Keep-Alive`, `TE`, `Trailer`,
 * `Transfer-Encoding`, `Upgrade`, plus `Proxy-Authorization` on requests (it is for this proxy, never an origin) and
 * `Proxy-Authenticate` on responses. Everything else keeps its value, position, name case and duplicates
 * (SPEC §1.3). With `upgrade`, exactly one `Connection: Upgrade` line (where the first `Connection` line was, or
 * appended) and every `Upgrade` line are kept; other listed headers still go. Idempotent; `raw` is not modified.
 */
export function stripHopByHop(raw: RawHeaders, opts: StripOptions): string[] {
  return hopByHopPass(raw, opts).headers;
}

/** One field a pass removed, with the reason {@link hopByHopPass} removed it. */
export interface RemovedField {
  readonly name: string;
  readonly value: string;
  readonly reason: RemovalReason;
}

/** What {@link explainHopByHop} says about one pass: its output and each field it removed, in order. */
export interface HopExplanation {
  /** Exactly `hopByHopPass(raw, opts).headers`. */
  readonly headers: string[];
  readonly removed: RemovedField[];
  /** With `upgrade`: the `Connection` line was replaced by `Connection: Upgrade` (received value), if it was. */
  readonly upgradeConnection: string | undefined;
}

/**
 * Explains a pass (flow records, issue 14): the same fields out as {@link hopByHopPass}, decided by the same
 * {@link removalReason}, plus each removed field with its reason. Not on the hot path: it runs when a flow is read,
 * so it lowercases every name.
 */
export function explainHopByHop(raw: RawHeaders, opts: HopPassOptions): HopExplanation {
  const tokens = connectionTokens(raw);
  const proxyAuth = opts.direction === 'request' ? 'proxy-authorization' : 'proxy-authenticate';
  const upgrade = opts.upgrade === true;
  const headers: string[] = opts.prepend === undefined ? [] : opts.prepend.slice();
  const removed: RemovedField[] = [];
  let upgradeConnection: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (upgrade && lower === 'connection') {
      if (upgradeConnection === undefined) headers.push(name, 'Upgrade');
      else removed.push({ name, value, reason: 'hop-by-hop' });
      upgradeConnection ??= value;
      continue;
    }
    const reason = removalReason(lower, tokens.size === 0 ? undefined : tokens, proxyAuth, upgrade, opts.drop);
    if (reason === null) headers.push(name, value);
    else removed.push({ name, value, reason });
  }
  if (upgrade && upgradeConnection === undefined) headers.push('Connection', 'Upgrade');
  if (opts.append !== undefined) for (const field of opts.append) headers.push(field);
  return { headers, removed, upgradeConnection };
}
