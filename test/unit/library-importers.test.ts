/**
 * One importer per library (STYLE): Node's internal HTTP parser and its fallback only behind the response parser
 * (issue 12), http-proxy-3 only in the workshop's naive mode (issue 17: WebSocket upgrades no longer use it).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Files under src/ that load `name`, by import or by require. */
function importers(name: string): string[] {
  const pattern = new RegExp(`(?:from|import|require\\w*)\\s*\\(?\\s*['"]${name}['"]`);
  return sources(join(ROOT, 'src'))
    .filter((f) => pattern.test(readFileSync(f, 'utf8')))
    .map((f) => relative(ROOT, f))
    .sort();
}

describe('library importers', () => {
  it.each([
    ['_http_common', ['src/upstream/parser-engines.ts']],
    ['http-parser-js', ['src/upstream/parser-js-engine.ts']],
    ['http-proxy-3', ['src/workshop/naive.ts']],
  ])('%s is loaded only by %j', (name, expected) => {
    expect(importers(name)).toEqual(expected);
  });
});
