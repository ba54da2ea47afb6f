/**
 * The workshop (demos, the SVG renderer, dumb and naive modes) is loaded only when a workshop command or mode asks for
 * it (cli/main.ts imports it dynamically): a production run never loads it. A module hook records every module the
 * real CLI process resolves.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { startCli } from '../helpers/cli.js';

const { defer } = useCleanup();
const REGISTER = new URL('../fixtures/record-imports/register.mjs', import.meta.url).href;

function recorder(): { env: NodeJS.ProcessEnv; loaded: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-imports-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'imports.txt');
  const loaded = (): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('/dist/'));
  return { env: { RECORD_IMPORTS_FILE: file }, loaded };
}

describe('the workshop loads lazily', () => {
  it('a proxy run (start, listen, SIGTERM) loads no workshop module', async () => {
    const rec = recorder();
    const cli = startCli(['--port', '0', '--admin-port', '0', '--log-format', 'json'], { nodeArgs: ['--import', REGISTER], env: rec.env });
    defer(() => {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    });
    await cli.waitFor((l) => l.event === 'listening', 15_000);
    cli.child.kill('SIGTERM');
    expect(await cli.exited(15_000)).toBe(0);
    const loaded = rec.loaded();
    // The recorder works: the proxy and the process edge were seen...
    expect(loaded.some((u) => u.endsWith('/dist/proxy.js'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('/dist/cli/process.js'))).toBe(true);
    // ...and nothing of the workshop.
    expect(loaded.filter((u) => u.includes('/dist/workshop/'))).toEqual([]);
  });

  it('`--help` loads no workshop module either, and a workshop mode does load it', async () => {
    const help = recorder();
    const cli = startCli(['--help'], { nodeArgs: ['--import', REGISTER], env: help.env });
    expect(await cli.exited(15_000)).toBe(0);
    expect(help.loaded().filter((u) => u.includes('/dist/workshop/'))).toEqual([]);
    const dumb = recorder();
    const run = startCli(['--mode', 'dumb', '--port', '0', '--no-admin', '--log-format', 'json'], { nodeArgs: ['--import', REGISTER], env: dumb.env });
    defer(() => {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    });
    await run.waitFor((l) => l.event === 'listening', 15_000);
    run.child.kill('SIGTERM');
    expect(await run.exited(15_000)).toBe(0);
    expect(dumb.loaded().some((u) => u.includes('/dist/workshop/'))).toBe(true);
  });
});
