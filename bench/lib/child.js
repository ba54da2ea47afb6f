// Helpers shared by the harness's own child processes (origin, bare-proxy targets, node-hello, load generator).

/**
 * Reads a whole-number flag `--name N` (or `--name=N`) from argv.
 * @param {string} name
 * @param {number} fallback  when absent
 * @param {number} max
 * @param {string[]} [argv]
 * @returns {number}
 */
function intArg(name, fallback, max, argv = process.argv.slice(2)) {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const arg = argv[i] ?? '';
  const raw = arg.includes('=') ? arg.split('=')[1] : argv[i + 1];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`bad --${name} ${raw}`);
  return n;
}

/**
 * Reads `--port N` (or `--port=N`) from argv; 0 (an ephemeral port) when absent.
 * @param {string[]} [argv]
 * @returns {number}
 */
export function parsePortArg(argv = process.argv.slice(2)) {
  return intArg('port', 0, 65535, argv);
}

/**
 * `--keep-alive-timeout MS`: how long the server keeps an idle client connection (Node's default 5 s when absent).
 * The harness raises it so scenario (d)'s idle connections stay open while they are counted.
 * @param {string[]} [argv]
 * @returns {number}
 */
export function parseKeepAliveArg(argv = process.argv.slice(2)) {
  return intArg('keep-alive-timeout', 5000, 3_600_000, argv);
}

/**
 * Ties this child's life to the harness: it exits when the IPC channel closes (the parent died or let go of it),
 * on SIGTERM and on SIGINT, so a crashed harness leaves no orphan listening on a port.
 * @param {() => void} [close] best-effort graceful close before exiting
 */
export function lifeline(close) {
  const bye = () => {
    try {
      close?.();
    } finally {
      process.exit(0);
    }
  };
  if (process.send) process.once('disconnect', bye);
  process.once('SIGTERM', bye);
  process.once('SIGINT', bye);
}
