/**
 * The container's entrypoint, run for real (there is no container engine here): the Dockerfile's ENTRYPOINT + CMD as
 * written, from the repository root (the image's WORKDIR layout: bin/, dist/, config/, deploy/), with only the ports
 * made ephemeral through the environment (HOPWISE_PORT, HOPWISE_ADMIN_PORT override the file). Then the image's
 * HEALTHCHECK command itself, pointed at that admin port.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { REPO_ROOT, readDockerfile } from '../helpers/deploy-files.js';
import { within } from '../helpers/raw.js';

const { defer } = useCleanup();

/** Starts the entrypoint (killed after the test if still running); resolves with it and its `listening` log entry. */
function startEntrypoint(): Promise<{ child: ChildProcess; listening: Record<string, unknown> }> {
  const { entrypoint, cmd } = readDockerfile();
  const [program, ...args] = [...entrypoint, ...cmd];
  expect(program).toBe('node');
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOPWISE_PORT: '0', HOPWISE_ADMIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  defer(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return within(
    10_000,
    new Promise((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        for (const line of out.split('\n')) {
          if (!line.includes('"listening"')) continue;
          resolve({ child, listening: JSON.parse(line) as Record<string, unknown> });
        }
      });
      child.once('exit', (code) => reject(new Error(`entrypoint exited (${String(code)}): ${err}${out}`)));
    }),
    'the entrypoint to listen',
  );
}

/** Runs the image's HEALTHCHECK command with its admin port replaced by `port`; returns the exit status. */
function healthcheck(port: number): number | null {
  const { healthcheck: command } = readDockerfile();
  const [program, ...args] = command.map((a) => a.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`));
  expect(program).toBe('node');
  return spawnSync(process.execPath, args, { timeout: 10_000 }).status;
}

describe('container entrypoint (Dockerfile ENTRYPOINT + CMD)', () => {
  it('starts the real CLI on every interface with the image configuration; /healthz answers; SIGTERM exits 0', async () => {
    const { child, listening } = await startEntrypoint();
    const proxy = new URL(String(listening.proxy));
    const admin = new URL(String(listening.admin));
    expect(proxy.hostname).toBe('0.0.0.0');
    expect(listening.config).toBe('deploy/hopwise.yaml');
    const res = await fetch(`http://127.0.0.1:${admin.port}/healthz`, { signal: AbortSignal.timeout(5000) });
    expect([res.status, await res.text()]).toEqual([200, 'ok\n']);
    expect(healthcheck(Number(admin.port))).toBe(0);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await within(15_000, exited, 'the entrypoint to exit')).toBe(0);
    // Nothing listens there any more: the same health check now fails.
    expect(healthcheck(Number(admin.port))).toBe(1);
  });
});
