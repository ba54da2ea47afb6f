import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, FlatJson, formatRequestLine } from '../../src/observability/logger.js';

const base = { conn: 12, connReq: 3, method: 'GET', target: 'http://o.test/x', status: 200, bytes: 512, ms: 3 };

describe('access line (SPEC §8.2)', () => {
  it.each([
    [{ ...base, upstream: 4, socketReq: 17, reused: true }, 'c12#3 -> u4#17 (reused) GET http://o.test/x 200 512B 3ms'],
    [{ ...base, upstream: 4, socketReq: 1, reused: false }, 'c12#3 -> u4#1 (new) GET http://o.test/x 200 512B 3ms'],
    [{ ...base, status: 502, bytes: 80, error: 'UPSTREAM_REFUSED' }, 'c12#3 -> u- GET http://o.test/x 502 80B 3ms UPSTREAM_REFUSED'],
    [{ ...base, upstream: 2, socketReq: 1, reused: false, retried: true }, 'c12#3 -> u2#1 (new) GET http://o.test/x 200 512B 3ms [retried]'],
    [{ ...base, bytes: 3 * 1024 * 1024 }, 'c12#3 -> u- GET http://o.test/x 200 3.0MiB 3ms'],
  ])('%o', (fields, line) => {
    expect(formatRequestLine(fields)).toBe(line);
  });
});

async function capture(format: 'json' | 'pretty', level: 'info' | 'debug', write: (l: ReturnType<typeof createLogger>) => void): Promise<string> {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  const logger = createLogger({ level, format, stream });
  write(logger);
  await logger.close();
  return out;
}

describe('createLogger', () => {
  it('writes one JSON object per line with event and fields', async () => {
    const out = await capture('json', 'info', (l) => l.info('request', { ...base, upstream: 1, socketReq: 1, reused: false }));
    const entry = JSON.parse(out.trim()) as Record<string, unknown>;
    expect(entry).toMatchObject({ event: 'request', level: 'info', conn: 12, status: 200 });
    expect(typeof entry.timestamp).toBe('string');
    expect(entry).not.toHaveProperty('message');
  });

  it('pretty-prints request entries as the access line', async () => {
    const out = await capture('pretty', 'info', (l) => l.info('request', { ...base, upstream: 4, socketReq: 17, reused: true }));
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info c12#3 -> u4#17 \(reused\) GET http:\/\/o\.test\/x 200 512B 3ms\n$/);
  });

  it('drops entries below the level and reports enabled()', async () => {
    let enabled: boolean[] = [];
    const out = await capture('json', 'info', (l) => {
      l.debug('hidden');
      l.warn('shown');
      enabled = [l.enabled('debug'), l.enabled('info'), l.enabled('error')];
    });
    expect(out.trim().split('\n').map((x) => (JSON.parse(x) as { event: string }).event)).toEqual(['shown']);
    expect(enabled).toEqual([false, true, true]);
  });

  it('ignores entries after close instead of throwing', async () => {
    const stream = new PassThrough();
    const logger = createLogger({ level: 'info', format: 'json', stream });
    await logger.close();
    expect(() => logger.info('late')).not.toThrow();
  });
});

describe('FlatJson: the JSON line logform would write, for flat entries (issue 8)', () => {
  it.each([
    { name: 'keys sorted', info: { b: 1, a: 'x', c: true }, line: '{"a":"x","b":1,"c":true}' },
    { name: 'undefined left out, null kept', info: { a: undefined, b: null, c: 0 }, line: '{"b":null,"c":0}' },
    { name: 'strings escaped', info: { t: 'a"b\\c\n\u0001é' }, line: '{"t":"a\\"b\\\\c\\n\\u0001é"}' },
    { name: 'non-finite numbers as null', info: { n: Number.NaN, i: Number.POSITIVE_INFINITY }, line: '{"i":null,"n":null}' },
    { name: 'empty', info: {}, line: '{}' },
    { name: 'a nested object: generic path', info: { a: 1, o: { x: 1 } }, line: undefined },
    { name: 'an array: generic path', info: { a: [1] }, line: undefined },
    { name: 'a bigint: generic path', info: { a: 1n }, line: undefined },
    { name: '-0 and exponents as JSON writes them', info: { z: -0, e: 1e21, f: 1.5e-7 }, line: '{"e":1e+21,"f":1.5e-7,"z":0}' },
    { name: 'same event and key count, other keys', info: { event: 'x', b: 1, c: 2 }, line: '{"b":1,"c":2,"event":"x"}', before: { event: 'x', a: 1, z: 2 } },
  ])('$name', ({ info, line, before }) => {
    const json = new FlatJson();
    if (before !== undefined) json.line(before);
    const out = json.line(info);
    // The second call uses the remembered shape.
    expect(json.line(info)).toBe(out);
    expect(out).toBe(line);
    if (out !== undefined) expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(info)));
  });

  it('writes a request entry and a nested summary entry as parseable lines, in order, batched into one write', async () => {
    const stream = new PassThrough();
    const writes: string[] = [];
    stream.on('data', (c: Buffer) => writes.push(c.toString()));
    const logger = createLogger({ level: 'info', format: 'json', stream });
    logger.info('request', { ...base, upstream: 1, socketReq: 1, reused: false });
    logger.info('stats-upstream', { leg: 'upstream', origins: { 'http://o:80': { requests: 2 } } });
    logger.info('request', { ...base, connReq: 4 });
    await logger.close();
    const lines = writes.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.event)).toEqual(['request', 'stats-upstream', 'request']);
    expect(lines[1]).toMatchObject({ origins: { 'http://o:80': { requests: 2 } } });
    expect(lines[2]).toMatchObject({ connReq: 4, level: 'info' });
    expect(writes).toHaveLength(1);
  });
});

describe('batched writes', () => {
  it('keeps each write within 4096 bytes (PIPE_BUF) and every line whole', async () => {
    const stream = new PassThrough();
    const writes: string[] = [];
    stream.on('data', (c: Buffer) => writes.push(c.toString()));
    const logger = createLogger({ level: 'info', format: 'json', stream });
    for (let i = 0; i < 100; i++) logger.info('request', { ...base, connReq: i, target: `http://o.test/${'x'.repeat(100)}` });
    await logger.close();
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) {
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(4096);
      expect(w.endsWith('\n')).toBe(true);
    }
    const lines = writes.join('').trim().split('\n').map((l) => JSON.parse(l) as { connReq: number });
    expect(lines.map((l) => l.connReq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
