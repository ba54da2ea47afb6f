/**
 * test/helpers/cleanup.ts: closers run last-first, each awaited, all of them even when some throw, the first error
 * rethrown, the list emptied; and useCleanup's afterEach really runs between tests.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCleanup, useCleanup } from '../helpers/cleanup.js';

/** A closer that records its name when it finishes, after `ticks` macrotask turns (so awaiting it matters). */
function closer(log: string[], name: string, ticks = 0): () => Promise<void> {
  return async () => {
    for (let i = 0; i < ticks; i++) await new Promise<void>((r) => setImmediate(r));
    log.push(name);
  };
}

describe('createCleanup', () => {
  it('runs closers last registered first, awaiting each before the next', async () => {
    const log: string[] = [];
    const c = createCleanup();
    c.defer(closer(log, 'first', 0));
    c.track({ close: closer(log, 'second', 3) });
    c.defer(closer(log, 'third', 5));
    c.track({ close: () => void log.push('fourth (sync)') });
    await c.run();
    expect(log).toEqual(['fourth (sync)', 'third', 'second', 'first']);
  });

  it('track returns the resource it was given', () => {
    const c = createCleanup();
    const resource = { close: (): void => undefined, port: 1 };
    expect(c.track(resource)).toBe(resource);
  });

  it('runs every closer when some throw or reject, then rethrows the first error', async () => {
    const log: string[] = [];
    const first = new Error('first failure');
    const second = new Error('second failure');
    const c = createCleanup();
    c.defer(closer(log, 'a'));
    c.defer(() => Promise.reject(second));
    c.defer(closer(log, 'b', 2));
    c.track({
      close: () => {
        throw first;
      },
    });
    c.defer(closer(log, 'c'));
    const outcome = await c.run().then(
      () => 'resolved',
      (err: unknown) => err,
    );
    expect(outcome).toBe(first);
    expect(log).toEqual(['c', 'b', 'a']);
  });

  it('empties the list: a second run closes nothing again', async () => {
    const log: string[] = [];
    const c = createCleanup();
    c.defer(() => {
      log.push('once');
      throw new Error('boom');
    });
    await expect(c.run()).rejects.toThrow('boom');
    await c.run();
    expect(log).toEqual(['once']);
  });

  it('also runs closers registered while it runs', async () => {
    const log: string[] = [];
    const c = createCleanup();
    c.defer(closer(log, 'outer-first'));
    c.defer(() => {
      log.push('outer-last');
      c.defer(closer(log, 'added during run'));
    });
    await c.run();
    expect(log).toEqual(['outer-last', 'added during run', 'outer-first']);
  });

  it('does not accept a net.Server, whose close() returns before it has closed (a type error, checked by tsc)', () => {
    const c = createCleanup();
    // Never listening and never run: only the type check matters here.
    // @ts-expect-error -- net.Server#close returns the server, not void or a promise.
    c.track(net.createServer());
  });
});

describe('useCleanup', () => {
  const { track, defer } = useCleanup();
  const log: string[] = [];

  it('registers closers in one test', () => {
    track({ close: closer(log, 'tracked', 1) });
    defer(closer(log, 'deferred'));
    expect(log).toEqual([]);
  });

  it('has run them, last first, by the next test', () => {
    expect(log).toEqual(['deferred', 'tracked']);
  });
});
