/**
 * The access log's buffered fast path with the real CLI (issue 12): every request's line is out when the process
 * exits after SIGTERM (the lines of the last flush interval are still buffered when the signal comes), lines stay
 * whole and in order per connection, to a pipe and to a regular file, and with `--workers 2` the lines of two
 * processes sharing one stdout never interleave mid-line.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, watch } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanup } from '../helpers/cleanup.js';
import { BIN, portOf, startCli } from '../helpers/cli.js';
import { startOrigin } from '../helpers/origin.js';
import { within } from '../helpers/raw.js';

const { track, defer } = useCleanup();

type Line = Record<string, unknown>;

interface Run {
  /** Resolves with the `listening` line. */
  listening(): Promise<Line>;
  /** SIGTERM, then every line written, once the process has exited (bounded). */
  stop(): Promise<{ code: number | null; lines: Line[] }>;
}

function parse(text: string): Line[] {
  return text.split('\n').filter((l) => l !== '').map((l) => {
    try {
      return JSON.parse(l) as Line;
    } catch {
      return { raw: l };
    }
  });
}

/** The CLI with its stdout to a pipe (the test reads it). */
function onPipe(args: string[]): Run {
  const cli = startCli(args);
  defer(() => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  });
  return {
    listening: () => cli.waitFor((l) => l.event === 'listening', 20_000),
    stop: async () => {
      cli.child.kill('SIGTERM');
      const code = await cli.exited(20_000);
      return { code, lines: cli.lines };
    },
  };
}

/** The CLI with its stdout to a regular file, as `hopwise > access.log` runs it. */
function onFile(args: string[]): Run {
  const dir = mkdtempSync(path.join(tmpdir(), 'hopwise-access-'));
  const file = path.join(dir, 'out.log');
  const fd = openSync(file, 'w');
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  defer(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const read = (): Line[] => parse(readFileSync(file, 'utf8'));
  return {
    listening: () =>
      within(20_000, new Promise<Line>((resolve, reject) => {
        const check = (): boolean => {
          const hit = read().find((l) => l.event === 'listening');
          if (hit !== undefined) {
            watcher.close();
            resolve(hit);
          }
          return hit !== undefined;
        };
        const watcher = watch(file, () => check());
        void closed.then((code) => reject(new Error(`hopwise exited (${String(code)}) first; stderr: ${stderr}`)));
        check();
      }), 'the listening line'),
    stop: async () => {
      child.kill('SIGTERM');
      const code = await within(20_000, closed, 'hopwise to exit');
      return { code, lines: read() };
    },
  };
}

/** `n` absolute-form GETs, `concurrency` at a time; `agent: false` opens a connection per request. */
async function load(port: number, targets: string[], concurrency: number, agent: http.Agent | false): Promise<void> {
  let next = 0;
  const one = (target: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: target, agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${String(res.statusCode)}`))));
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < targets.length) await one(targets[next++]!);
    }),
  );
}

const DESTINATIONS = { pipe: onPipe, file: onFile } as const;

describe.each(['pipe', 'file'] as const)('access log to a %s', (destination) => {
  it('every request has its line after SIGTERM, whole and in order per connection', async () => {
    const origin = track(await startOrigin());
    const run = DESTINATIONS[destination](['--port', '0', '--admin-port', '0', '--stats-interval', '0']);
    const port = portOf((await run.listening()).proxy);
    // Long targets: about 300-byte lines, so a pipe's 4096-byte batches split often.
    const targets = Array.from({ length: 400 }, (_, i) => `${origin.url}/${'p'.repeat(150)}/${i}`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    defer(() => agent.destroy());
    await load(port, targets, 8, agent);
    // At once: the last lines are still in the buffer (flushed every 50 ms) when the signal arrives.
    const { code, lines } = await run.stop();
    expect(code).toBe(0);
    expect(lines.filter((l) => 'raw' in l)).toEqual([]);
    const requests = lines.filter((l) => l.event === 'request');
    expect(requests).toHaveLength(targets.length);
    expect(new Set(requests.map((l) => l.target))).toEqual(new Set(targets));
    const lastReq = new Map<unknown, number>();
    for (const l of requests) {
      expect(l.connReq as number).toBeGreaterThan(lastReq.get(l.conn) ?? 0);
      lastReq.set(l.conn, l.connReq as number);
    }
    // The final summary and `stopped` come after every request line.
    expect(lines.at(-1)).toMatchObject({ event: 'stopped' });
  });

  it('--workers 2: two processes on one stdout never interleave mid-line and lose nothing', async () => {
    const origin = track(await startOrigin());
    const run = DESTINATIONS[destination](['--workers', '2', '--port', '0', '--admin-port', '0', '--stats-interval', '0']);
    const port = portOf((await run.listening()).proxy);
    const targets = Array.from({ length: 300 }, (_, i) => `${origin.url}/${'w'.repeat(200)}/${i}`);
    await load(port, targets, 16, false);
    const { code, lines } = await run.stop();
    expect(code).toBe(0);
    expect(lines.filter((l) => 'raw' in l)).toEqual([]);
    const requests = lines.filter((l) => l.event === 'request');
    expect(requests).toHaveLength(targets.length);
    expect(new Set(requests.map((l) => l.target))).toEqual(new Set(targets));
    // One connection per request: a single process would number them 1..300; two number theirs from 1 each.
    expect(new Set(requests.map((l) => l.conn)).size).toBeLessThan(targets.length);
  });
});
