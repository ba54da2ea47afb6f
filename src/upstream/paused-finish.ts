/**
 * Workaround for nodejs/undici#5360, found by the soak run (issue 7, docs/reliability.md).
 *
 * When a response body applies back-pressure (our handler's `onData` returns false while the client is slower than
 * the origin), undici pauses its HTTP/1 parser. If the origin then ends a non-keep-alive response (`Connection:
 * close`, HTTP/1.0, close-delimited), undici's socket 'end'/'close'/ECONNRESET handlers call `parser.finish()`, which
 * asserts `!this.paused` and throws from an event handler: the whole proxy process dies. Upstream fixed it in
 * nodejs/undici#5474 (undici 8, which needs Node 22); the 7.x line this project runs on Node 20 still asserts.
 *
 * The fix, the same as upstream's: a paused parser asked to finish is resumed and fed what the socket still holds
 * (back-pressure is moot once the peer has stopped sending: that is bounded by the socket's buffer), then finishes
 * as usual — a complete response completes, a short one still fails as truncated. It patches the parser prototype
 * once, only when its `finish` still carries the assertion, so a fixed undici is left alone. Process-global by
 * nature (the prototype is shared), hence the module-level flag.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

interface ParserLike {
  paused: boolean;
  ptr: number | null;
  socket: Socket;
  llhttp: { llhttp_resume(ptr: number): void };
  execute: (this: ParserLike, chunk: Buffer) => void;
  finish: (this: ParserLike) => unknown;
}

const requireCjs = createRequire(import.meta.url);
let kParser: symbol | undefined;
let settled = false;

function parserSymbol(): symbol | undefined {
  try {
    const symbols = requireCjs('undici/lib/core/symbols.js') as { kParser?: unknown };
    return typeof symbols.kParser === 'symbol' ? symbols.kParser : undefined;
  } catch {
    return undefined;
  }
}

function looksLikeParser(p: unknown): p is ParserLike {
  const q = p as Partial<ParserLike> | null;
  return (
    q !== null &&
    typeof q === 'object' &&
    typeof q.finish === 'function' &&
    typeof q.execute === 'function' &&
    typeof q.llhttp?.llhttp_resume === 'function' &&
    'paused' in q
  );
}

const EMPTY = Buffer.alloc(0);

function resume(parser: ParserLike): void {
  if (parser.paused && parser.ptr !== null) {
    parser.llhttp.llhttp_resume(parser.ptr);
    parser.paused = false;
  }
}

/**
 * Drain a paused parser: resume it and feed it every chunk the socket still holds. When nothing is left, one empty
 * execute drives a Content-Length or chunked body paused on its last bytes to its message-complete callback (what
 * undici's own `resume()` does); if that pauses again (an EOF-delimited body, or undici pausing after a completed
 * non-keep-alive message), one more resume leaves the rest to `finish()`. Every round consumes bytes, so it ends.
 */
function drainPaused(parser: ParserLike): void {
  for (;;) {
    if (parser.ptr === null) return;
    resume(parser);
    const chunk = parser.socket.read() as Buffer | null;
    if (chunk === null) {
      parser.execute(EMPTY);
      resume(parser);
      return;
    }
    parser.execute(chunk);
  }
}

/**
 * Install the workaround from the first socket that has an undici parser attached (call when a request is written:
 * `undici:client:sendHeaders`). Idempotent; does nothing when the parser's `finish` no longer asserts.
 */
export function fixPausedFinish(socket: Socket): void {
  if (settled) return;
  kParser ??= parserSymbol();
  if (kParser === undefined) {
    settled = true;
    return;
  }
  const parser = (socket as unknown as Record<symbol, unknown>)[kParser];
  if (!looksLikeParser(parser)) return; // not attached yet; try again on the next request
  settled = true;
  const proto = Object.getPrototypeOf(parser) as ParserLike;
  const finish: (this: ParserLike) => unknown = proto.finish;
  if (!finish.toString().includes('assert(!this.paused)')) return;
  proto.finish = function finishEvenIfPaused(this: ParserLike): unknown {
    if (this.paused) drainPaused(this);
    return finish.call(this);
  };
}
