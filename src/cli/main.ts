/**
 * The process edge: argv → parsed command → config → proxy; signals and exit codes (SPEC §10.1, §10.2).
 * Exit codes: 0 normal (including after a graceful SIGTERM/SIGINT), 1 runtime failure (e.g. port in use),
 * 2 bad usage or bad configuration.
 */
import type { Writable } from 'node:stream';
import { ConfigError, loadConfig, packageVersion } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import type { Logger } from '../observability/logger.js';
import { createProxy } from '../proxy.js';
import type { ListenInfo } from '../proxy.js';
import { runDemoCommand } from '../workshop/demo-command.js';
import { runWorkshopMode } from '../workshop/run-mode.js';
import { parseArgs } from './args.js';
import { hashPasswordCommand } from './hash-password.js';
import type { RunArgs } from './args.js';
import { statsCommand } from './stats-command.js';
import { flowsCommand, followUntilSigint } from './flows-command.js';
import { runPrimary } from './primary.js';
import { isWorkerProcess, runWorker, workerCount } from './workers.js';

export interface MainIO {
  readonly env: NodeJS.ProcessEnv;
  /** Input for `hash-password`; process.stdin when absent. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

const defaultIO: MainIO = { env: process.env, stdout: process.stdout, stderr: process.stderr };

/** Run the CLI; resolves with the process exit code. */
export async function main(argv: readonly string[], io: MainIO = defaultIO): Promise<number> {
  const parsed = parseArgs(argv, io.env, { columns: (io.stdout as { columns?: number }).columns });
  switch (parsed.command) {
    case 'print':
      io.stdout.write(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
      return 0;
    case 'error':
      io.stderr.write(`hopwise: ${parsed.message}\n`);
      return parsed.exitCode;
    case 'demo':
      return runDemoCommand(parsed, io);
    case 'run':
      return run(parsed, io);
    case 'stats':
      return statsCommand(parsed, io);
    case 'flows':
      return followUntilSigint((signal) => flowsCommand(parsed, io, { signal }));
    case 'hash-password':
      return hashPasswordCommand({ stdin: io.stdin ?? process.stdin, stdout: io.stdout, stderr: io.stderr });
  }
}

function loadOrReport(args: RunArgs, io: MainIO): Config | undefined {
  try {
    return loadConfig({ file: args.configFile, overrides: args.overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`hopwise: ${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}

async function run(args: RunArgs, io: MainIO): Promise<number> {
  const config = loadOrReport(args, io);
  if (config === undefined) return 2;
  const logger = createLogger({ level: config.log.level, format: config.log.format, stream: io.stdout as Writable });
  if (config.mode === 'dumb' || config.mode === 'naive') return runWorkshopMode(config, { logger, stderr: io.stderr, env: io.env });
  // --workers N (issue 8): this process supervises N workers, or is one of them.
  if (isWorkerProcess()) return runWorker(config, logger);
  const workers = workerCount(config.workers);
  if (workers > 1) return runPrimary(config, workers, logger, args.configFile);
  const proxy = createProxy(config, { logger, version: packageVersion() });
  let info: ListenInfo;
  try {
    info = await proxy.listen();
  } catch (err) {
    logger.error('startup-failed', { reason: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
    await proxy.destroy();
    await logger.close();
    return 1;
  }
  logger.info('listening', {
    mode: config.mode,
    proxy: `http://${hostPort(info.proxy)}`,
    admin: info.admin === undefined ? 'disabled' : `http://${hostPort(info.admin)}`,
    ...(config.mode === 'gateway' ? { target: config.target } : {}),
    ...(info.routes.length > 0 ? { routes: info.routes.map((a, i) => `http://${hostPort(a)} -> ${config.routes[i]?.target ?? '?'}`) } : {}),
    config: args.configFile ?? 'embedded defaults',
  });
  await untilSignal(logger, () => proxy.close(), () => proxy.destroy());
  // The final stats-downstream/stats-upstream summary was logged by close() itself (SPEC §8.3).
  logger.info('stopped', { uptimeSeconds: proxy.stats().uptimeSeconds });
  await logger.close();
  return 0;
}

function hostPort(a: { host: string; port: number }): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Wait for SIGTERM/SIGINT, then close gracefully; a second signal destroys at once. */
function untilSignal(logger: Logger, close: () => Promise<void>, destroy: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn('shutdown-forced', { signal });
        void destroy();
        return;
      }
      stopping = true;
      logger.info('shutdown', { signal, graceful: true });
      void close().then(() => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
