/**
 * The access log's fast path (issue 12): EntryJson writes the bytes winston's format writes, and the LineSink keeps
 * lines whole, in order across the fast path and winston, batched across event-loop turns, written within a bounded
 * delay, in larger batches to a regular file, and all of them at close.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EntryJson, FlatJson } from '../../src/observability/log-json.js';
import { createLogger, LOG_FLUSH_MS } from '../../src/observability/logger.js';

const base = { conn: 12, connReq: 3, method: 'GET', target: 'http://o.test/x', status: 200, bytes: 512, ms: 3 };

/** A destination that records each write as it happens (synchronously). */
class Recorder extends Writable {
  readonly writes: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writes.push(chunk.toString());
    cb();
  }
}

/** A destination backed by a regular file, as process.stdout is when redirected to one (it has an `fd`). */
class FileRecorder extends Recorder {
  readonly fd: number;
  constructor(file: string) {
    super();
    this.fd = openSync(file, 'w');
  }
  override _write(chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    writeSync(this.fd, chunk);
    super._write(chunk, enc, cb);
  }
}

const dirs: string[] = [];
const files: FileRecorder[] = [];

/** A FileRecorder on a fresh temp file, closed and removed after the test. */
function fileRecorder(): { out: FileRecorder; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hopwise-log-'));
  dirs.push(dir);
  const file = path.join(dir, 'access.log');
  const out = new FileRecorder(file);
  files.push(out);
  return { out, file };
}

afterEach(() => {
  vi.useRealTimers();
  for (const f of files.splice(0)) closeSync(f.fd);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('EntryJson: the access entry straight from its parts', () => {
  const value = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
  );
  const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['event', 'level', 'timestamp', 'message'].includes(k));

  it('writes what FlatJson (the bytes of winston\'s JSON format) writes for the merged entry', () => {
    const entry = new EntryJson();
    const flat = new FlatJson();
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 14 }), fc.constantFrom('request', 'tunnel'), (fields, event) => {
        const ts = '2026-12-07T04:00:00.000Z';
        const line = entry.line('info', event, ts, fields);
        expect(line).toBe(flat.line({ ...fields, level: 'info', event, timestamp: ts }));
        expect(entry.line('info', event, ts, fields)).toBe(line);
      }),
      { seed: 12, numRuns: 300 },
    );
  });

  it('writes the same for a request record (its own serialiser), values of the wrong type included', () => {
    const entry = new EntryJson();
    const flat = new FlatJson();
    const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });
    const num = fc.oneof(fc.integer(), fc.double());
    const str = fc.string({ unit: 'binary' });
    // Mostly the record's own types; sometimes another type, which must fall back to the generic loop.
    const odd = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 9, arbitrary: a }, { weight: 1, arbitrary: value });
    const record = fc.record({
      bytes: odd(num), conn: odd(num), connReq: odd(num), error: odd(maybe(str)), method: odd(str), ms: odd(num),
      origin: odd(maybe(str)), retried: odd(fc.boolean()), reused: odd(fc.boolean()), socketReq: odd(maybe(num)),
      status: odd(num), target: odd(str), upstream: odd(maybe(num)),
    });
    fc.assert(
      fc.property(record, fc.constantFrom('info', 'warn'), (fields, level) => {
        const ts = '2026-12-07T04:00:00.000Z';
        expect(entry.line(level, 'request', ts, fields)).toBe(flat.line({ ...fields, level, event: 'request', timestamp: ts }));
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  it.each([
    { name: 'a nested value', fields: { a: { b: 1 } } },
    { name: 'a field named level', fields: { level: 'x' } },
    { name: 'a field named message', fields: { message: 'x' } },
  ])('leaves $name to winston', ({ fields }) => {
    expect(new EntryJson().line('info', 'request', 't', fields)).toBeUndefined();
  });
});

describe('LineSink behind createLogger', () => {
  it('writes the access entry with the bytes winston writes for the same entry', async () => {
    const out = new Recorder();
    const logger = createLogger({ level: 'info', format: 'json', stream: out });
    logger.info('request', { ...base, upstream: 4, socketReq: 17, reused: true, origin: undefined });
    await logger.close();
    const line = out.writes.join('').trimEnd();
    const ts = (JSON.parse(line) as { timestamp: string }).timestamp;
    expect(line).toBe(new FlatJson().line({ level: 'info', ...base, upstream: 4, socketReq: 17, reused: true, event: 'request', timestamp: ts }));
  });

  it('keeps the order of fast-path lines and winston entries (the first entry right after creation included)', async () => {
    const out = new Recorder();
    const logger = createLogger({ level: 'info', format: 'json', stream: out });
    logger.info('listening', { nested: { a: 1 } });
    logger.info('request', { ...base, connReq: 1 });
    logger.warn('access-denied', { conn: 1 });
    logger.info('request', { ...base, connReq: 2 });
    logger.info('stats-upstream', { origins: { o: { requests: 2 } } });
    logger.info('request', { ...base, connReq: 3 });
    await logger.close();
    const lines = out.writes.join('').trim().split('\n').map((l) => JSON.parse(l) as { event: string; connReq?: number });
    expect(lines.map((l) => `${l.event}${l.connReq ?? ''}`)).toEqual([
      'listening', 'request1', 'access-denied', 'request2', 'stats-upstream', 'request3',
    ]);
  });

  it('to a file descriptor, joins the lines of several event-loop turns into one write', async () => {
    const { out } = fileRecorder();
    const logger = createLogger({ level: 'info', format: 'json', stream: out });
    for (let i = 0; i < 3; i++) {
      logger.info('request', { ...base, connReq: i });
      await new Promise((r) => setImmediate(r));
    }
    expect(out.writes).toHaveLength(0);
    await logger.close();
    expect(out.writes).toHaveLength(1);
    expect(out.writes[0]!.trim().split('\n')).toHaveLength(3);
  });

  it('to an in-process stream, writes the lines of one event-loop turn on the next', async () => {
    const out = new Recorder();
    const logger = createLogger({ level: 'info', format: 'json', stream: out });
    logger.info('request', { ...base, connReq: 1 });
    logger.info('request', { ...base, connReq: 2 });
    expect(out.writes).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(out.writes).toHaveLength(1);
    expect(out.writes[0]!.trim().split('\n')).toHaveLength(2);
    await logger.close();
  });

  it(`to a file descriptor, writes a line at most ${LOG_FLUSH_MS} ms after it was logged, without close()`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const { out } = fileRecorder();
    const logger = createLogger({ level: 'info', format: 'json', stream: out });
    logger.info('request', { ...base });
    vi.advanceTimersByTime(LOG_FLUSH_MS - 1);
    expect(out.writes).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(out.writes).toHaveLength(1);
    logger.info('request', { ...base, connReq: 4 });
    vi.advanceTimersByTime(LOG_FLUSH_MS);
    expect(out.writes).toHaveLength(2);
    vi.useRealTimers();
    await logger.close();
  });

  it('writes larger batches to a regular file, still whole lines, and everything at close', async () => {
    const { out, file } = fileRecorder();
    const logger = createLogger({ level: 'info', format: 'json', stream: out });
    for (let i = 0; i < 100; i++) logger.info('request', { ...base, connReq: i, target: `http://o.test/${'x'.repeat(100)}` });
    await logger.close();
    // About 25 KB: one write to a file, where a pipe gets writes of at most 4096 bytes (logger.test.ts).
    expect(out.writes).toHaveLength(1);
    expect(Buffer.byteLength(out.writes[0]!)).toBeGreaterThan(4096);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { connReq: number });
    expect(lines.map((l) => l.connReq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
