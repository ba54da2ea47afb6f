/**
 * The per-hop header diff of a flow (issue 14, SPEC §8.4): what the proxy removed, added or replaced between the
 * fields a message arrived with and the fields it relayed, each with its reason. Removals come from
 * {@link explainHopByHop}, the same classification the hot-path pass uses, so the diff cannot disagree with what was
 * stripped; additions and replacements are what remains between the pass's output and the relayed fields, named by
 * the proxy rule that makes them (Host from the URI, Via, forwarded headers, Max-Forwards, framing).
 *
 * Pure and off the hot path: it runs when a flow record is read, never when it is recorded.
 */
import { explainHopByHop, type RawHeaders, type RemovalReason } from './hop-by-hop.js';

/** Request fields this hop sets or answers itself (`Host` from the URI, SPEC §2.1; `Expect` answered here). */
export const REQUEST_SET_BY_PROXY: ReadonlySet<string> = new Set(['host', 'expect']);

/** Why a field changed at this hop. */
export type ChangeReason =
  | Exclude<RemovalReason, 'set-by-proxy'>
  | 'host-from-uri' // SPEC §2.1: Host is the target URI's authority
  | 'expect-answered' // 100-continue is answered by this hop
  | 'via-appended' // SPEC §1.4
  | 'forwarded-added' // X-Forwarded-*/Forwarded, added after stripping
  | 'max-forwards-decremented' // RFC 9110 §7.6.2
  | 'upgrade-kept' // SPEC §7: one Connection: Upgrade is relayed
  | 'proxy-hop' // the proxy's own Connection/Keep-Alive for the next hop (SPEC §1.5)
  | 'server-timing' // the optional Server-Timing header (flows.serverTiming)
  | 'proxy-status' // RFC 9209, on responses the proxy generated
  | 'changed-by-proxy'; // anything else the proxy changed (should be empty; shown rather than hidden)

/** One change to one field line. `to` is the relayed value of a replaced field. */
export interface HeaderChange {
  readonly op: 'removed' | 'added' | 'replaced';
  readonly name: string;
  readonly value: string;
  readonly to?: string;
  readonly reason: ChangeReason;
}

export interface DiffOptions {
  readonly direction: 'request' | 'response';
  readonly upgrade?: boolean;
}

/** The reason a relayed field that no received field accounts for was added. */
function additionReason(lower: string, direction: DiffOptions['direction']): ChangeReason {
  switch (lower) {
    case 'host':
      return 'host-from-uri';
    case 'via':
      return 'via-appended';
    case 'forwarded':
    case 'x-forwarded-for':
    case 'x-forwarded-host':
    case 'x-forwarded-proto':
      return 'forwarded-added';
    case 'max-forwards':
      return 'max-forwards-decremented';
    case 'content-length':
    case 'transfer-encoding':
      return 'framing';
    case 'connection':
    case 'keep-alive':
      return direction === 'request' ? 'changed-by-proxy' : 'proxy-hop';
    case 'server-timing':
      return 'server-timing';
    case 'proxy-status':
      return 'proxy-status';
    default:
      return 'changed-by-proxy';
  }
}

/** Key of one field line for matching: lowercased name and exact value. */
function key(name: string, value: string): string {
  return `${name.toLowerCase()}\u0000${value}`;
}

/**
 * The changes between `received` (the fields as they arrived) and `relayed` (as sent on the next hop), in received
 * order, then additions in relayed order. Unchanged fields are not listed.
 */
export function hopDiff(received: RawHeaders, relayed: RawHeaders, opts: DiffOptions): HeaderChange[] {
  const upgrade = opts.upgrade === true;
  const drop = opts.direction === 'request' ? REQUEST_SET_BY_PROXY : undefined;
  const explained = explainHopByHop(received, { direction: opts.direction, upgrade, ...(drop && { drop }) });
  const changes: HeaderChange[] = [];
  // Fields the pass kept, as a multiset, so duplicates are matched one for one.
  const kept = new Map<string, number>();
  for (let i = 0; i + 1 < explained.headers.length; i += 2) {
    const k = key(explained.headers[i]!, explained.headers[i + 1]!);
    kept.set(k, (kept.get(k) ?? 0) + 1);
  }
  // Fields the pass kept or the proxy set itself that the relayed head does not carry verbatim: candidates for a
  // replacement (Host, Max-Forwards), by lowercased name.
  const replaceable = new Map<string, { name: string; value: string }[]>();
  for (const r of explained.removed) {
    if (r.reason !== 'set-by-proxy') {
      changes.push({ op: 'removed', name: r.name, value: r.value, reason: r.reason });
    } else if (r.name.toLowerCase() === 'expect') {
      changes.push({ op: 'removed', name: r.name, value: r.value, reason: 'expect-answered' });
    } else {
      push(replaceable, r.name, r.value);
    }
  }
  if (explained.upgradeConnection !== undefined && explained.upgradeConnection !== 'Upgrade') {
    changes.push({ op: 'replaced', name: 'Connection', value: explained.upgradeConnection, to: 'Upgrade', reason: 'upgrade-kept' });
  }
  const added: { name: string; value: string }[] = [];
  for (let i = 0; i + 1 < relayed.length; i += 2) {
    const name = relayed[i]!;
    const value = relayed[i + 1]!;
    const k = key(name, value);
    const n = kept.get(k) ?? 0;
    if (n > 0) {
      kept.set(k, n - 1);
    } else {
      added.push({ name, value });
    }
  }
  // What the pass kept but the relayed head lacks (Max-Forwards before decrementing).
  for (let i = 0; i + 1 < explained.headers.length; i += 2) {
    const k = key(explained.headers[i]!, explained.headers[i + 1]!);
    const n = kept.get(k) ?? 0;
    if (n > 0 && !(upgrade && explained.headers[i]!.toLowerCase() === 'connection')) {
      kept.set(k, n - 1);
      push(replaceable, explained.headers[i]!, explained.headers[i + 1]!);
    }
  }
  for (const a of added) {
    const lower = a.name.toLowerCase();
    const before = replaceable.get(lower)?.shift();
    const reason = additionReason(lower, opts.direction);
    if (before === undefined) changes.push({ op: 'added', name: a.name, value: a.value, reason });
    else if (before.value !== a.value) changes.push({ op: 'replaced', name: a.name, value: before.value, to: a.value, reason });
  }
  for (const rest of replaceable.values()) {
    for (const r of rest) {
      const lower = r.name.toLowerCase();
      changes.push({ op: 'removed', name: r.name, value: r.value, reason: lower === 'host' ? 'host-from-uri' : 'changed-by-proxy' });
    }
  }
  return changes;
}

function push(map: Map<string, { name: string; value: string }[]>, name: string, value: string): void {
  const lower = name.toLowerCase();
  const list = map.get(lower);
  if (list === undefined) map.set(lower, [{ name, value }]);
  else list.push({ name, value });
}
