/**
 * `--mode dumb` and `--mode naive` (SPEC §9.1) as the CLI runs them: banner on stderr, one readable log line per step,
 * loopback only, graceful SIGTERM bounded by shutdown.drainTimeout. Signals come from an EventEmitter, not the
 * process, so the test runner is never signalled.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { Config } from '../../src/config/schema.js';
import { NAIVE_BANNER } from '../../src/workshop/naive.js';
import { createLogger } from '../../src/observability/logger.js';
import { DUMB_BANNER } from '../../src/workshop/dumb-proxy.js';
import { ScriptedOrigin } from '../../src/workshop/demos/scripted-origin.js';
import { runWorkshopMode } from '../../src/workshop/run-mode.js';
import { useCleanup } from '../helpers/cleanup.js';
import { RawClient, within } from '../helpers/raw.js';
import { testConfig } from '../helpers/proxy.js';

const { track, defer } = useCleanup();

interface Running {
  readonly port: number;
  readonly logs: Record<string, unknown>[];
  /** Resolves once a log entry satisfies `check` (bounded). */
  waitLog(check: (entry: Record<string, unknown>) => boolean, what: string): Promise<void>;
  readonly stderr: () => string;
  readonly signals: EventEmitter;
  readonly exit: Promise<number>;
}

async function start(config: Config): Promise<Running> {
  const logStream = new PassThrough();
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let pending = '';
  logStream.on('data', (c: Buffer) => {
    pending += c.toString();
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      logs.push(JSON.parse(pending.slice(0, i)) as Record<string, unknown>);
      pending = pending.slice(i + 1);
    }
    for (const wake of [...waiters]) wake();
  });
  const waitLog = (check: (entry: Record<string, unknown>) => boolean, what: string): Promise<void> =>
    within(
      2000,
      new Promise<void>((resolve) => {
        const probe = (): void => {
          if (!logs.some(check)) return;
          waiters.delete(probe);
          resolve();
        };
        waiters.add(probe);
        probe();
      }),
      what,
    );
  const stderrStream = new PassThrough();
  let stderr = '';
  stderrStream.on('data', (c: Buffer) => (stderr += c.toString()));
  const signals = new EventEmitter();
  const logger = createLogger({ level: 'debug', format: 'json', stream: logStream });
  let bound!: (port: number) => void;
  const listening = new Promise<number>((resolve) => (bound = resolve));
  const exit = runWorkshopMode(config, { logger, stderr: stderrStream, env: {}, signals, onListening: (a) => bound(a.port) });
  defer(async () => {
    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGTERM', 'SIGTERM');
    await within(5000, exit, 'workshop mode exit');
  });
  const port = await within(5000, Promise.race([listening, exit.then((code) => Promise.reject(new Error(`exited ${code}`)))]), 'listening');
  return { port, logs, waitLog, stderr: () => stderr, signals, exit };
}

async function origin(idleTimeoutMs: number): Promise<ScriptedOrigin> {
  const o = new ScriptedOrigin({ idleTimeoutMs });
  await o.listen();
  return track(o);
}

const lines = (logs: Record<string, unknown>[], event: string): string[] =>
  logs.filter((l) => l.event === event).map((l) => String(l.text));

describe('--mode dumb', () => {
  it('prints the banner, logs each step readably, and stops on SIGTERM with exit 0', async () => {
    const o = await origin(150);
    const running = await start(testConfig({ mode: 'dumb' }));
    expect(running.stderr()).toContain(DUMB_BANNER);
    expect(running.stderr()).not.toContain('\u001b[');

    const client = track(await RawClient.connect(running.port));
    client.write(`GET http://127.0.0.1:${o.port}/x HTTP/1.0\r\nHost: 127.0.0.1:${o.port}\r\nConnection: Keep-Alive\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(200);
    await client.waitClosed(3000);
    await running.waitLog((l) => l.step === 'client-closed', 'the client-closed log line');

    const dumb = lines(running.logs, 'dumb');
    expect(dumb).toContain(`c1 → GET http://127.0.0.1:${o.port}/x HTTP/1.0 (Connection: Keep-Alive relayed)`);
    expect(dumb.some((l) => /^c1 ← HTTP\/1\.1 200 OK \(Connection: Keep-Alive relayed\); waiting for the origin to close$/.test(l))).toBe(true);
    const closed = dumb.find((l) => l.startsWith('c1 origin closed'));
    expect(closed).toMatch(/, (\d+) ms after the response started: response over/);
    expect(Number(/, (\d+) ms after/.exec(closed ?? '')?.[1])).toBeGreaterThanOrEqual(140);
    expect(running.logs.find((l) => l.event === 'listening')).toMatchObject({ mode: 'dumb', level: 'warn' });

    running.signals.emit('SIGTERM', 'SIGTERM');
    expect(await within(3000, running.exit, 'exit')).toBe(0);
    expect(running.logs.map((l) => l.event)).toEqual(expect.arrayContaining(['shutdown', 'stopped']));
  });

  it('a graceful stop waits for a response in flight no longer than shutdown.drainTimeout', async () => {
    const o = await origin(10_000);
    const running = await start(testConfig({ mode: 'dumb', shutdown: { drainTimeout: 200 } }));
    const client = track(await RawClient.connect(running.port));
    client.write(`GET http://127.0.0.1:${o.port}/held HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n`);
    await client.readResponse();

    const started = performance.now();
    running.signals.emit('SIGTERM', 'SIGTERM');
    expect(await within(3000, running.exit, 'exit')).toBe(0);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
    await client.waitClosed(1000);
    expect(running.logs.some((l) => l.event === 'shutdown-drain-timeout')).toBe(true);
  });

  it('exits 1 when the port is taken', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    defer(() => new Promise<void>((r) => taken.close(() => r())));
    const port = (taken.address() as { port: number }).port;
    const logStream = new PassThrough();
    let log = '';
    logStream.on('data', (c: Buffer) => (log += c.toString()));
    const code = await runWorkshopMode(testConfig({ mode: 'dumb', listen: { port } }), {
      logger: createLogger({ level: 'info', format: 'json', stream: logStream }),
      stderr: new PassThrough(),
      signals: new EventEmitter(),
    });
    expect(code).toBe(1);
    expect(log).toMatch(/"event":"startup-failed".*EADDRINUSE/);
  });
});

describe('--mode naive', () => {
  it('prints its banner and logs each request with its fresh upstream connection', async () => {
    const o = await origin(5000);
    const running = await start(testConfig({ mode: 'naive' }));
    expect(running.stderr()).toContain(NAIVE_BANNER);
    const client = track(await RawClient.connect(running.port));
    client.write(`GET http://127.0.0.1:${o.port}/n HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`);
    expect((await client.readResponse()).status).toBe(200);
    await running.waitLog((l) => l.event === 'naive', 'the naive log line');
    expect(lines(running.logs, 'naive')[0]).toMatch(
      new RegExp(`^c1 GET http://127\\.0\\.0\\.1:${o.port}/n → 200 in [\\d.]+ ms \\(new upstream connection, Connection: close\\)$`),
    );
    expect(o.connections).toBe(1);
  });
});

describe('CLI', () => {
  it.each(['dumb', 'naive'])('--mode %s refuses a non-loopback host with exit 2', async (mode) => {
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await main(['--mode', mode, '--host', '0.0.0.0', '--port', '0'], { env: {}, stdout: new PassThrough(), stderr });
    expect(code).toBe(2);
    expect(err).toMatch(/listen\.host: .*loopback/);
  });
});
