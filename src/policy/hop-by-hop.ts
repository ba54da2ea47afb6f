/**
 * Hop-by-hop header removal (SPEC §1.1–1.3, RFC 9110 §7.6.1), modelled on Go's httputil.ReverseProxy
 * `removeHopByHopHeaders`: a fixed list plus every header named in any `Connection` field line, both directions,
 * with an exception for protocol upgrades (SPEC §7, RFC 9110 §7.8).
 *
 * Pure and on the hot path of every proxied request: headers arrive in Node's `rawHeaders` shape (flat
 * `[name0, value0, name1, value1, ...]`, original case, duplicates in order), nothing is mutated, each name is
 * lowercased once, and no regex is involved.
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

/**
 * Returns a NEW flat header array without the hop-by-hop fields (SPEC §1.1): `Connection`, every header it lists
 * (except `Host` and `Content-Length`, SPEC §1.2), `Proxy-Connection`, `Keep-Alive`, `TE`, `Trailer`,
 * `Transfer-Encoding`, `Upgrade`, plus `Proxy-Authorization` on requests (it is for this proxy, never an origin) and
 * `Proxy-Authenticate` on responses. Everything else keeps its value, position, name case and duplicates
 * (SPEC §1.3). With `upgrade`, exactly one `Connection: Upgrade` line (where the first `Connection` line was, or
 * appended) and every `Upgrade` line are kept; other listed headers still go. Idempotent; `raw` is not modified.
 */
export function stripHopByHop(raw: RawHeaders, opts: StripOptions): string[] {
  const count = raw.length >>> 1;
  // Pass 1: lowercase every name exactly once and gather the Connection tokens, which may come after the
  // headers they name.
  const lowerNames = new Array<string>(count);
  let tokens: Set<string> | undefined;
  for (let i = 0; i < count; i++) {
    const lower = raw[2 * i]!.toLowerCase();
    lowerNames[i] = lower;
    if (lower === 'connection') addTokens(raw[2 * i + 1]!, (tokens ??= new Set()));
  }

  // Pass 2: copy what survives.
  const proxyAuth = opts.direction === 'request' ? 'proxy-authorization' : 'proxy-authenticate';
  const upgrade = opts.upgrade === true;
  const out: string[] = [];
  let connectionKept = false;
  for (let i = 0; i < count; i++) {
    const lower = lowerNames[i]!;
    if (upgrade && lower === 'connection') {
      if (!connectionKept) out.push(raw[2 * i]!, 'Upgrade');
      connectionKept = true;
      continue;
    }
    const keep =
      (upgrade && lower === 'upgrade') ||
      (!ALWAYS_HOP.has(lower) &&
        lower !== proxyAuth &&
        (tokens === undefined || !tokens.has(lower) || PROXY_OWNED.has(lower)));
    if (keep) out.push(raw[2 * i]!, raw[2 * i + 1]!);
  }
  if (upgrade && !connectionKept) out.push('Connection', 'Upgrade');
  return out;
}
