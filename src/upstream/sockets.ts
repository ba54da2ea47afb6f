/**
 * Upstream socket identity and close reasons (SPEC §4, §8.1). Every upstream socket is created by our connector
 * (see pools.ts), which registers it here: an id, its origin, a request counter, and the reason it closed.
 *
 * Which socket serves which request: undici calls the request handler's `onConnect(abort)` synchronously and then,
 * in the same tick and with no other code in between, publishes `undici:client:sendHeaders` with the socket
 * (lib/dispatcher/client-h1.js `writeH1`). A handler announces itself in `onConnect` via `expectSocket()`; the channel
 * subscriber hands it the socket's record. Diagnostics channels are process-global, hence the one module-level
 * subscriber and slot below; records live on the sockets themselves, so several proxies in one process stay apart.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { UpstreamCloseReason } from '../observability/events.js';
import { fixPausedFinish } from './paused-finish.js';

/** Implemented by the per-request handler that wants to know its socket. */
export interface SocketClaimant {
  onUpstreamSocket(record: UpstreamSocket): void;
}

const kRecord = Symbol('hopwise.upstreamSocket');
type TaggedSocket = Socket & { [kRecord]?: UpstreamSocket };

let pendingClaimant: SocketClaimant | null = null;
let subscribed = false;

function onSendHeaders(message: unknown): void {
  const claimant = pendingClaimant;
  pendingClaimant = null;
  const socket = (message as { socket?: TaggedSocket }).socket;
  const record = socket?.[kRecord];
  if (record === undefined) return; // a socket some other undici user opened in this process
  fixPausedFinish(socket!);  record.requests++;
  record.busy = true;
  record.onRequest?.(record);
  claimant?.onUpstreamSocket(record);
}

/** Called from a handler's `onConnect`: the next `sendHeaders` belongs to it. */
export function expectSocket(claimant: SocketClaimant): void {
  if (!subscribed) {
    diagnostics.subscribe('undici:client:sendHeaders', onSendHeaders);
    subscribed = true;
  }
  pendingClaimant = claimant;
}

/** What we know about one upstream socket. Mutated only by this module and the pool that owns it. */
export class UpstreamSocket {
  readonly id: number;
  readonly origin: string;
  readonly createdAt: number;
  requests = 0;
  busy = false;
  /** Set by the owner when it knows the reason before the close happens (abort, eviction, shutdown). */
  presetReason: UpstreamCloseReason | undefined;
  /** From the last response: did the origin say Connection: close / send a Keep-Alive timeout hint? */
  lastSaidClose = false;
  lastHintMs: number | undefined;
  lastError: Error | undefined;
  originEnded = false;
  onRequest: ((s: UpstreamSocket) => void) | undefined;
  #socket: Socket | undefined;

  constructor(id: number, origin: string) {
    this.id = id;
    this.origin = origin;
    this.createdAt = performance.now();
  }

  /** Bind the record to its socket (the pool's connector does this once). */
  attach(socket: Socket): void {
    this.#socket = socket;
  }

  /**
   * Destroy this socket now, for a reason the owner knows (SPEC §4.5: the client went away). A real (non-
   * informational) error makes undici fail and drop the request at the head of the pipeline; undici's own `abort()`
   * destroys with an InformationalError instead, re-queues the dead request and opens a new connection for it first.
   */
  destroy(reason: UpstreamCloseReason, err: Error): void {
    this.presetReason ??= reason;
    this.#socket?.destroy(err);
  }
}

/** Decide why a socket closed, from what was observed (pure given the record). */
export function closeReason(s: UpstreamSocket, limits: { maxRequests: number; idleTimeout: number }): UpstreamCloseReason {
  if (s.presetReason !== undefined) return s.presetReason;
  const msg = s.lastError?.message;
  // undici destroys a finished socket with InformationalError('reset') when it must not be reused.
  if (msg === 'reset') {
    // At the limit our own last request said Connection: close, so an origin's close is only the echo of it.
    if (limits.maxRequests > 0 && s.requests >= limits.maxRequests) return 'max-requests';
    if (s.lastSaidClose) return 'origin-asked';
    if (s.lastHintMs !== undefined) return 'keep-alive-hint';
    return 'origin-asked';
  }
  if (msg === 'socket idle timeout') {
    return s.lastHintMs !== undefined && s.lastHintMs < limits.idleTimeout ? 'keep-alive-hint' : 'idle-timeout';
  }
  if (msg === 'aborted') return 'client-aborted';
  if (s.originEnded && !s.busy) return 'origin-closed';
  if (s.lastError !== undefined || s.busy) return 'error';
  return 'origin-closed';
}

/** Attach a record to a freshly connected socket and watch it until it closes. */
export function tagSocket(socket: Socket, record: UpstreamSocket, onClose: (r: UpstreamSocket) => void): void {
  (socket as TaggedSocket)[kRecord] = record;
  record.attach(socket);
  socket.on('error', (err: Error) => {
    record.lastError = err;
  });
  socket.on('end', () => {
    record.originEnded = true;
  });
  socket.once('close', () => onClose(record));
}

/** The record of a socket, if it is one of ours. */
export function recordOf(socket: Socket): UpstreamSocket | undefined {
  return (socket as TaggedSocket)[kRecord];
}
