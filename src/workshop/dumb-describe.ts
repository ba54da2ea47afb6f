/**
 * One readable log line per dumb-proxy event (SPEC §9.1), for `--mode dumb`: what crossed which hop, and which
 * connection-management headers were relayed verbatim — the point of the exercise. Pure apart from the small
 * per-connection memory the caller passes in (when each response started, to report how long the origin held on).
 */
import type { DumbEvent } from './dumb-events.js';
import type { HeaderPair } from './dumb-head.js';

/** The level and text of one line; the caller logs it as event `dumb` with `conn` and `step` fields. */
export interface DumbLine {
  readonly level: 'info' | 'debug';
  readonly text: string;
}

const HOP_HEADERS = new Set(['connection', 'proxy-connection', 'keep-alive']);

/** `(Connection: keep-alive relayed)`, or `(no Connection header)`. */
function relayed(headers: readonly HeaderPair[]): string {
  const hop = headers.filter(([name]) => HOP_HEADERS.has(name.toLowerCase()));
  if (hop.length === 0) return '(no Connection header)';
  return `(${hop.map(([name, value]) => `${name}: ${value}`).join(', ')} relayed)`;
}

/**
 * Describes `e`; undefined for events not worth a line. `responseAt` maps a connection to the time its response
 * started; it is updated here and cleared when the connection ends.
 */
export function describeDumbEvent(e: DumbEvent, responseAt: Map<number, number>): DumbLine | undefined {
  const c = `c${e.conn}`;
  switch (e.type) {
    case 'client-connected':
      return { level: 'debug', text: `${c} connected from ${e.remoteAddress}:${e.remotePort}` };
    case 'request-head':
      return { level: 'info', text: `${c} → ${e.method} ${e.target} ${e.version} ${relayed(e.headers)}` };
    case 'origin-connecting':
    case 'request-body-bytes':
    case 'response-bytes':
      return undefined;
    case 'origin-connected':
      return { level: 'debug', text: `${c} ⇢ origin ${e.host}:${e.port} connected` };
    case 'request-forwarded':
      return { level: 'debug', text: `${c} ⇢ origin: ${e.requestLine} (every header line verbatim, no Via)` };
    case 'origin-connect-failed':
      return { level: 'info', text: `${c} ✗ cannot connect to ${e.host}:${e.port} (${e.code})` };
    case 'proxy-response':
      return { level: 'info', text: `${c} ← ${e.status} from the proxy itself: ${e.message}` };
    case 'response-head':
      responseAt.set(e.conn, e.t);
      return { level: 'info', text: `${c} ← ${e.statusLine} ${relayed(e.headers)}; waiting for the origin to close` };
    case 'client-bytes-ignored':
      return {
        level: 'info',
        text: `${c} ✗ ignored ${e.n} more bytes from the client (a next request?): a dumb proxy reads one request per connection`,
      };
    case 'origin-closed': {
      const since = responseAt.get(e.conn);
      const held = since === undefined ? '' : `, ${Math.round(e.t - since)} ms after the response started`;
      const who = e.initiator === 'origin' ? 'origin closed' : 'proxy closed the origin connection';
      return { level: 'info', text: `${c} ${who}${held}: response over (${e.responseBytes} bytes)${e.error ? ` [${e.error}]` : ''}` };
    }
    case 'client-closed':
      responseAt.delete(e.conn);
      return {
        level: 'info',
        text: `${c} client connection closed by the ${e.initiator}${e.ignoredBytes > 0 ? `; ${e.ignoredBytes} client bytes were never read` : ''}`,
      };
  }
}
