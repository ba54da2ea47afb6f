/**
 * `--mode dumb` and `--mode naive` (SPEC §9.1) as the CLI runs them: banner on stderr, one readable log line per step,
 * loopback only, graceful SIGTERM bounded by shutdown.drainTimeout. Signals come from an EventEmitter, not the
 * process, so the test runner is never signalled.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import { portOf, startCli } from '../helpers/cli.js';
import { RawClient, header, within } from '../helpers/raw.js';
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

/**
 * docs/workshop.md's live chain: `hopwise --mode dumb` as the parent of a real hopwise started with `--upstream-proxy`
 * and a config file holding the rule for loopback, a client sending what `curl -0 -x hopwise` sends. The dumb proxy's
 * log shows hopwise's absolute-form request lines, hopwise's access log names the parent as the route.
 */
describe('the chain client → hopwise → --mode dumb as its parent → origin', () => {
  const IDLE_MS = 600;

  async function chain(extraYaml: (parent: string) => string): Promise<{ dumb: Running; parent: string; originPort: number; hopwise: ReturnType<typeof startCli> }> {
    const o = await origin(IDLE_MS);
    const dumb = await start(testConfig({ mode: 'dumb' }));
    const parent = `http://127.0.0.1:${dumb.port}`;
    const dir = await mkdtemp(join(tmpdir(), 'hopwise-chain-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'chain.yaml');
    await writeFile(file, `upstream:\n  proxyRules:\n    - hosts: [127.0.0.1]\n      proxy: ${parent}\n${extraYaml(parent)}`);
    const hopwise = startCli(['--port', '0', '--no-admin', '--log-format', 'json', '--upstream-proxy', parent, '--config', file]);
    defer(async () => {
      hopwise.child.kill('SIGKILL');
      await hopwise.exited();
    });
    return { dumb, parent, originPort: o.port, hopwise };
  }

  /** What `curl -0 -x http://127.0.0.1:PORT http://127.0.0.1:ORIGIN/a …/b` does: one HTTP/1.0 connection per URL. */
  async function curlLike(port: number, originPort: number): Promise<number[]> {
    const waits: number[] = [];
    for (const path of ['/a', '/b']) {
      const client = track(await RawClient.connect(port));
      const started = performance.now();
      client.write(`GET http://127.0.0.1:${originPort}${path} HTTP/1.0\r\nHost: 127.0.0.1:${originPort}\r\nProxy-Connection: Keep-Alive\r\n\r\n`);
      const res = await client.readResponse({ ms: IDLE_MS * 5 + 3000 });
      waits.push(performance.now() - started);
      expect(res.status).toBe(200);
      expect(header(res, 'connection')).toEqual(['close']);
    }
    return waits;
  }

  const requests = async (hopwise: ReturnType<typeof startCli>): Promise<Record<string, unknown>[]> => {
    await hopwise.waitFor((l) => l.event === 'request' && typeof l.target === 'string' && l.target.endsWith('/b'));
    return hopwise.lines.filter((l) => l.event === 'request');
  };

  it('default pooling: the parent gets absolute-form requests; the reused socket stalls for the idle timeout, then the stale retry answers', async () => {
    const { dumb, parent, originPort, hopwise } = await chain(() => '');
    const port = portOf((await hopwise.waitFor((l) => l.event === 'listening')).proxy);
    const [first = NaN, second = NaN] = await curlLike(port, originPort);
    expect(first).toBeLessThan(IDLE_MS / 2);
    expect(second).toBeGreaterThanOrEqual(IDLE_MS * 0.8);

    const log = await requests(hopwise);
    expect(log.map((l) => [l.target, l.route])).toEqual([
      [`http://127.0.0.1:${originPort}/a`, parent],
      [`http://127.0.0.1:${originPort}/b`, parent],
    ]);
    expect(log.map((l) => l.retried)).toEqual([false, true]);
    expect(hopwise.lines.some((l) => l.event === 'stale-retry' && l.origin === parent)).toBe(true);

    await dumb.waitLog((l) => l.conn === 2 && l.step === 'request-head', "the dumb proxy's second connection");
    const heads = lines(dumb.logs, 'dumb').filter((l) => / → /.test(l));
    expect(heads).toEqual([
      `c1 → GET http://127.0.0.1:${originPort}/a HTTP/1.1 (connection: keep-alive relayed)`,
      `c2 → GET http://127.0.0.1:${originPort}/b HTTP/1.1 (connection: close relayed)`,
    ]);
    expect(lines(dumb.logs, 'dumb').some((l) => l.startsWith('c1 ✗ ignored'))).toBe(true);
  });

  it('maxRequestsPerSocket: 1 for the parent: a new connection per request, Connection: close to the parent, no stall', async () => {
    const { dumb, parent, originPort, hopwise } = await chain((p) => `  origins:\n    - origin: ${p}\n      maxRequestsPerSocket: 1\n`);
    const port = portOf((await hopwise.waitFor((l) => l.event === 'listening')).proxy);
    const waits = await curlLike(port, originPort);
    for (const wait of waits) expect(wait).toBeLessThan(IDLE_MS / 2);

    const log = await requests(hopwise);
    expect(log.map((l) => [l.route, l.reused, l.retried])).toEqual([
      [parent, false, false],
      [parent, false, false],
    ]);
    await dumb.waitLog((l) => l.conn === 2 && l.step === 'client-closed', "the dumb proxy's second connection closed");
    expect(lines(dumb.logs, 'dumb').filter((l) => / → /.test(l))).toEqual([
      `c1 → GET http://127.0.0.1:${originPort}/a HTTP/1.1 (connection: close relayed)`,
      `c2 → GET http://127.0.0.1:${originPort}/b HTTP/1.1 (connection: close relayed)`,
    ]);
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
