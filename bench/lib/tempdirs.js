// Temporary directories of one bench run (squid's config and logs); removed on every exit path.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class TempDirs {
  /** @type {Set<string>} */
  #dirs = new Set();

  /**
   * @param {string} prefix
   * @returns {string} a new empty directory under the OS temp dir
   */
  create(prefix) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `hopwise-bench-${prefix}-`));
    this.#dirs.add(dir);
    return dir;
  }

  /** Synchronous, so it also works from a process 'exit' handler. */
  removeAll() {
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    this.#dirs.clear();
  }
}
