/**
 * Conditional skips, the one kind this suite allows: a test that needs a system tool runs where the tool is (CI
 * installs every one of them, `.ci/run`) and is otherwise reported as skipped with the reason in its name.
 */
import { it } from 'vitest';

/** `it` when `ok`; else an `it.skip` whose name ends with `— SKIPPED: <why>`. `timeout` as `it`'s own. */
export function skipUnless(ok: boolean, why: string): (name: string, fn: () => Promise<void>, timeout?: number) => void {
  return ok ? (name, fn, timeout) => it(name, fn, timeout) : (name, fn, timeout) => it.skip(`${name} — SKIPPED: ${why}`, fn, timeout);
}
