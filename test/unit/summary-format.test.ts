import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.js';
import { Stats } from '../../src/observability/stats.js';
import { formatDownstreamSummary, formatReasons, formatSummary, formatUpstreamSummary } from '../../src/observability/summary-format.js';
import { summaryFields } from '../../src/observability/summary.js';

const O = 'http://127.0.0.1:9000';

describe('summary pretty format', () => {
  it.each([
    { reasons: {}, text: 'none' },
    { reasons: { shutdown: 0 }, text: 'none' },
    { reasons: { 'idle-timeout': 1, 'client-closed': 7 }, text: 'client-closed 7, idle-timeout 1' },
    { reasons: { b: 2, a: 2 }, text: 'a 2, b 2' },
    { reasons: undefined, text: 'none' },
  ])('reasons $reasons → $text', ({ reasons, text }) => {
    expect(formatReasons(reasons)).toBe(text);
  });

  it.each([
    {
      fields: { connectionsAccepted: 10, connectionsActive: 2, requests: 100, requestsPerConnection: { mean: 10, max: 12 }, closed: { 'client-closed': 8 } },
      text: '10 connections (2 active) · 100 requests · 10 req/conn (max 12) · closed: client-closed 8',
    },
    {
      fields: { connectionsAccepted: 1, connectionsActive: 1, requests: 1, requestsPerConnection: { mean: 1, max: 1 }, closed: {} },
      text: '1 connection (1 active) · 1 request · 1 req/conn (max 1) · closed: none',
    },
    {
      fields: {
        connectionsAccepted: 3,
        connectionsActive: 1,
        requests: 3,
        requestsPerConnection: { mean: 1, max: 1 },
        closed: { tunnel: 2, 'tunnel-failed': 1 },
        tunnels: { opened: 2, active: 1, bytesIn: 1536, bytesOut: 20480, closed: { 'client-closed': 1 } },
      },
      text:
        '3 connections (1 active) · 3 requests · 1 req/conn (max 1) · closed: tunnel 2, tunnel-failed 1' +
        '\n    tunnels: 2 opened (1 active) · 1.5 KiB in, 20.0 KiB out · closed: client-closed 1',
    },
  ])('downstream: $text', ({ fields, text }) => {
    expect(formatDownstreamSummary(fields)).toBe(text);
  });

  it.each([
    {
      name: 'no origins',
      fields: { socketsCreated: 0, socketsActive: 0, requests: 0, reusedRequests: 0, reuseRatio: 0, origins: {} },
      text: '0 origins · 0 sockets created (0 open) · 0 requests · 0 reused (0.0%)',
    },
    {
      name: 'two origins, busiest first',
      fields: {
        socketsCreated: 5,
        socketsActive: 3,
        requests: 101,
        reusedRequests: 96,
        reuseRatio: 0.95,
        origins: {
          'http://b:80': { socketsCreated: 1, socketsActive: 0, socketsIdle: 0, requests: 1, reusedRequests: 0, reuseRatio: 0, closed: { 'origin-asked': 1 } },
          [O]: { socketsCreated: 4, socketsActive: 3, socketsIdle: 2, requests: 100, reusedRequests: 96, reuseRatio: 0.96, closed: { 'idle-timeout': 1 } },
        },
      },
      text:
        '2 origins · 5 sockets created (3 open) · 101 requests · 96 reused (95.0%)' +
        `\n    ${O}  4 sockets (3 active, 2 idle) · 100 requests · 96 reused (96.0%) · closed: idle-timeout 1` +
        '\n    http://b:80  1 socket (0 active, 0 idle) · 1 request · 0 reused (0.0%) · closed: origin-asked 1',
    },
  ])('upstream: $name', ({ fields, text }) => {
    expect(formatUpstreamSummary(fields)).toBe(text);
  });

  it.each([
    { event: 'stats-downstream', final: true, prefix: 'stats-downstream (final) ' },
    { event: 'stats-upstream', final: false, prefix: 'stats-upstream 0 origins' },
    { event: 'request', final: false, prefix: undefined },
  ])('formatSummary($event, final $final)', ({ event, final, prefix }) => {
    const out = formatSummary(event, { final });
    if (prefix === undefined) expect(out).toBeUndefined();
    else expect(out?.startsWith(prefix)).toBe(true);
  });

  it('the summary entries carry the tunnels (opened, active, bytes, close reasons)', () => {
    const stats = new Stats();
    stats.record({ type: 'tunnel.open', tunnel: 1, conn: 1, kind: 'connect', target: 'example.com:443' });
    stats.record({ type: 'tunnel.close', tunnel: 1, kind: 'connect', target: 'example.com:443', reason: 'client-closed', bytesIn: 10, bytesOut: 20, ms: 5 });
    stats.record({ type: 'tunnel.open', tunnel: 2, conn: 2, kind: 'upgrade', target: 'http://example.com' });
    expect(summaryFields(stats.snapshot(), true).downstream.tunnels).toEqual({
      opened: 2,
      active: 1,
      bytesIn: 10,
      bytesOut: 20,
      closed: { 'client-closed': 1 },
    });
  });

  it('the pretty logger renders summary entries built from a real snapshot', async () => {
    const stats = new Stats();
    stats.record({ type: 'upstream.open', origin: O, socket: 1, connectMs: 1 });
    stats.record({ type: 'upstream.request', origin: O, socket: 1, reused: false });
    const f = summaryFields(stats.snapshot(), false);
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (c: Buffer) => (out += c.toString()));
    const logger = createLogger({ level: 'info', format: 'pretty', stream });
    logger.info('stats-downstream', f.downstream);
    logger.info('stats-upstream', f.upstream);
    await logger.close();
    expect(out).toMatch(/ info stats-downstream 0 connections \(0 active\) · 0 requests/);
    expect(out).toMatch(/ info stats-upstream 1 origin · 1 socket created \(1 open\) · 1 request · 0 reused \(0\.0%\)\n {4}http:\/\/127\.0\.0\.1:9000 {2}1 socket \(1 active, 0 idle\)/);
  });
});
