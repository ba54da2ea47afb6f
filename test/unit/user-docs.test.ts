/**
 * The documents users read (README.md and docs/*.md, except the maintainers' docs/architecture.md) cite no SPEC
 * section and no issue number: users have neither. RFC sections are public and fine.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const docs = [
  'README.md',
  ...readdirSync(new URL('docs/', root))
    .filter((f) => f.endsWith('.md') && f !== 'architecture.md')
    .map((f) => `docs/${f}`),
];

describe('user-facing documents', () => {
  it.each(docs)('%s cites no SPEC section or issue number', (file) => {
    const text = readFileSync(new URL(file, root), 'utf8');
    const hits = text.split('\n').filter((line) => /SPEC\s*§|SPEC \d|\bissues? \d+\b/.test(line));
    expect(hits).toEqual([]);
  });
});
