/**
 * Spawns the real CLI (`node bin/hopwise.js`, built by `npm test`) and reads its JSON log lines.
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { within } from './raw.js';

export const BIN = fileURLToPath(new URL('../../bin/hopwise.js', import.meta.url));

export interface CliProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the first log line matching the predicate (bounded). */
  waitFor(pred: (l: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (bounded). */
  exited(ms?: number): Promise<number | null>;
}

export interface CliOptions {
  readonly wrapper?: readonly string[];
  /** Node options before the script (`--import ...`). */
  readonly nodeArgs?: readonly string[];
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * `wrapper` runs the CLI under another command (e.g. `strace -f -o FILE`); the child is then that command, started as
 * a process-group leader so that signalling `-child.pid` reaches hopwise too.
 */
export function startCli(args: string[], opts: CliOptions = {}): CliProcess {
  const [command, ...prefix] = opts.wrapper ?? [process.execPath];
  const node = [...(opts.nodeArgs ?? []), BIN, ...args];
  const argv = opts.wrapper === undefined ? node : [...prefix, process.execPath, ...node];
  const env = { ...process.env, ...opts.env };
  const child = spawn(command!, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.wrapper !== undefined, env });
  const lines: Record<string, unknown>[] = [];
  let err = '';
  let pending = '';
  let waiters: (() => void)[] = [];
  const wake = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  child.stdout.on('data', (c: Buffer) => {
    pending += c.toString();
    let i: number;
    while ((i = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ raw: line });
      }
    }
    wake();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  let exitCode: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => {
    // 'close' (not 'exit'): stdio is drained, so every log line has been read.
    child.on('close', (code) => {
      exitCode = code;
      wake();
      resolve(code);
    });
  });
  return {
    child,
    lines,
    stderr: () => err,
    waitFor: (pred, ms = 10_000) =>
      within(ms, (async () => {
        for (;;) {
          const hit = lines.find(pred);
          if (hit !== undefined) return hit;
          if (exitCode !== undefined) throw new Error(`hopwise exited (${String(exitCode)}) first; stderr: ${err}`);
          await new Promise<void>((r) => waiters.push(r));
        }
      })(), 'a hopwise log line'),
    exited: (ms = 10_000) => within(ms, exit, 'hopwise to exit'),
  };
}

/** Parse `http://host:port` from the `listening` line. */
export function portOf(url: unknown): number {
  return Number(new URL(String(url)).port);
}

/** Fake stdout/stderr for calling `main` in-process, collecting what it writes. */
export function captureIo(): { stdout: PassThrough; stderr: PassThrough; out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c: Buffer) => (o += c.toString()));
  stderr.on('data', (c: Buffer) => (e += c.toString()));
  return { stdout, stderr, out: () => o, err: () => e };
}
