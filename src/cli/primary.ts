/**
 * The primary of `--workers N` (issue 8): forks the workers (workers.ts), runs the admin listener with the aggregate
 * of their statistics (asked for over IPC when /stats or /metrics is read), logs the summaries, turns SIGTERM/SIGINT
 * into a graceful drain of every worker (SPEC §10.1) and replaces a worker that crashes, a bounded number of times.
 * It proxies nothing itself.
 *
 * A single state machine (STYLE rule 10):
 *   starting (every worker listening, else exit 1) → running (crash → replace) → draining (every worker exited) → done.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type { Server } from 'node:http';
import type { Config } from '../config/schema.js';
import { resolvedAdminPort } from '../config/validate.js';
import { ListenError, closeServer, listenOn } from '../downstream/listen.js';
import type { Address } from '../downstream/listen.js';
import { isLoopbackHost } from '../policy/address.js';
import { createAdminServer } from '../observability/admin.js';
import { aggregateStats } from '../observability/aggregate.js';
import type { AggregatedSnapshot, WorkerSnapshot } from '../observability/aggregate.js';
import type { Logger } from '../observability/logger.js';
import type { StatsSnapshot } from '../observability/stats.js';
import { StatsSummary } from '../observability/summary.js';
import type { ListenInfo } from '../proxy.js';
import { logListening, reportStartupFailure, untilSignal } from './process.js';
import type { FromWorker, ToWorker } from './workers.js';

/** Restarts allowed within RESTART_WINDOW_MS before the primary stops replacing crashed workers. */
export const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** How long every worker gets to start listening. */
const STARTUP_TIMEOUT_MS = 30_000;
/** How long a worker gets to answer a stats request; a silent worker counts with its last snapshot. */
const STATS_TIMEOUT_MS = 1_000;
/** Grace beyond shutdown.drainTimeout before a worker that has not exited is killed. */
const EXIT_GRACE_MS = 5_000;

/** What the primary knows about one live worker. */
interface Tracked {
  readonly worker: Worker;
  last: StatsSnapshot | undefined;
}

/** The primary: forks, supervises and aggregates; see the file header. */
class Primary {
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #count: number;
  readonly #startedAt = new Date().toISOString();
  readonly #live = new Map<number, Tracked>();
  readonly #exited: WorkerSnapshot[] = [];
  readonly #restarts: number[] = [];
  readonly #pending = new Map<number, () => void>();
  #seq = 0;
  #started = false;
  #stopping = false;
  #onAllExited: (() => void) | undefined;
  #onStartupExit: ((why: string) => void) | undefined;
  readonly #onFatal: (reason: string) => void;

  /** `onFatal` is called when no worker is left and none may be restarted. */
  constructor(config: Config, count: number, logger: Logger, onFatal: (reason: string) => void) {
    this.#config = config;
    this.#count = count;
    this.#logger = logger;
    this.#onFatal = onFatal;
  }

