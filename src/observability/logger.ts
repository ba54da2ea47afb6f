/**
 * The only winston importer (STYLE: one importer per third-party library). Exposes a narrow Logger of named events
 * with structured fields (STYLE rule 7). Pretty, colourised lines on a TTY; one JSON object per line otherwise.
 *
 * The access log writes one entry per request, so this is on the hot path (issue 8: logging at info must not halve
 * throughput). Two things keep it cheap while winston stays the logger: flat entries are serialised by one
 * `JSON.stringify` per field instead of logform's generic stringifier (same bytes: keys sorted, undefined left out),
 * and the transport batches the lines of one event-loop turn into a single write (one syscall instead of one per line).
 */
import type { Writable } from 'node:stream';
import winston from 'winston';
import type TransportStream from 'winston-transport';
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

/** The same `new Date().toISOString()` winston's timestamp format writes, computed once per millisecond. */
class IsoClock {
  #ms = -1;
  #text = '';

  now(): string {
    const ms = Date.now();
    if (ms !== this.#ms) {
      this.#ms = ms;
      this.#text = new Date(ms).toISOString();
    }
    return this.#text;
  }
}

/** Shapes whose sorted key order is remembered; entries come in a handful of shapes (one or two per event). */
const MAX_SHAPES = 64;

/**
 * Writes flat entries (every value a string, number, boolean, null or undefined) as JSON lines byte for byte equal to
 * logform's json format (safe-stable-stringify: keys sorted, undefined values left out, non-finite numbers as null),
 * without its generic machinery: the sorted key order and each key's `"key":` text are worked out once per shape. A
 * shape is looked up by event name and key count, then confirmed by checking that each of its keys is present.
 */
export class FlatJson {
  readonly #shapes = new Map<string, { keys: string[]; labels: string[] }>();

  /** The JSON line, or undefined when some value is nested or exotic and the generic stringifier must do it. */
  line(info: Readonly<Record<string, unknown>>): string | undefined {
    const own = Object.keys(info);
    const signature = `${String(info.event)}|${own.length}`;
    let shape = this.#shapes.get(signature);
    if (shape !== undefined && !shape.keys.every((k) => k in info)) shape = undefined;
    if (shape === undefined) {
      if (this.#shapes.size >= MAX_SHAPES) this.#shapes.clear();
      const keys = own.sort();
      shape = { keys, labels: keys.map((k) => `${JSON.stringify(k)}:`) };
      this.#shapes.set(signature, shape);
    }
    let out = '';
    for (let i = 0; i < shape.keys.length; i++) {
      const v = info[shape.keys[i]!];
      let text: string;
      if (typeof v === 'string') text = JSON.stringify(v);
      else if (typeof v === 'number') text = Number.isFinite(v) ? String(v) : 'null';
      else if (typeof v === 'boolean') text = v ? 'true' : 'false';
      else if (v === null) text = 'null';
      else if (v === undefined) continue;
      else return undefined;
      out += `${out === '' ? '{' : ','}${shape.labels[i]!}${text}`;
    }
    return out === '' ? '{}' : `${out}}`;
  }
}

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

/**
 * Bytes a batch stays within, when its lines allow: PIPE_BUF on Linux, the size up to which a write to a pipe is
 * atomic, so the lines of several processes sharing one stdout pipe (`--workers N`) never interleave mid-line.
 */
const MAX_BATCH_BYTES = 4096;

/**
 * A winston transport writing each formatted line to a stream, the lines of one event-loop turn joined into one
 * write (up to MAX_BATCH_BYTES). Flushed on the next turn, when a batch is full, and when the logger ends
 * (`close()`), so nothing written before `close()` is lost.
 */
// winston.Transport is winston-transport's TransportStream class (winston re-exports it; its typings omit it).
const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;

class BatchedStreamTransport extends Transport {
  readonly #stream: Writable;
  #pending: string[] = [];
  #pendingBytes = 0;
  #scheduled = false;

  constructor(stream: Writable) {
    super();
    this.#stream = stream;
  }

  override log(info: Record<symbol, unknown>, next: () => void): void {
    const line = `${String(info[MESSAGE])}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.#pendingBytes + bytes > MAX_BATCH_BYTES) this.#flush();
    this.#pending.push(line);
    this.#pendingBytes += bytes;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#flush();
      });
    }
    next();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#stream.write(text);
  }

  // winston-transport's Writable calls _final before 'finish': the last batch goes out first.
  override _final(callback: (err?: Error | null) => void): void {
    this.#flush();
    callback();
  }
}

/** Create the process logger. `format: 'auto'` is pretty on a TTY, JSON otherwise. */
export function createLogger(opts: LoggerOptions): Logger {
  const stream = opts.stream ?? process.stdout;
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && tty);
  const transport = new BatchedStreamTransport(stream);
  const w = winston.createLogger({
    level: opts.level,
    levels: LEVELS,
    format: pretty ? prettyFormat(tty) : jsonFormat(),
    transports: [transport],
  });
  const threshold = LEVELS[opts.level];
  let closed = false;
  const log = (level: LogLevel, event: string, fields?: LogFields): void => {
    // Late events (sockets closing after shutdown) are dropped rather than written to an ended stream.
    if (closed || LEVELS[level] > threshold) return;
    w.log({ level, message: event, ...fields });
  };
  return {
    log,
    error: (e, f) => log('error', e, f),
    warn: (e, f) => log('warn', e, f),
    info: (e, f) => log('info', e, f),
    debug: (e, f) => log('debug', e, f),
    enabled: (level) => LEVELS[level] <= threshold,
    close: () =>
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
      }),
  };
}

/** A logger that drops everything (library use without logs). */
export function silentLogger(): Logger {
  const noop = (): void => undefined;
  return {
    log: noop,
    error: noop,
    warn: noop,
    info: noop,
    debug: noop,
    enabled: () => false,
    close: () => Promise.resolve(),
  };
}
