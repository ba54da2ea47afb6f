/**
 * The periodic statistics summary (SPEC §8.3, issue 4): every `stats.interval` seconds and always at shutdown, one
 * `info` entry per side with the headline numbers. The fields are data (STYLE rule 7); the pretty one-line-per-origin
 * rendering lives in summary-format.ts and is applied by the logger's transport only.
 */
import type { LogFields, Logger } from './logger.js';
import type { StatsSnapshot } from './stats.js';

/** The two summary entries, built from one snapshot so both sides describe the same moment. */
export function summaryFields(s: StatsSnapshot, final: boolean): { downstream: LogFields; upstream: LogFields } {
  const d = s.downstream;
  const t = s.upstream.totals;
  const origins: Record<string, LogFields> = {};
  for (const [origin, u] of Object.entries(s.upstream.origins)) {
    origins[origin] = {
      socketsCreated: u.socketsCreated,
      socketsActive: u.socketsActive,
      socketsIdle: u.socketsIdle,
      requests: u.requests,
      reusedRequests: u.reusedRequests,
      reuseRatio: u.reuseRatio,
      closed: u.socketsClosed,
    };
  }
  return {
    downstream: {
      leg: 'downstream',
      final,
      uptimeSeconds: s.uptimeSeconds,
      connectionsAccepted: d.connectionsAccepted,
      connectionsActive: d.connectionsActive,
      requests: d.requests,
      requestsPerConnection: d.requestsPerConnection,
      closed: d.connectionsClosed,
      // Tunnels start as downstream connections (CONNECT, Upgrade), so they are reported on this side.
      tunnels: { ...s.tunnels },
    },
    upstream: {
      leg: 'upstream',
      final,
      socketsCreated: t.socketsCreated,
      socketsActive: t.socketsActive,
      requests: t.requests,
      reusedRequests: t.reusedRequests,
      reuseRatio: t.reuseRatio,
      origins,
    },
  };
}

/** Logs `stats-downstream` and `stats-upstream` on a timer and once more, marked `final`, at shutdown. */
export class StatsSummary {
  readonly #source: () => StatsSnapshot;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #finished = false;

  /** `intervalSeconds` 0 disables the periodic entries; the final one is always written. */
  constructor(source: () => StatsSnapshot, logger: Logger, intervalSeconds: number) {
    this.#source = source;
    this.#logger = logger;
    this.#intervalMs = Math.round(intervalSeconds * 1000);
  }

  /** Start the periodic entries (idempotent). The timer is unref'd: a summary never keeps the process alive. */
  start(): void {
    if (this.#intervalMs <= 0 || this.#timer !== undefined || this.#finished) return;
    this.#timer = setInterval(() => this.log(false), this.#intervalMs);
    this.#timer.unref();
  }

  /** Write both entries now. */
  log(final: boolean): void {
    if (!this.#logger.enabled('info')) return;
    const f = summaryFields(this.#source(), final);
    this.#logger.info('stats-downstream', f.downstream);
    this.#logger.info('stats-upstream', f.upstream);
  }

  /** Stop the timer without a final entry (a proxy that never listened has nothing to summarise). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#finished = true;
  }

  /** Stop the timer and write the final entries, once (called by shutdown, before the logger is closed). */
  finish(): void {
    if (this.#finished) return;
    this.stop();
    this.#finished = true;
    this.log(true);
  }
}
