/**
 * Output directories written as a whole (`--slides DIR`, `--svg DIR`): a temporary sibling is made before the demo
 * runs (so a directory that cannot be written fails at once, with its path and the reason), filled after the run, and
 * renamed into place; a run that fails leaves no half-written directory behind.
 */
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** A failure to prepare or write an output; the message names the path and the reason. */
export class OutputError extends Error {}

const reason = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOENT: 'no such directory',
    ENOTDIR: 'a part of the path is not a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
  };
  return (e.code !== undefined ? words[e.code] : undefined) ?? e.message;
};

export class OutputDir {
  readonly path: string;
  readonly #temp: string;

  private constructor(path: string, temp: string) {
    this.path = path;
    this.#temp = temp;
  }

  /** Makes the temporary sibling of `dir`; fails when `dir` is not a directory or its parent cannot be written. */
  static async prepare(dir: string): Promise<OutputDir> {
    const path = resolve(dir);
    const existing = await stat(path).catch(() => undefined);
    if (existing !== undefined && !existing.isDirectory()) throw new OutputError(`cannot write ${dir}: it exists and is not a directory`);
    try {
      return new OutputDir(path, await mkdtemp(join(dirname(path), `.${basename(path)}.tmp-`)));
    } catch (err) {
      throw new OutputError(`cannot write ${dir}: ${reason(err)}`);
    }
  }

  /** Writes `files` and puts the directory in place (replacing an older one as a whole). */
  async commit(files: ReadonlyMap<string, string>): Promise<void> {
    try {
      for (const [name, content] of files) await writeFile(join(this.#temp, name), content, 'utf8');
      const old = `${this.#temp}.old`;
      const replaced = await rename(this.path, old).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return false;
          throw err;
        },
      );
      await rename(this.#temp, this.path);
      if (replaced) await rm(old, { recursive: true, force: true });
    } catch (err) {
      await this.discard();
      throw new OutputError(`cannot write ${this.path}: ${reason(err)}`);
    }
  }

  /** Removes the temporary directory (the run failed, or another output could not be prepared). */
  async discard(): Promise<void> {
    await rm(this.#temp, { recursive: true, force: true });
  }
}
