// The proxy under soak runs as its own process (the real CLI, bin/hopwise.js over dist/), so its open file
// descriptors and RSS can be read from /proc/<pid> without the load generator's sockets mixed in.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * @typedef {{ code: number | null, signal: NodeJS.Signals | null }} Exit
 * @typedef {object} ProxyProcess
 * @property {import('node:child_process').ChildProcess} child
 * @property {Array<Record<string, any>>} logs  every JSON log line so far
 * @property {string} proxyUrl
 * @property {string} adminUrl
 * @property {() => string} stderr
 * @property {Promise<Exit>} exited
 * @property {() => Promise<Exit & { stopped: Record<string, any> | undefined }>} stop
 */

/**
 * Open file descriptors of `pid` (Linux /proc); NaN once the process is gone.
 * @param {number | undefined} pid
 * @returns {number}
 */
export function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/**
 * Resident set size of `pid` in bytes (Linux /proc); NaN once the process is gone.
 * @param {number | undefined} pid
 * @returns {number}
 */
export function rss(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? NaN : Number(m[1]) * 1024;
  } catch {
    return NaN;
  }
}

/**
 * Start `bin/hopwise.js` with `config` (written to a temp file). Resolves when its `listening` line arrives, with the
 * proxy and admin URLs, the child, every JSON log line seen so far (kept updated), and `stop()` (SIGTERM, then the
 * exit code and the final `stopped` stats line).
 * @param {string} root
 * @param {object} config
 * @returns {Promise<ProxyProcess>}
 */
export function startProxyProcess(root, config) {
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-soak-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [join(root, 'bin', 'hopwise.js'), '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  /** @type {Array<Record<string, any>>} */
  const logs = [];
  let stderr = '';
  let pending = '';
  child.stderr.on('data', (/** @type {Buffer} */ c) => (stderr += c.toString()));
  /** @type {Promise<Exit>} */
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proxy did not start: ${stderr}`)), 15_000);
    child.stdout.on('data', (/** @type {Buffer} */ c) => {
      pending += c.toString();
      let i;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        /** @type {Record<string, any>} */
        let entry;
        try {
          entry = JSON.parse(line);
        } catch {
          entry = { event: 'unparsed', line };
        }
        logs.push(entry);
        if (entry.event === 'listening') {
          clearTimeout(timer);
          resolve({
            child,
            logs,
            proxyUrl: entry.proxy,
            adminUrl: entry.admin,
            stderr: () => stderr,
            exited,
            async stop() {
              child.kill('SIGTERM');
              const result = await exited;
              rmSync(dir, { recursive: true, force: true });
              return { ...result, stopped: logs.find((l) => l.event === 'stopped') };
            },
          });
        }
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited (${code}) before listening: ${stderr}`));
    });
  });
}
