import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_DEFS, Metrics } from '../../src/observability/metrics.js';
import { Stats } from '../../src/observability/stats.js';

const docs = readFileSync(new URL('../../docs/statistics.md', import.meta.url), 'utf8');

describe('Prometheus metric definitions', () => {
  it.each(METRIC_DEFS.map((d) => [d.name, d] as const))('%s: conventional name, type and documented', (name, def) => {
    expect(name).toMatch(/^hopwise_[a-z0-9_]+$/);
    // Prometheus naming: counters end in _total, and only counters do.
    expect(def.type).toBe(name.endsWith('_total') ? 'counter' : 'gauge');
    expect(def.help.length).toBeGreaterThan(5);
    expect(docs).toContain(`| \`${name}\` | ${def.type} |`);
  });

  it('names are unique', () => {
    const names = METRIC_DEFS.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('a failed CONNECT is its own downstream close reason, apart from tunnel', async () => {
    const stats = new Stats();
    stats.record({ type: 'downstream.close', conn: 1, reason: 'tunnel', requests: 1 });
    stats.record({ type: 'downstream.close', conn: 2, reason: 'tunnel-failed', requests: 1 });
    stats.record({ type: 'downstream.close', conn: 3, reason: 'tunnel-failed', requests: 1 });
    expect(stats.snapshot().downstream.connectionsClosed).toEqual({ tunnel: 1, 'tunnel-failed': 2 });
    const text = await new Metrics(() => stats.snapshot()).render();
    expect(text).toContain('hopwise_downstream_connections_closed_total{reason="tunnel"} 1');
    expect(text).toContain('hopwise_downstream_connections_closed_total{reason="tunnel-failed"} 2');
  });
});
