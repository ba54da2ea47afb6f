/**
 * Per-test cleanup for tests that open real sockets: register what a test starts as it starts it, and one afterEach
 * closes it all, last registered first (a client before its proxy, a proxy before its origin), whatever the test did.
 *
 *   const { track, defer } = useCleanup();
 *   const origin = track(await startOrigin());
 *   const proxy = track(await startProxy());
 *   defer(() => agent.destroy());
 */
import { afterEach } from 'vitest';

/**
 * Anything with a `close()` that is done when it returns or resolves: TestOrigin, TestProxy, RawOrigin,
 * ScriptedOrigin, RawClient. (A `net.Server` does not qualify: its close() returns before the server has closed.)
 */
export interface Closable {
  close(): void | Promise<void>;
}

/** Function properties, not methods: `const { track, defer } = useCleanup()` is safe. */
export interface Cleanup {
  /** Close `resource` after the test; returns it, so a start call can be wrapped in place. */
  readonly track: <T extends Closable>(resource: T) => T;
  /** Run `fn` after the test (for what has no `close()` of that shape: sockets, agents, servers, child processes). */
  readonly defer: (fn: () => unknown) => void;
  /**
   * Run and forget every registered closer, last registered first, awaiting each; every closer runs even when an
   * earlier one throws, and the first error is rethrown once they all have. Closers registered meanwhile run too.
   */
  readonly run: () => Promise<void>;
}

/** A cleanup list not tied to any hook (see `useCleanup`). */
export function createCleanup(): Cleanup {
  const closers: (() => unknown)[] = [];
  const defer = (fn: () => unknown): void => {
    closers.push(fn);
  };
  return {
    track: (resource) => {
      defer(() => resource.close());
      return resource;
    },
    defer,
    run: async () => {
      const errors: unknown[] = [];
      for (let fn = closers.pop(); fn !== undefined; fn = closers.pop()) {
        try {
          await fn();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}

/** A cleanup list run by an afterEach registered where this is called: the file, or the enclosing describe. */
export function useCleanup(): Cleanup {
  const cleanup = createCleanup();
  afterEach(() => cleanup.run());
  return cleanup;
}
