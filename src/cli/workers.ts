/**
 * `--workers N|auto` (issue 8): N worker processes (node:cluster) share the listening port(s); each worker is a
 * complete hopwise with its own upstream pools, connection tracker and statistics (hopwise is stateless between
 * requests, so nothing else needs sharing). This module is the worker side and the IPC messages; primary.ts is the
 * supervisor (admin listener with the aggregate, summaries, graceful drain, crash replacement).
 */
import cluster from 'node:cluster';
import os from 'node:os';
import type { Config } from '../config/schema.js';
import { ListenError } from '../downstream/listen.js';
import type { ListenFailure } from '../downstream/listen.js';
import type { Logger } from '../observability/logger.js';
import { loggerFrom } from '../observability/logger.js';
import type { StatsSnapshot } from '../observability/stats.js';
import { createProxy } from '../proxy.js';
import type { ListenInfo } from '../proxy.js';

/** Messages between the primary and a worker (the `hopwise` field tells them from other IPC traffic). */
export type ToWorker = { hopwise: 'stats'; seq: number } | { hopwise: 'shutdown' } | { hopwise: 'destroy' };
export type FromWorker =
  | { hopwise: 'listening'; info: ListenInfo }
  | { hopwise: 'startup-failed'; reason: string; listen?: ListenFailure }
  | { hopwise: 'stats'; seq: number; snapshot: StatsSnapshot }
  | { hopwise: 'final'; snapshot: StatsSnapshot };

/** `workers` as a process count: `auto` is one per CPU this process may use. */
export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? Math.max(1, os.availableParallelism()) : setting;
}

/** True in a process started by {@link runPrimary}. */
export function isWorkerProcess(): boolean {
  return cluster.isWorker;
}

/** Log events only the primary writes in cluster mode: a worker's own summaries would be partial duplicates. */
const PRIMARY_ONLY = new Set(['stats-downstream', 'stats-upstream']);

function withoutSummaries(logger: Logger): Logger {
  const log: Logger['log'] = (level, event, fields) => {
    if (!PRIMARY_ONLY.has(event)) logger.log(level, event, fields);
  };
  return loggerFrom(log, (level) => logger.enabled(level), () => logger.close());
}

/** Sends to the primary; resolves once sent (or at once when the channel is gone). */
function send(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || process.send === undefined) {
      resolve();
      return;
    }
    process.send(message, undefined, undefined, () => resolve());
  });
}

/**
 * A worker: the proxy listeners (shared through the primary), no admin listener and no periodic summary of its own;
 * it answers stats requests and drains when the primary says so, or when the primary is gone. Signals are the
 * primary's business: a terminal's Ctrl-C reaches the whole process group, and the primary decides.
 */
export async function runWorker(config: Config, logger: Logger): Promise<number> {
  const workerConfig: Config = { ...config, admin: { ...config.admin, enabled: false }, stats: { ...config.stats, interval: 0 } };
  const proxy = createProxy(workerConfig, { logger: withoutSummaries(logger) });
  const ignore = (): void => undefined;
  process.on('SIGTERM', ignore);
  process.on('SIGINT', ignore);
  let info: ListenInfo;
  try {
    info = await proxy.listen();
  } catch (err) {
    const listen = err instanceof ListenError ? { listen: err.toJSON() } : {};
    await send({ hopwise: 'startup-failed', reason: (err as Error).message, ...listen });
    await proxy.destroy();
    await logger.close();
    process.disconnect?.();
    return 1;
  }
  logger.debug('worker-listening', { worker: cluster.worker?.id, pid: process.pid });
  await new Promise<void>((resolve) => {
    let stopping: Promise<void> | undefined;
    const stop = (graceful: boolean): void => {
      const closing = graceful ? proxy.close() : proxy.destroy();
      // The final snapshot goes to the primary before the worker leaves, so its last requests count (SPEC §8.3).
      stopping ??= closing.then(() => send({ hopwise: 'final', snapshot: proxy.stats() })).then(resolve);
    };
    process.on('message', (m: ToWorker) => {
      if (m?.hopwise === 'stats') void send({ hopwise: 'stats', seq: m.seq, snapshot: proxy.stats() });
      else if (m?.hopwise === 'shutdown') stop(true);
      else if (m?.hopwise === 'destroy') stop(false);
    });
    // The primary is gone (killed): drain and leave rather than serve on unsupervised.
    process.once('disconnect', () => stop(true));
    void send({ hopwise: 'listening', info });
  });
  process.off('SIGTERM', ignore);
  process.off('SIGINT', ignore);
  await logger.close();
  // The IPC channel would keep this process alive.
  if (process.connected) process.disconnect();
  return 0;
}
