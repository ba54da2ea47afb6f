/**
 * Pure helpers for layering configuration sources (defaults ← file ← flags/env) and sealing the result.
 * No I/O: `load.ts` reads the sources and calls these.
 */

/**
 * A partial view of `T` for override layers: every object key is optional, but arrays are whole values (an override
 * replaces an array, it never patches elements), and `undefined` means "not given".
 */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | undefined }
    : T;

/** True for `{}`-style objects (JSON/YAML mappings), false for arrays, null and class instances. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Layers `over` onto `base` and returns a new object; neither input is mutated.
 * Objects merge key by key; arrays and scalars replace; an `undefined` value in `over` is skipped ("not given").
 * Keys are defined as own data properties, so a `__proto__` key in a user file stays an ordinary (unknown, hence
 * rejected) key instead of changing the result's prototype.
 */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(base)) defineOwn(out, key, value);
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    defineOwn(out, key, isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value);
  }
  return out;
}

/** Freezes `value` and everything reachable from it; returns it typed as given. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
