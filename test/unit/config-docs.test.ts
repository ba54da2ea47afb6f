import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import defaultsJson from '../../config/default.json' with { type: 'json' };
import { configSchema } from '../../src/config/schema.js';

const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const defaults = defaultsJson as Record<string, unknown>;

/** Rows of the "Every key" table: key → default cell. */
const table = new Map(
  doc
    .slice(doc.indexOf('## Every key'))
    .split('\n')
    .flatMap((line) => {
      const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
      const key = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
      return key !== undefined ? [[key, cells[3] ?? ''] as const] : [];
    }),
);

/** Leaf keys of default.json (arrays and null are leaves); `$…` keys are metadata. */
function defaultLeaves(node: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(node).flatMap(([k, v]) => {
    if (prefix === '' && k.startsWith('$')) return [];
    const key = prefix + k;
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? defaultLeaves(v as Record<string, unknown>, `${key}.`)
      : [key];
  });
}

/** Every key the schema declares, with `[]` for array elements: `routes`, `routes[].listen.host`, … */
function schemaKeys(schema: z.ZodType, prefix = ''): string[] {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
  if (s instanceof z.ZodObject) {
    return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([k, child]) => schemaKeys(child, `${prefix}${k}.`));
  }
  const key = prefix.slice(0, -1);
  if (s instanceof z.ZodArray && s.element instanceof z.ZodObject) return [key, ...schemaKeys(s.element, `${key}[].`)];
  return [key];
}

describe('docs/configuration.md', () => {
  it.each(defaultLeaves(defaults))('documents %s from config/default.json', (key) => {
    expect(table.has(key)).toBe(true);
  });

  it.each(schemaKeys(configSchema))('documents schema key %s', (key) => {
    expect(table.has(key)).toBe(true);
  });

  it('documents no key the schema lacks', () => {
    const known = new Set(schemaKeys(configSchema));
    expect([...table.keys()].filter((k) => !known.has(k))).toEqual([]);
  });

  it.each(defaultLeaves(defaults))('shows the real default of %s', (key) => {
    const value = key.split('.').reduce<unknown>((node, k) => (node as Record<string, unknown>)[k], defaults);
    const cell = /^`(.*)`$/.exec(table.get(key) ?? '')?.[1];
    expect(cell === undefined ? undefined : JSON.parse(cell)).toEqual(value);
  });
});
