/**
 * `hopwise --mode dumb|naive` (SPEC §9.1): the workshop modes as real proxies a trainer can point curl or a browser
 * at. Prints the warning banner on stderr, binds the configured (loopback-only, enforced by config validation and by
 * each proxy) address, logs one readable line per step, and stops on SIGTERM/SIGINT: gracefully first (bounded by
 * `shutdown.drainTimeout`, since a dumb proxy's exchange lasts until the origin closes), at once on a second signal.
 * The process edge of the workshop: `cli/main.ts` calls {@link runWorkshopMode} and returns its exit code.
 */
import type { EventEmitter } from 'node:events';
import type { Config } from '../config/schema.js';
import { createNaiveProxy, NAIVE_BANNER } from './naive.js';
import type { Logger } from '../observability/logger.js';
import { describeDumbEvent } from './dumb-describe.js';
import { createDumbProxy, DUMB_BANNER } from './dumb-proxy.js';

export interface WorkshopModeDeps {
  readonly logger: Logger;
  readonly stderr: NodeJS.WritableStream;
  readonly env?: NodeJS.ProcessEnv;
  /** Source of SIGTERM/SIGINT; `process` by default (tests pass an EventEmitter). */
  readonly signals?: EventEmitter;
  /** Called once bound, with the address (tests use it to find an ephemeral port). */
  readonly onListening?: (address: { host: string; port: number }) => void;
}

interface Runnable {
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
  destroy(): void;
}

/** Runs dumb or naive mode until a signal; resolves with the exit code (0, or 1 if the address cannot be bound). */
export async function runWorkshopMode(config: Config, deps: WorkshopModeDeps): Promise<number> {
  const { logger } = deps;
  const mode = config.mode;
  if (mode !== 'dumb' && mode !== 'naive') throw new Error(`runWorkshopMode: "${mode}" is not a workshop mode`);
  const colour = (deps.stderr as { isTTY?: boolean }).isTTY === true && (deps.env?.NO_COLOR ?? '') === '';
  const banner = mode === 'dumb' ? DUMB_BANNER : NAIVE_BANNER;
  deps.stderr.write(`${colour ? `\u001b[1;41;97m${banner}\u001b[0m` : banner}\n`);
  const proxy = mode === 'dumb' ? dumbProxy(config, logger) : naiveProxy(config, logger);
  let address: { host: string; port: number };
  try {
    address = await proxy.listen();
  } catch (err) {
    logger.error('startup-failed', { reason: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
    proxy.destroy();
    await logger.close();
    return 1;
  }
  const shown = address.host.includes(':') ? `[${address.host}]` : address.host;
  logger.warn('listening', { mode, proxy: `http://${shown}:${address.port}`, warning: 'deliberately broken proxy, workshop only' });
  deps.onListening?.(address);
  await untilSignal(deps.signals ?? process, logger, proxy, config.shutdown.drainTimeout);
  logger.info('stopped', { mode });
  await logger.close();
  return 0;
}

function dumbProxy(config: Config, logger: Logger): Runnable {
  const responseAt = new Map<number, number>();
  return createDumbProxy({
    host: config.listen.host,
    port: config.listen.port,
    onEvent: (e) => {
      const line = describeDumbEvent(e, responseAt);
      if (line !== undefined && logger.enabled(line.level)) logger.log(line.level, 'dumb', { text: line.text, conn: e.conn, step: e.type });
    },
  });
}

function naiveProxy(config: Config, logger: Logger): Runnable {
  return createNaiveProxy({
    host: config.listen.host,
    port: config.listen.port,
    onRequest: (e) => {
      const outcome = e.error !== undefined ? `failed: ${e.error}` : `${e.status}`;
      const text = `c${e.conn} ${e.method} ${e.target} → ${outcome} in ${e.ms} ms (new upstream connection, Connection: close)`;
      logger.info('naive', { text, conn: e.conn, status: e.status, ms: e.ms });
    },
  });
}

/** First signal: graceful close, bounded by `drainMs`, then destroy; a second signal destroys at once. */
function untilSignal(signals: EventEmitter, logger: Logger, proxy: Runnable, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn('shutdown-forced', { signal });
        proxy.destroy();
        return;
      }
      stopping = true;
      logger.info('shutdown', { signal, graceful: true, drainTimeoutMs: drainMs });
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((done) => {
        timer = setTimeout(() => {
          logger.warn('shutdown-drain-timeout', { drainTimeoutMs: drainMs });
          proxy.destroy();
          done();
        }, drainMs);
      });
      void Promise.race([proxy.close(), deadline]).then(() => {
        clearTimeout(timer);
        signals.off('SIGTERM', onSignal);
        signals.off('SIGINT', onSignal);
        resolve();
      });
    };
    signals.on('SIGTERM', onSignal);
    signals.on('SIGINT', onSignal);
  });
}
