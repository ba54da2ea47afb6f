/**
 * llhttp-only head bookkeeping for `response-parser.ts` (placeholder: passes through; duplicate Content-Length
 * recovery and the `HTTP/` protocol check land next).
 */
import type { RawCallbacks, RawEngine, RawError } from './parser-engines.js';

export class HeadTracker implements RawEngine {
  readonly #engine: RawEngine;

  constructor(open: (cb: RawCallbacks) => RawEngine, cb: RawCallbacks) {
    this.#engine = open(cb);
  }

  execute(chunk: Buffer): number | RawError {
    return this.#engine.execute(chunk);
  }

  finish(): RawError | undefined {
    return this.#engine.finish();
  }

  close(): void {
    this.#engine.close();
  }

  /** Restore the names of duplicate Content-Length lines renamed for the engine; an error when they differed. */
  restoreDuplicates(_fields: string[]): { code: string; reason: string } | undefined {
    return undefined;
  }
}
