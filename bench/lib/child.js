// Helpers shared by the harness's own child processes (origin, bare-proxy targets, node-hello, load generator).

/**
 * Reads `--port N` (or `--port=N`) from argv; 0 (an ephemeral port) when absent.
 * @param {string[]} [argv]
 * @returns {number}
 */
export function parsePortArg(argv = process.argv.slice(2)) {
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i < 0) return 0;
  const raw = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${raw}`);
  return port;
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
