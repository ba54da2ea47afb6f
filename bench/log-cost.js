#!/usr/bin/env node
// `node bench/log-cost.js [--dist DIR] [--entries N] [--rounds R] > FILE`: the CPU cost of one access-log entry, the
// whole way a request's entry goes (a `request` telemetry event → attachLogging → the logger → stdout), in one process
// with nothing else running, so a busy machine disturbs it far less than a proxy benchmark. stdout is the log's
// destination: redirect it to a file (as `hopwise > access.log` does) or to a pipe (`| cat > /dev/null`). Results go
// to stderr: µs of CPU (user + system) per entry, best and median round. `--dist` picks another build (a checkout's
// `dist/`, e.g. the "before" of a change); default this checkout's.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: path.join(ROOT, 'dist') },
    entries: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '7' },
  },
});
const entries = Number(values.entries);
const rounds = Number(values.rounds);

/** @type {{ createLogger: (o: { level: string, format: string }) => { close(): Promise<void> } }} */
const { createLogger } = await import(pathToFileURL(path.join(values.dist, 'observability', 'logger.js')).href);
/** @type {{ attachLogging: (t: unknown, l: unknown, o: { access: boolean }) => void }} */
const { attachLogging } = await import(pathToFileURL(path.join(values.dist, 'observability', 'log-events.js')).href);
/** @type {{ Telemetry: new () => { emit(e: unknown): void } }} */
const { Telemetry } = await import(pathToFileURL(path.join(values.dist, 'observability', 'events.js')).href);

const telemetry = new Telemetry();
const logger = createLogger({ level: 'info', format: 'json' });
attachLogging(telemetry, logger, { access: true });

/**
 * A request record as the exchange emits it (a fresh object per request, as in the proxy).
 * @param {number} i
 */
function record(i) {
  return {
    conn: 1 + (i % 50), connReq: 1 + Math.floor(i / 50), method: 'GET', target: 'http://127.0.0.1:40123/',
    origin: 'http://127.0.0.1:40123', upstream: 1 + (i % 8), reused: true, socketReq: i, status: 200, bytes: 28,
    ms: Math.round(Math.random() * 500) / 100, retried: false, error: undefined,
  };
}

/** @returns {number} CPU µs (user + system) */
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** @type {number[]} */
const perEntry = [];
for (let r = 0; r < rounds; r++) {
  const start = cpu();
  // In slices of 50 with a turn of the event loop between them, as requests arrive in a proxy.
  for (let i = 0; i < entries; i += 50) {
    for (let j = i; j < i + 50; j++) telemetry.emit({ type: 'request', record: record(j) });
    await new Promise((resolve) => setImmediate(resolve));
  }
  perEntry.push((cpu() - start) / entries);
}
await logger.close();
const sorted = [...perEntry].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)] ?? NaN;
console.error(`${values.dist}: ${(sorted[0] ?? NaN).toFixed(2)} µs CPU per access-log entry (best of ${rounds}), median` +
  ` ${median.toFixed(2)} µs; ${entries} entries per round`);
