/**
 * The one writer of log lines to the log's destination (stdout, a file or a pipe behind it). Both ways into the log
 * end here: the access log's fast path (a line serialised by the caller, see log-json.ts) and winston's transport
 * (everything else, after winston's formats). Lines are buffered and written in batches, so the access log costs one
 * `write` per batch instead of one per request (issue 12: the access log on must cost at most 10 % of throughput).
 *
 * Guarantees (docs/statistics.md, README "Logs"):
 * - **Whole lines.** A batch is whole lines and never more than `maxBatchBytes` (a single longer line goes alone).
 *   On a pipe that is PIPE_BUF, the size up to which a write is atomic, so the lines of several processes sharing one
 *   stdout (`--workers N`) never interleave mid-line; on a regular file every write(2) is atomic against the others.
 * - **Bounded delay.** To a file descriptor (stdout to a file or a pipe), where every write is a system call, a
 *   buffered line is written at most `flushMs` after it was logged (a ref'd timer, started by the first line of a
 *   batch), or at once when the batch is full. To an in-process stream (`flushMs` 0: a test's PassThrough, a library
 *   user's own stream), where a write is a function call, the lines of one event-loop turn are written on the next.
 * - **Order.** Lines come out in the order they were logged, across both ways in: winston hands an entry to its
 *   transport synchronously within `log()` (its Transform formats in `_transform` and pipes to a transport whose
 *   `log()` completes at once), so its line reaches this sink before the caller's next line does.
 * - **No loss at shutdown.** `end()` (the logger's `close()`) writes everything; a process that exits without
 *   closing (process.exit, an uncaught exception) still gets its lines out from an 'exit' hook, since writes to
 *   stdout (file or pipe) are synchronous on Linux.
 */
import type { Writable } from 'node:stream';

export interface LineSinkOptions {
  /** The largest write, in bytes, when the lines allow it. */
  maxBatchBytes: number;
  /** The longest a logged line waits before it is written; 0: until the next turn of the event loop. */
  flushMs: number;
  /** Also flush from a process 'exit' hook (for process.stdout and stderr; not for streams a test owns). */
  flushOnExit: boolean;
}

export class LineSink {
  readonly #stream: Writable;
  readonly #max: number;
  readonly #flushMs: number;
  #pending = '';
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #ended = false;
  readonly #onExit = (): void => this.#flush();
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#flush();
  };

  constructor(stream: Writable, opts: LineSinkOptions) {
    this.#stream = stream;
    this.#max = opts.maxBatchBytes;
    this.#flushMs = opts.flushMs;
    if (opts.flushOnExit) process.on('exit', this.#onExit);
  }

  /** One line (without its newline), from the fast path or winston's transport. */
  line(text: string): void {
    if (this.#ended) return;
    const bytes = Buffer.byteLength(text) + 1;
    if (this.#pendingBytes + bytes > this.#max) this.#flush();
    this.#pending += `${text}\n`;
    this.#pendingBytes += bytes;
    this.#timer ??= this.#flushMs > 0 ? setTimeout(this.#onTimer, this.#flushMs) : setImmediate(this.#onTimer);
  }

  /** Writes everything buffered and stops: later lines are dropped. */
  end(): void {
    if (this.#ended) return;
    this.#flush();
    this.#ended = true;
    process.off('exit', this.#onExit);
  }

  #flush(): void {
    if (this.#timer !== undefined) {
      if (this.#flushMs > 0) clearTimeout(this.#timer as NodeJS.Timeout);
      else clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = undefined;
    }
    if (this.#pendingBytes === 0) return;
    const text = this.#pending;
    this.#pending = '';
    this.#pendingBytes = 0;
    this.#stream.write(text);
  }
}
