/**
 * Turns zod's issues into messages a person can act on: `dotted.path: expected <what>, got <value>` (STYLE rule 6).
 * Pure. The expectation is read from the schema itself (type, bounds, enum options, unit metadata), so it cannot
 * drift from what the schema enforces.
 */
import { z } from 'zod';
import type { ConfigIssue } from './validate.js';

type Segment = PropertyKey;

/** Renders a zod path as `a.b[2].c`. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** One readable issue per problem in `error` (one per unknown key), given the `input` that was validated. */
export function describeZodError(error: z.ZodError, input: unknown, root: z.ZodType): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(objectShape(schemaAt(root, issue.path)) ?? {});
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: unknownKey(key, known) }));
    }
    const path = formatPath(issue.path);
    const got = describeValue(valueAt(input, issue.path));
    // Refinements and patterns carry the schema author's own wording (zod's generic ones start "Invalid"); everything
    // else is derived from the schema.
    const authored = (issue.code === 'custom' || issue.code === 'invalid_format') && !/^Invalid/.test(issue.message);
    const expected = authored ? issue.message.replace(/^expected /, '') : expectation(schemaAt(root, issue.path));
    return [{ path, message: `expected ${expected}, ${got}` }];
  });
}

/** A noun phrase for what `schema` accepts, e.g. `a non-negative integer (milliseconds)`. */
export function expectation(schema: z.ZodType | undefined): string {
  if (schema === undefined) return 'a valid value';
  if (schema instanceof z.ZodNullable) return `${expectation(schema.unwrap() as z.ZodType)} or null`;
  if (schema instanceof z.ZodOptional) return expectation(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodNumber) return withUnit(numberPhrase(schema), schema);
  if (schema instanceof z.ZodString) return (schema.minLength ?? 0) > 0 ? 'a non-empty string' : 'a string';
  if (schema instanceof z.ZodBoolean) return 'true or false';
  if (schema instanceof z.ZodEnum) return `one of ${schema.options.map((o) => JSON.stringify(o)).join(', ')}`;
  if (schema instanceof z.ZodLiteral) return schema.values.size === 1 ? JSON.stringify(schema.value) : 'a fixed value';
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).map(expectation).join(' or ');
  if (schema instanceof z.ZodArray) return 'an array';
  if (schema instanceof z.ZodObject) return `an object with keys ${Object.keys(schema.shape).join(', ')}`;
  return 'a valid value';
}

function numberPhrase(n: z.ZodNumber): string {
  const min = n.minValue;
  const max = n.maxValue !== null && n.maxValue < Number.MAX_SAFE_INTEGER ? n.maxValue : null;
  const kind = n.isInt ? 'integer' : 'number';
  if (min !== null && max !== null) return `${n.isInt ? 'an' : 'a'} ${kind} from ${min} to ${max}`;
  if (min === 0) return `a non-negative ${kind}`;
  if (min === 1 && n.isInt) return 'a positive integer';
  if (min !== null) return `${n.isInt ? 'an' : 'a'} ${kind} ≥ ${min}`;
  return n.isInt ? 'an integer' : 'a number';
}

function withUnit(phrase: string, schema: z.ZodType): string {
  const unit = schema.meta()?.['unit'];
  return typeof unit === 'string' ? `${phrase} (${unit})` : phrase;
}

/** The sub-schema that validates the value at `path`, or undefined when the path leaves the schema. */
export function schemaAt(root: z.ZodType, path: readonly Segment[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = root;
  for (const seg of path) {
    current = unwrap(current);
    if (current instanceof z.ZodObject && typeof seg === 'string') {
      current = current.shape[seg] as z.ZodType | undefined;
    } else if (current instanceof z.ZodArray && typeof seg === 'number') current = current.element as z.ZodType;
    else return undefined;
  }
  return current;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  while (s instanceof z.ZodNullable || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s;
}

function objectShape(schema: z.ZodType | undefined): Record<string, unknown> | undefined {
  const s = unwrap(schema);
  return s instanceof z.ZodObject ? s.shape : undefined;
}

function valueAt(input: unknown, path: readonly Segment[]): unknown {
  let current = input;
  for (const seg of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[seg];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'but it is missing';
  if (Array.isArray(value)) return 'got an array';
  if (value !== null && typeof value === 'object') return 'got an object';
  const text = JSON.stringify(value);
  return `got ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

function unknownKey(key: string, known: readonly string[]): string {
  const near = known.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k, key) <= 2);
  if (near !== undefined) return `unknown key; did you mean "${near}"?`;
  return known.length > 0 ? `unknown key (expected one of: ${known.join(', ')})` : 'unknown key';
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
