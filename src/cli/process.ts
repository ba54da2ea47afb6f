/**
 * The process edge shared by a single-process run (main.ts) and the primary of `--workers N` (primary.ts): the
 * `listening` line, the user-facing message when a listener cannot bind, and the signal loop (SIGTERM/SIGINT →
 * graceful close; a second signal → destroy).
 */
import type { Config } from '../config/schema.js';
import { ListenError } from '../downstream/listen.js';
import type { Address } from '../downstream/listen.js';
import type { LogFields, Logger } from '../observability/logger.js';

/** `host:port`, with an IPv6 host in brackets. */
export function hostPort(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** `http://host:port`. */
export function httpUrl(a: Address): string {
  return `http://${hostPort(a)}`;
}

/** What the bound listeners were, for the `listening` log line. */
export interface Listening {
  readonly proxy: Address;
  readonly admin: Address | undefined;
  readonly routes?: readonly Address[];
}

/** Logs the one `listening` line: mode, every address, the target(s) and where the configuration came from. */
export function logListening(logger: Logger, config: Config, info: Listening, configFile: string | undefined, extra: LogFields = {}): void {
  const routes = info.routes ?? [];
  logger.info('listening', {
    mode: config.mode,
    proxy: httpUrl(info.proxy),
    admin: info.admin === undefined ? 'disabled' : httpUrl(info.admin),
    ...(config.mode === 'gateway' ? { target: config.target } : {}),
    ...(routes.length > 0 ? { routes: routes.map((a, i) => `${httpUrl(a)} -> ${config.routes[i]?.target ?? '?'}`) } : {}),
    ...extra,
    config: configFile ?? 'embedded defaults',
  });
}

const CAUSES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use (another process, or another hopwise, is listening there)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this machine’s',
};

/** The way out for each listener. */
function remedy(err: ListenError, config: Config): string {
  if (err.listener === 'admin') {
    const derived = config.admin.port === null ? ' (by default the admin port is the proxy port + 1)' : '';
    return `The admin listener serves stats, metrics and the dashboard${derived}: give it another port with --admin-port N, or turn it off with --no-admin.`;
  }
  if (err.listener === 'proxy') return 'Choose another port with --port N (0 picks a free one), or stop what is listening there.';
  return `Change ${err.listener}.listen.port in the configuration file, or stop what is listening there.`;
}

/**
 * The message (without the `hopwise: ` prefix) for a start that failed: for a listener that could not bind, which
 * one, where, why and how to get round it; otherwise the error's own message.
 */
export function startupMessage(err: unknown, config: Config): string {
  if (!(err instanceof ListenError)) return `could not start: ${(err as Error).message}`;
  const what = err.listener === 'admin' ? 'the admin listener' : err.listener === 'proxy' ? 'the proxy listener' : `the ${err.listener} listener`;
  const cause = (err.code !== undefined ? CAUSES[err.code] : undefined) ?? err.message;
  return `${what} cannot listen on ${hostPort(err)}: ${cause}. ${remedy(err, config)}`;
}

/** Logs `startup-failed` and writes the `hopwise:` message to stderr; the caller exits with code 1. */
export function reportStartupFailure(stderr: NodeJS.WritableStream, logger: Logger, config: Config, err: unknown): void {
  const code = (err as NodeJS.ErrnoException).code;
  logger.error('startup-failed', { reason: (err as Error).message, ...(code !== undefined ? { code } : {}) });
  stderr.write(`hopwise: ${startupMessage(err, config)}\n`);
}

/** What the signal loop stops. */
export interface Stoppable {
  /** Graceful: drain, then close. */
  close(): Promise<void>;
  /** Immediate. */
  destroy(): Promise<void>;
}

/** A running signal loop: `done` settles after a graceful stop, or with the reason given to `fail`. */
export interface SignalLoop {
  readonly done: Promise<{ readonly failed: string | undefined }>;
  /** Ends the loop without a signal (e.g. every worker died; the caller logs why): settles `done` with `reason`. */
  readonly fail: (reason: string) => void;
}

/** Wait for SIGTERM/SIGINT, then close gracefully; a second signal destroys at once (SPEC §10.1). */
export function untilSignal(logger: Logger, target: Stoppable, fields: LogFields = {}): SignalLoop {
  let fail: (reason: string) => void = () => undefined;
  const done = new Promise<{ failed: string | undefined }>((resolve) => {
    let stopping = false;
    const finish = (failed: string | undefined): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve({ failed });
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn('shutdown-forced', { signal });
        void target.destroy();
        return;
      }
      stopping = true;
      logger.info('shutdown', { signal, graceful: true, ...fields });
      void target.close().then(() => finish(undefined));
    };
    fail = finish;
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  return { done, fail: (reason) => fail(reason) };
}
