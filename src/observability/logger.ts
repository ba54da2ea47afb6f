/**
 * The only winston importer (STYLE: one importer per third-party library). Exposes a narrow Logger of named events
 * with structured fields (STYLE rule 7). Pretty, colourised lines on a TTY; one JSON object per line otherwise.
 *
 * The access log writes one entry per request, so this is on the hot path (issue 12: the access log on must cost at
 * most 10 % of throughput). winston stays the application log; in JSON the access entries (`request`, `tunnel`) skip
 * it: EntryJson writes their line straight from the fields (the same bytes winston's format writes: keys sorted,
 * undefined left out) into the LineSink, which batches lines from both ways into few writes (log-sink.ts).
 */
import { fstatSync } from 'node:fs';
import type { Writable } from 'node:stream';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { EntryJson, FlatJson, IsoClock } from './log-json.js';
import { LineSink } from './log-sink.js';
import { formatSummary } from './summary-format.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger: `event` is a stable name, fields are data (never pre-formatted strings). */
export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  debug(event: string, fields?: LogFields): void;
  /** Cheap check so callers build fields only when the entry will be written (STYLE rule 12). */
  enabled(level: LogLevel): boolean;
  /** Flush and release the transport. */
  close(): Promise<void>;
}

export interface LoggerOptions {
  level: LogLevel;
  format: 'auto' | 'pretty' | 'json';
  /** Destination; stdout by default. Tests pass a PassThrough to read entries back. */
  stream?: Writable;
}

const LEVELS: Readonly<Record<LogLevel, number>> = { error: 0, warn: 1, info: 2, debug: 3 };

function bytes(n: unknown): string {
  if (typeof n !== 'number') return '-';
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}KiB`;
  return `${(n / 1024 / 1024).toFixed(1)}MiB`;
}

/** `c12#3 -> u4#17 (reused) GET http://... 200 512B 3ms` (issue 4, SPEC §8.2). */
export function formatRequestLine(f: LogFields): string {
  const up = typeof f.upstream === 'number' ? `u${f.upstream}#${String(f.socketReq)}` : 'u-';
  const reused = typeof f.upstream !== 'number' ? '' : f.reused === true ? ' (reused)' : ' (new)';
  const err = typeof f.error === 'string' ? ` ${f.error}` : '';
  const retried = f.retried === true ? ' [retried]' : '';
  return `c${String(f.conn)}#${String(f.connReq)} -> ${up}${reused} ${String(f.method)} ${String(f.target)} ${String(f.status)} ${bytes(f.bytes)} ${String(f.ms)}ms${err}${retried}`;
}

