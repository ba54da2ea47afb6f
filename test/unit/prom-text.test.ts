import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../helpers/prom-text.js';

// The metrics test relies on this parser rejecting malformed expositions, so it is tested on its own.
describe('Prometheus text parser (test helper)', () => {
  it('parses families, HELP/TYPE, labels with escapes, special values and timestamps', () => {
    const text = [
      '# HELP a_total Things. Backslash \\\\ and newline \\n escaped.',
      '# TYPE a_total counter',
      'a_total{origin="http://x:80",reason="q\\"uote"} 3',
      'a_total{origin="http://y:80",} 4 1700000000000',
      '# a free comment',
      '',
      '# TYPE g gauge',
      'g NaN',
      'g{x="1"} +Inf',
      'g{x="2"} -1.5e-3',
      '# TYPE h histogram',
      'h_bucket{le="1"} 1',
      'h_bucket{le="+Inf"} 2',
      'h_sum 3',
      'h_count 2',
      '',
    ].join('\n');
    const f = parsePrometheusText(text);
    expect([...f.keys()]).toEqual(['a_total', 'g', 'h']);
    expect(f.get('a_total')!.help).toBe('Things. Backslash \\ and newline \n escaped.');
    expect(f.get('a_total')!.type).toBe('counter');
    expect(sampleValue(f, 'a_total', { origin: 'http://x:80', reason: 'q"uote' })).toBe(3);
    expect(f.get('a_total')!.samples[1]!.timestamp).toBe(1_700_000_000_000);
    expect(sampleValue(f, 'g')).toBeNaN();
    expect(sampleValue(f, 'g', { x: '1' })).toBe(Infinity);
    expect(sampleValue(f, 'g', { x: '2' })).toBe(-0.0015);
    expect(f.get('h')!.samples).toHaveLength(4);
  });

  it.each([
    { name: 'bad metric name', text: '1abc 1\n' },
    { name: 'bad label name', text: 'a{1x="y"} 1\n' },
    { name: 'unquoted label value', text: 'a{x=y} 1\n' },
    { name: 'unterminated label value', text: 'a{x="y} 1\n' },
    { name: 'bad escape', text: 'a{x="\\t"} 1\n' },
    { name: 'duplicate label', text: 'a{x="1",x="2"} 1\n' },
    { name: 'missing value', text: 'a{x="1"}\n' },
    { name: 'non-numeric value', text: 'a 1,5\n' },
    { name: 'trailing garbage', text: 'a 1 2 3\n' },
    { name: 'float timestamp', text: 'a 1 2.5\n' },
    { name: 'unknown type', text: '# TYPE a countr\na 1\n' },
    { name: 'TYPE after samples', text: 'a 1\n# TYPE a counter\n' },
    { name: 'second HELP', text: '# HELP a x\n# HELP a y\na 1\n' },
    { name: 'family not contiguous', text: 'a 1\nb 1\na{x="1"} 2\n' },
    { name: 'duplicate series', text: 'a{x="1"} 1\na{x="1"} 2\n' },
    { name: 'no final newline', text: 'a 1' },
  ])('rejects: $name', ({ text }) => {
    expect(() => parsePrometheusText(text)).toThrow(/line \d+/);
  });
});
