// Small loopback helpers for the harness: a free port, waiting for a listener, one bounded JSON GET.
import http from 'node:http';
import net from 'node:net';

/** Ports already handed out by this harness: targets start side by side and must never be given the same one. */
const handedOut = new Set();

/**
 * Asks the kernel for a free loopback port (listen(0), read, close). A target started right after gets it. Never
 * returns the same port twice in one run.
 * @returns {Promise<number>}
 */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = /** @type {net.AddressInfo} */ (server.address());
        server.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return /** @type {number} */ (port);
    }
  }
}

/**
 * @param {number} port
 * @returns {Promise<boolean>} whether a TCP connection to 127.0.0.1:port succeeds
 */
function tryConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    const done = (/** @type {boolean} */ ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Polls until something accepts on 127.0.0.1:port (for targets that print no ready line, such as squid).
 * @param {number} port
 * @param {number} timeoutMs
 * @param {() => string | null} [gone] returns a reason when the process behind the port has died
 */
export async function waitForPort(port, timeoutMs, gone) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const reason = gone?.();
    if (reason) throw new Error(reason);
    if (await tryConnect(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/**
 * GET a JSON document, bounded in time; resolves null on any failure (stats are a bonus, never fatal).
 * @param {string} url
 * @param {number} timeoutMs
 * @returns {Promise<any>}
 */
export function getJson(url, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null);
        } catch {
          resolve(null);
        }
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}