function formatFields(f: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined) continue;
    parts.push(`${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  }
  return parts.join(' ');
}

const SKIP = new Set(['level', 'message', 'timestamp']);

function prettyFormat(colour: boolean): winston.Logform.Format {
  const fmts = [
    winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
    ...(colour ? [winston.format.colorize({ level: true })] : []),
    winston.format.printf((info) => {
      const rest: Record<string, unknown> = {};
      for (const k of Object.keys(info)) if (!SKIP.has(k)) rest[k] = info[k];
      const event = String(info.message);
      const body =
        event === 'request' ? formatRequestLine(rest) : (formatSummary(event, rest) ?? `${event} ${formatFields(rest)}`);
      return `${String(info.timestamp)} ${info.level} ${body.trimEnd()}`;
    }),
  ];
  return winston.format.combine(...fmts);
}

/** winston's (triple-beam's) key for the formatted line. */
const MESSAGE = Symbol.for('message');

function jsonFormat(): winston.Logform.Format {
  const clock = new IsoClock();
  const flat = new FlatJson();
  const generic = winston.format.json();
  return winston.format((info) => {
    info.timestamp = clock.now();
    // `event` is the stable name; winston's `message` carries it internally.
    info.event = info.message;
    delete (info as { message?: unknown }).message;
    const line = flat.line(info);
    if (line === undefined) return generic.transform(info, (generic as { options?: object }).options ?? {});
    (info as Record<symbol, unknown>)[MESSAGE] = line;
    return info;
  })();
}

/** PIPE_BUF on Linux: a write to a pipe up to this size is atomic (see log-sink.ts). */
const PIPE_BATCH_BYTES = 4096;
/** A regular file takes each write(2) whole, so its batches may be larger (fewer writes per request). */
const FILE_BATCH_BYTES = 64 * 1024;
/** The longest a logged line waits in the buffer when the log goes to a file descriptor (README "Logs"). */
export const LOG_FLUSH_MS = 50;
/** Entries that may take the fast path (one per request or tunnel: the access log, SPEC §8.2). */
const ACCESS_EVENTS = new Set(['request', 'tunnel']);

// winston.Transport is winston-transport's TransportStream class (winston re-exports it; its typings omit it).
const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;

/** winston's end of the sink: hands each formatted line over; the last ones are written before 'finish'. */
class SinkTransport extends Transport {
  readonly #sink: LineSink;

  constructor(sink: LineSink) {
    super();
    this.#sink = sink;
  }

  override log(info: Record<symbol, unknown>, next: () => void): void {
    this.#sink.line(String(info[MESSAGE]));
    next();
  }

  // winston-transport's Writable calls _final before 'finish': everything buffered goes out first.
  override _final(callback: (err?: Error | null) => void): void {
    this.#sink.end();
    callback();
  }
}

/** What a stream writes to: a file descriptor (a regular file, or a pipe or terminal) or nothing (in-process). */
function destinationOf(stream: Writable): 'file' | 'fd' | 'in-process' {
  const fd = (stream as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return 'in-process';
  try {
    return fstatSync(fd).isFile() ? 'file' : 'fd';
  } catch {
    return 'fd';
  }
}

/**
 * The sink for a destination (log-sink.ts): to a file descriptor, batches held up to LOG_FLUSH_MS, larger to a regular
 * file; to an in-process stream, the lines of one event-loop turn; an 'exit' hook for the process's own stdio.
 */
function sinkFor(stream: Writable): LineSink {
  const destination = destinationOf(stream);
  return new LineSink(stream, {
    maxBatchBytes: destination === 'file' ? FILE_BATCH_BYTES : PIPE_BATCH_BYTES,
    flushMs: destination === 'in-process' ? 0 : LOG_FLUSH_MS,
    flushOnExit: stream === process.stdout || stream === process.stderr,
  });
}

/**
 * Create the process logger. `format: 'auto'` is pretty on a TTY, JSON otherwise. In JSON, access-log entries take
 * the fast path: serialised by EntryJson straight into the sink, without winston's streams (issue 12); everything
 * else goes through winston. Both end in one LineSink, which keeps their order.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const stream = opts.stream ?? process.stdout;
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && tty);
  const sink = sinkFor(stream);
  const transport = new SinkTransport(sink);
  const w = winston.createLogger({
    level: opts.level,
    levels: LEVELS,
    format: pretty ? prettyFormat(tty) : jsonFormat(),
    transports: [transport],
  });
  const fast = pretty ? undefined : { clock: new IsoClock(), json: new EntryJson() };
  const threshold = LEVELS[opts.level];
  let closed = false;
  const log = (level: LogLevel, event: string, fields?: LogFields): void => {
    // Late events (sockets closing after shutdown) are dropped rather than written to an ended stream.
    if (closed || LEVELS[level] > threshold) return;
    if (fast !== undefined && fields !== undefined && ACCESS_EVENTS.has(event)) {
      const line = fast.json.line(level, event, fast.clock.now(), fields);
      if (line !== undefined) {
        sink.line(line);
        return;
      }
    }
    w.log({ level, message: event, ...fields });
  };
  return loggerFrom(log, (level) => LEVELS[level] <= threshold, () =>
      new Promise<void>((resolve) => {
        if (closed) {
          resolve();
          return;
        }
        closed = true;
        // Wait for the transport, not the logger: winston's logger can emit 'finish' before its transports have
        // written the last entries (and the process may exit right after close()).
        transport.once('finish', () => resolve());
        w.end();
      }));
}

/** A logger that drops everything (library use without logs). */
export function silentLogger(): Logger {
  return loggerFrom(() => undefined, () => false, () => Promise.resolve());
}

/** A Logger around one `log` function: the level methods are shorthands for it. */
export function loggerFrom(log: Logger['log'], enabled: Logger['enabled'], close: Logger['close']): Logger {
  return {
    log,
    error: (e, f) => log('error', e, f),
    warn: (e, f) => log('warn', e, f),
    info: (e, f) => log('info', e, f),
    debug: (e, f) => log('debug', e, f),
    enabled,
    close,
  };
}
