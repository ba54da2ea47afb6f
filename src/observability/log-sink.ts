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
 * - **Bounded delay.** A buffered line is written at most `flushMs` after it was logged (a ref'd timer, started by the
 *   first line of a batch), or at once when the batch is full.
 * - **Order.** Lines come out in the order they were logged, across both ways in. winston's object-mode streams can
 *   hold entries back (the very first one goes out a tick later), so each winston entry takes a ticket when logged
 *   and a fast-path line logged while tickets are outstanding waits behind them.
 * - **No loss at shutdown.** `end()` (the logger's `close()`) writes everything; a process that exits without
 *   closing (process.exit, an uncaught exception) still gets its lines out from an 'exit' hook, since writes to
 *   stdout (file or pipe) are synchronous on Linux.
 */
import type { Writable } from 'node:stream';

export interface LineSinkOptions {
  /** The largest write, in bytes, when the lines allow it. */
  maxBatchBytes: number;
  /** The longest a logged line waits before it is written. */
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
  #timer: NodeJS.Timeout | undefined;
  /** winston entries logged, and delivered to this sink by winston's transport (see Order above). */
  #ticketsIssued = 0;
  #ticketsDelivered = 0;
  /** Fast-path lines waiting for the winston entries logged before them: [tickets issued when logged, line]. */
  #waiting: Array<[number, string]> = [];
  #ended = false;
  readonly #onExit = (): void => this.#drainAndFlush();

  constructor(stream: Writable, opts: LineSinkOptions) {
    this.#stream = stream;
    this.#max = opts.maxBatchBytes;
    this.#flushMs = opts.flushMs;
    if (opts.flushOnExit) process.on('exit', this.#onExit);
  }

  /** A line from the fast path: written in turn, after any winston entry logged before it. */
  line(text: string): void {
    if (this.#ended) return;
    if (this.#ticketsDelivered === this.#ticketsIssued) this.#append(text);
    else this.#waiting.push([this.#ticketsIssued, text]);
  }

  /** A winston entry is being logged; its line will come through {@link delivered}. */
  ticket(): void {
    this.#ticketsIssued += 1;
  }

  /** winston's transport hands over the line of the oldest outstanding ticket. */
  delivered(text: string): void {
    if (this.#ended) return;
    this.#ticketsDelivered += 1;
    // Fast-path lines logged before this entry (fewer tickets issued then than this one's number) go first.
    this.#release(this.#ticketsDelivered - 1);
    this.#append(text);
    if (this.#ticketsDelivered >= this.#ticketsIssued) this.#release(Infinity);
  }

  /** Writes everything buffered, waiting lines included, and stops: later lines are dropped. */
  end(): void {
    if (this.#ended) return;
    this.#drainAndFlush();
    this.#ended = true;
    process.off('exit', this.#onExit);
  }

  #release(upTo: number): void {
    let i = 0;
    while (i < this.#waiting.length && this.#waiting[i]![0] <= upTo) this.#append(this.#waiting[i++]![1]);
    if (i > 0) this.#waiting.splice(0, i);
  }

  #append(text: string): void {
    const bytes = Buffer.byteLength(text) + 1;
    if (this.#pendingBytes + bytes > this.#max) this.#flush();
    this.#pending += `${text}\n`;
    this.#pendingBytes += bytes;
    this.#timer ??= setTimeout(() => this.#flush(), this.#flushMs);
  }

  #drainAndFlush(): void {
    this.#release(Infinity);
    this.#flush();
  }

  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#pendingBytes === 0) return;
    const text = this.#pending;
    this.#pending = '';
    this.#pendingBytes = 0;
    this.#stream.write(text);
  }
}
