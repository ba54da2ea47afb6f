import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, formatRequestLine } from '../../src/observability/logger.js';

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
