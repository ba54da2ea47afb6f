/**
 * The process edge: argv → parsed command → config → proxy; signals and exit codes (SPEC §10.1, §10.2).
 * Exit codes: 0 normal (including after a graceful SIGTERM/SIGINT), 1 runtime failure (e.g. port in use),
 * 2 bad usage or bad configuration.
 */
import type { Writable } from 'node:stream';
import { ConfigError, loadConfig, packageVersion } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { createProxy } from '../proxy.js';
import type { ListenInfo } from '../proxy.js';
import { parseArgs } from './args.js';
import { hashPasswordCommand } from './hash-password.js';
import type { RunArgs } from './args.js';
import { logListening, reportStartupFailure, untilSignal } from './process.js';
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
      // The workshop (demos, SVG renderer, naive mode) loads only when asked for: a proxy run never pulls it in.
      return (await import('../workshop/demo-command.js')).runDemoCommand(parsed, io, { config: loadConfig(), version: packageVersion() });
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
    return loadConfig({ file: args.configFile, overrides: args.overrides, env: io.env });
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
  if (config.mode === 'dumb' || config.mode === 'naive') {
    const { runWorkshopMode } = await import('../workshop/run-mode.js');
    return runWorkshopMode(config, { logger, stderr: io.stderr, env: io.env });
  }
  // --workers N (issue 8): this process supervises N workers, or is one of them.
  if (isWorkerProcess()) return runWorker(config, logger);
  const workers = workerCount(config.workers);
  if (workers > 1) return runPrimary(config, workers, logger, args.configFile, io);
  const proxy = createProxy(config, { logger, version: packageVersion() });
  let info: ListenInfo;
  try {
    info = await proxy.listen();
  } catch (err) {
    reportStartupFailure(io.stderr, logger, config, err);
    await proxy.destroy();
    await logger.close();
    return 1;
  }
  logListening(logger, config, info, args.configFile);
  await untilSignal(logger, proxy).done;
  // The final stats-downstream/stats-upstream summary was logged by close() itself (SPEC §8.3).
  logger.info('stopped', { uptimeSeconds: proxy.stats().uptimeSeconds });
  await logger.close();
  return 0;
}