  /** Starts every worker; resolves with the first worker's addresses, or rejects when one cannot listen. */
  start(): Promise<ListenInfo> {
    cluster.on('exit', (worker, code, signal) => this.#onExit(worker, code, signal));
    cluster.on('message', (worker, m: FromWorker) => this.#onMessage(worker, m));
    return new Promise((resolve, reject) => {
      let listening = 0;
      const fail = (why: string | Error): void => {
        clearTimeout(timer);
        cluster.off('message', onMessage);
        this.#onStartupExit = undefined;
        reject(typeof why === 'string' ? new Error(why) : why);
      };
      const timer = setTimeout(() => fail(`workers not listening within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
      const onMessage = (_worker: Worker, m: FromWorker): void => {
        if (m?.hopwise === 'startup-failed') fail(m.listen === undefined ? m.reason : ListenError.from(m.listen));
        else if (m?.hopwise === 'listening' && ++listening === this.#count) {
          clearTimeout(timer);
          cluster.off('message', onMessage);
          this.#onStartupExit = undefined;
          this.#started = true;
          resolve(m.info);
        }
      };
      this.#onStartupExit = (why) => fail(why);
      cluster.on('message', onMessage);
      for (let i = 0; i < this.#count; i++) this.#fork();
    });
  }

  #fork(): void {
    const worker = cluster.fork();
    this.#live.set(worker.id, { worker, last: undefined });
  }

  #onMessage(worker: Worker, m: FromWorker): void {
    const tracked = this.#live.get(worker.id);
    if (tracked === undefined) return;
    if (m?.hopwise === 'stats') {
      tracked.last = m.snapshot;
      this.#pending.get(m.seq)?.();
    } else if (m?.hopwise === 'final') {
      tracked.last = m.snapshot;
    }
  }

  #onExit(worker: Worker, code: number | null, signal: string | null): void {
    const tracked = this.#live.get(worker.id);
    this.#live.delete(worker.id);
    if (tracked?.last !== undefined) {
      this.#exited.push({ id: worker.id, pid: worker.process.pid ?? 0, state: 'exited', snapshot: tracked.last });
    }
    if (this.#stopping) {
      if (this.#live.size === 0) this.#onAllExited?.();
      return;
    }
    if (!this.#started) {
      this.#onStartupExit?.(`worker ${worker.id} exited during startup (${signal ?? `code ${String(code)}`})`);
      return;
    }
    this.#logger.error('worker-exited', { worker: worker.id, pid: worker.process.pid, code, signal });
    const now = Date.now();
    while (this.#restarts.length > 0 && now - this.#restarts[0]! > RESTART_WINDOW_MS) this.#restarts.shift();
    if (this.#restarts.length < MAX_RESTARTS) {
      this.#restarts.push(now);
      this.#fork();
      this.#logger.warn('worker-replaced', { worker: worker.id, restartsInWindow: this.#restarts.length });
    } else {
      this.#logger.error('worker-restarts-exhausted', { max: MAX_RESTARTS, windowMs: RESTART_WINDOW_MS, live: this.#live.size });
      if (this.#live.size === 0) this.#onFatal('every worker exited and the restart budget is spent');
    }
  }

  /** Asks every live worker for a fresh snapshot; bounded, a silent worker keeps its last one. */
  async refresh(): Promise<void> {
    await Promise.all(
      [...this.#live.values()].map(
        (t) =>
          new Promise<void>((resolve) => {
            const seq = ++this.#seq;
            const done = (): void => {
              clearTimeout(timer);
              this.#pending.delete(seq);
              resolve();
            };
            const timer = setTimeout(done, STATS_TIMEOUT_MS);
            this.#pending.set(seq, done);
            try {
              t.worker.send({ hopwise: 'stats', seq } satisfies ToWorker);
            } catch {
              done();
            }
          }),
      ),
    );
  }

  /** The aggregate of every worker's latest snapshot (issue 8: counters summed, ratios recomputed). */
  stats(): AggregatedSnapshot {
    const live: WorkerSnapshot[] = [];
    for (const [id, t] of this.#live) {
      if (t.last !== undefined) live.push({ id, pid: t.worker.process.pid ?? 0, state: 'running', snapshot: t.last });
    }
    return aggregateStats([...live, ...this.#exited], this.#startedAt, this.#config.stats.maxOrigins);
  }

  /** Drains every worker (graceful) or destroys them; resolves when all have exited (bounded). */
  async stop(graceful: boolean): Promise<void> {
    this.#stopping = true;
    const all = new Promise<void>((resolve) => {
      this.#onAllExited = resolve;
      if (this.#live.size === 0) resolve();
    });
    for (const t of this.#live.values()) {
      try {
        t.worker.send({ hopwise: graceful ? 'shutdown' : 'destroy' } satisfies ToWorker);
      } catch {
        t.worker.process.kill('SIGKILL');
      }
    }
    const deadline = setTimeout(() => {
      for (const t of this.#live.values()) t.worker.process.kill('SIGKILL');
    }, this.#config.shutdown.drainTimeout + EXIT_GRACE_MS);
    await all;
    clearTimeout(deadline);
  }

  /** Startup failed: the workers have served nothing, so they are killed at once. */
  async abort(): Promise<void> {
    this.#stopping = true;
    const all = new Promise<void>((resolve) => {
      this.#onAllExited = resolve;
      if (this.#live.size === 0) resolve();
    });
    for (const t of this.#live.values()) t.worker.process.kill('SIGKILL');
    await all;
  }
}

/** The admin listener with the aggregate of every worker, or undefined when `admin.enabled` is off. */
async function startAdmin(config: Config, primary: Primary): Promise<{ server: Server; address: Address } | undefined> {
  if (!config.admin.enabled) return undefined;
  const server = createAdminServer(
    { stats: () => primary.stats(), refresh: () => primary.refresh() },
    { loopbackOnly: isLoopbackHost(config.admin.host) },
  );
  return { server, address: await listenOn(server, config.admin.host, resolvedAdminPort(config), 'admin') };
}

/** Where the process writes the `hopwise:` messages a user reads. */
export interface PrimaryIO {
  readonly stderr: NodeJS.WritableStream;
}

/**
 * The primary of `--workers N`: forks N workers, serves the aggregated admin endpoints, logs the summaries, and on
 * SIGTERM/SIGINT drains every worker, logs the final aggregated summary and resolves 0 (1 when startup failed or
 * every worker kept crashing). A second signal destroys the workers at once.
 */
export async function runPrimary(config: Config, count: number, logger: Logger, configFile: string | undefined, io: PrimaryIO): Promise<number> {
  let failed: (reason: string) => void = () => undefined;
  const primary = new Primary(config, count, logger, (reason) => {
    logger.error('workers-failed', { reason });
    failed(reason);
  });
  let info: ListenInfo;
  let admin: Awaited<ReturnType<typeof startAdmin>>;
  try {
    info = await primary.start();
    admin = await startAdmin(config, primary);
  } catch (err) {
    reportStartupFailure(io.stderr, logger, config, err);
    await primary.abort();
    await logger.close();
    return 1;
  }
  logListening(logger, config, { ...info, admin: admin?.address }, configFile, { workers: count });
  const summary = new StatsSummary(() => primary.stats(), logger, 0);
  const intervalMs = Math.round(config.stats.interval * 1000);
  const ticker = intervalMs > 0 ? setInterval(() => void primary.refresh().then(() => summary.log(false)), intervalMs) : undefined;
  ticker?.unref();
  const loop = untilSignal(logger, { close: () => primary.stop(true), destroy: () => primary.stop(false) }, { workers: count });
  failed = loop.fail;
  const outcome = await loop.done;
  clearInterval(ticker);
  if (admin !== undefined) await closeServer(admin.server, true);
  // Every worker has exited and sent its final snapshot: this summary has the final numbers (SPEC §8.3).
  summary.finish();
  logger.info('stopped', { uptimeSeconds: primary.stats().uptimeSeconds, workers: count });
  await logger.close();
  return outcome.failed === undefined ? 0 : 1;
}
