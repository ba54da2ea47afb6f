import { describe, expect, it } from 'vitest';
import { formatStatsTable, renderTable, statsUrl } from '../../src/cli/stats-command.js';
import { Stats } from '../../src/observability/stats.js';
import type { StatsSnapshot } from '../../src/observability/stats.js';
import type { TelemetryEvent } from '../../src/observability/events.js';

const A = 'http://a.test:80';
const B = 'http://b.test:8080';

function snapshot(events: TelemetryEvent[]): StatsSnapshot {
  const stats = new Stats();
  for (const e of events) stats.record(e);
  return stats.snapshot();
}

describe('hopwise stats: pure parts', () => {
  it.each([
    { admin: 'http://127.0.0.1:8081', url: 'http://127.0.0.1:8081/stats' },
    { admin: 'http://127.0.0.1:8081/', url: 'http://127.0.0.1:8081/stats' },
    { admin: 'http://host:9/admin/', url: 'http://host:9/admin/stats' },
    { admin: 'http://host:9/admin', url: 'http://host:9/admin/stats' },
  ])('statsUrl($admin) = $url', ({ admin, url }) => {
    expect(statsUrl(admin)).toBe(url);
  });

  it.each([
    { rows: [['a', '1'], ['bbb', '22']], align: ['left', 'right'] as const, out: ['a     1', 'bbb  22'] },
    { rows: [['x', 'long text'], ['yy', 'z']], align: ['right', 'left'] as const, out: [' x  long text', 'yy  z'] },
  ])('renderTable pads columns: $out', ({ rows, align, out }) => {
    expect(renderTable(rows, align)).toEqual(out);
  });

  it.each([
    {
      name: 'idle proxy',
      events: [],
      has: ['Downstream (clients → proxy)', '  connections  0 accepted · 0 open · closed: none', '  no origin contacted yet', 'Tunnels  0 opened'],
      hasNot: ['ORIGIN'],
    },
    {
      name: 'one origin: no total row',
      events: [
        { type: 'downstream.open', conn: 1, remote: '127.0.0.1' },
        { type: 'upstream.open', origin: A, socket: 1, connectMs: 1 },
        { type: 'upstream.request', origin: A, socket: 1, reused: false },
        { type: 'upstream.request', origin: A, socket: 1, reused: true },
        { type: 'upstream.close', origin: A, socket: 1, reason: 'idle-timeout', requests: 2 },
      ],
      has: [
        '  ORIGIN            SOCKETS  OPEN  IDLE  REQUESTS  REUSED  RATIO  RETRIES  ERRORS  CLOSED',
        '  http://a.test:80        1     0     0         2       1  50.0%        0       0  idle-timeout 1',
      ],
      hasNot: ['total'],
    },
    {
      name: 'two origins: a total row; a failed connect is one error',
      events: [
        { type: 'upstream.open', origin: A, socket: 1, connectMs: 1 },
        { type: 'upstream.request', origin: A, socket: 1, reused: false },
        { type: 'upstream.connect-error', origin: B, code: 'ECONNREFUSED' },
        { type: 'upstream.error', origin: B, code: 'UPSTREAM_REFUSED' },
      ],
      has: [
        '  http://a.test:80          1     1     0         1       0   0.0%        0       0  none',
        '  http://b.test:8080        0     0     0         0       0   0.0%        0       1  none',
        '  total                     1     1     0         1       0   0.0%        0       1  none',
      ],
      hasNot: [],
    },
  ] satisfies { name: string; events: TelemetryEvent[]; has: string[]; hasNot: string[] }[])('table: $name', ({ events, has, hasNot }) => {
    const lines = formatStatsTable(snapshot(events), 'http://x/stats').split('\n');
    expect(lines[0]).toMatch(/^hopwise stats from http:\/\/x\/stats · up \d+s$/);
    for (const l of has) expect(lines.some((x) => x.startsWith(l)), `missing line starting ${JSON.stringify(l)} in\n${lines.join('\n')}`).toBe(true);
    for (const l of hasNot) expect(lines.some((x) => x.includes(l))).toBe(false);
  });
});
