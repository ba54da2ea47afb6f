/**
 * The only winston importer (STYLE: one importer per third-party library). Exposes a narrow Logger of named events
 * with structured fields (STYLE rule 7). Pretty, colourised lines on a TTY; one JSON object per line otherwise.
 */
import type { Writable } from 'node:stream';
import winston from 'winston';
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

const jsonFormat = winston.format.combine(
  winston.format.timestamp(),
  winston.format((info) => {
    // `event` is the stable name; winston's `message` carries it internally.
    info.event = info.message;
    delete (info as { message?: unknown }).message;
    return info;
  })(),
  winston.format.json(),
);

/** Create the process logger. `format: 'auto'` is pretty on a TTY, JSON otherwise. */
export function createLogger(opts: LoggerOptions): Logger {
  const stream = opts.stream ?? process.stdout;
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && tty);
  const w = winston.createLogger({
    level: opts.level,
    levels: LEVELS,
    format: pretty ? prettyFormat(tty) : jsonFormat,
    transports: [new winston.transports.Stream({ stream })],
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
        w.on('finish', () => resolve());
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
