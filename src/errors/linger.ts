/**
 * The one "answer, then close" routine for connections hopwise refuses (accept-time refusals, parse and timeout errors,
 * CONNECT and Upgrade refusals). The caller owns the socket (STYLE rule 2) and hands its closing over to this routine.
 *
 * Why it drains, and for how long: a client may still be sending (a request body, pipelined requests) when the answer
 * goes out. Closing a socket with unread bytes in its receive buffer makes the kernel send a reset, and a reset can
 * destroy the answer before the client has read it; RFC 9112 §9.6 asks a server to close in stages and keep reading
 * ("lingering close"). So the answer is written with a half-close, and what the client still sends is read and
 * discarded until it closes its side. The wait is bounded by {@link LINGER_MS}: two seconds, as Apache's lingering
 * close (SECONDS_TO_LINGER), enough for an answer to cross any sane path and short enough that a peer that never
 * closes cannot hold a connection slot for long. (Two routines used to differ: the accept-time one waited 1 s without
 * draining, so a refused client that had already sent bytes could get a reset instead of its 403/503.)
 */
import type { Socket } from 'node:net';

/** How long a refused client may keep its half of the connection open after the answer. */
export const LINGER_MS = 2000;

/**
 * `end(answer)` on `client`, drain and discard what it still sends, and destroy it when it closes its side or after
 * {@link LINGER_MS}. `onClosed` runs once when the socket has closed (registries drop their entry then).
 */
export function closeLingering(client: Socket, answer: string | undefined, onClosed?: () => void): void {
  const timer = setTimeout(() => client.destroy(), LINGER_MS);
  client.once('close', () => {
    clearTimeout(timer);
    onClosed?.();
  });
  client.on('error', () => undefined);
  client.resume();
  if (answer === undefined) client.end();
  else client.end(answer);
}
