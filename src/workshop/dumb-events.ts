/**
 * The dumb proxy's timeline (SPEC §9.1, §9.2): one event per observable step on one client connection, in the order
 * the proxy saw them. Scripted demos turn these into annotated timelines and sequence diagrams, so every event says
 * which leg it concerns and, for a close, who initiated it.
 */
import type { HeaderPair } from './dumb-head.js';

/** Fields present on every event. */
interface EventBase {
  /** Milliseconds since the proxy was created (`performance.now()` based, monotonic). */
  readonly t: number;
  /** Client connection id, 1-based, unique per proxy instance. */
  readonly conn: number;
}

/**
 * A timeline event. Per connection the happy path is: `client-connected`, `request-head`, `origin-connecting`,
 * `origin-connected`, `request-forwarded`, [`request-body-bytes`…], `response-head`, `response-bytes`…,
 * [`client-bytes-ignored`…], `origin-closed`, `client-closed`.
 */
export type DumbEvent = EventBase &
  (
    | { readonly type: 'client-connected'; readonly remoteAddress: string; readonly remotePort: number }
    /** The request head as received: request line parts and every header line, case and order kept. */
    | {
        readonly type: 'request-head';
        readonly method: string;
        readonly target: string;
        readonly version: string;
        readonly headers: readonly HeaderPair[];
        /** Size of the head in bytes, CRLFCRLF included. */
        readonly bytes: number;
      }
    /** The proxy answered by itself (bad head, CONNECT, unreachable origin) and will close the connection. */
    | { readonly type: 'proxy-response'; readonly status: 400 | 501 | 502; readonly message: string }
    | { readonly type: 'origin-connecting'; readonly host: string; readonly port: number }
    | { readonly type: 'origin-connected'; readonly host: string; readonly port: number; readonly localPort: number }
    | { readonly type: 'origin-connect-failed'; readonly host: string; readonly port: number; readonly code: string }
    /** The rewritten request line and the verbatim header block were written to the origin. */
    | { readonly type: 'request-forwarded'; readonly requestLine: string; readonly bytes: number }
    /** Request body bytes relayed to the origin; `total` of `expected` (Content-Length) so far. */
    | { readonly type: 'request-body-bytes'; readonly n: number; readonly total: number; readonly expected: number }
    /** A response head seen in the relayed stream (observed, never modified); emitted once per connection. */
    | {
        readonly type: 'response-head';
        readonly statusLine: string;
        readonly status: number | null;
        readonly headers: readonly HeaderPair[];
      }
    /** Origin bytes relayed to the client; `total` so far on this connection. */
    | { readonly type: 'response-bytes'; readonly n: number; readonly total: number }
    /**
     * Client bytes that arrived after the request was relayed. A dumb proxy never reads a second request: they are
     * discarded, and this is where the keep-alive hang becomes visible.
     */
    | { readonly type: 'client-bytes-ignored'; readonly n: number; readonly total: number }
    /** The origin connection ended; for the dumb proxy this, and only this, ends the response. */
    | {
        readonly type: 'origin-closed';
        readonly initiator: 'origin' | 'proxy';
        readonly responseBytes: number;
        readonly error?: string;
      }
    /** The client connection is closing (emitted when the initiator acts, not when the socket is finally freed). */
    | {
        readonly type: 'client-closed';
        readonly initiator: 'client' | 'proxy';
        readonly responseBytes: number;
        readonly ignoredBytes: number;
        readonly error?: string;
      }
  );

/** Every `type` a {@link DumbEvent} can have. */
export type DumbEventType = DumbEvent['type'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event before the proxy stamps it with `t` and `conn`. */
export type DumbEventBody = DistributiveOmit<DumbEvent, 't' | 'conn'>;

/** Sink for one connection's events; the proxy binds `conn` and the clock. */
export type EmitEvent = (body: DumbEventBody) => void;
