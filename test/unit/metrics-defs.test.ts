import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_DEFS } from '../../src/observability/metrics.js';

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
});
