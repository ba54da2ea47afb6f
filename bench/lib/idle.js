// Scenario (d)'s driver in the load generator: idle keep-alive client connections, opened with one request each and
// held until the harness has read the target's memory. Bounded: every connect and response has a timeout, and close()
// destroys whatever is left after a short grace.
import net from 'node:net';
import { sleep, target } from './drivers.js';

/** Idle keep-alive client connections held open by the load generator between `idle-open` and `idle-close`. */
export class IdleConnections {
  /** @type {Set<net.Socket>} */
  #open = new Set();

  /** @returns {number} connections still open */
  get held() {
    return this.#open.size;
  }

  /**
   * Opens `count` connections, `batch` at a time, each carrying one keep-alive request whose response is read in
   * full; the connection then stays open and idle.
   * @param {import('./drivers.js').Route & { count: number, batch: number, timeoutMs: number }} spec
   * @returns {Promise<{ opened: number, failed: number, openMs: number }>}
   */
  async open(spec) {
    const { path, headers } = target(spec, '/');
    const request = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${headers.host}\r\n\r\n`, 'latin1');
    const started = performance.now();
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < spec.count) {
        next += 1;
        if (!(await this.#one(spec.port, request, spec.timeoutMs))) failed += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(spec.batch, spec.count) }, worker));
    return { opened: this.#open.size, failed, openMs: performance.now() - started };
  }

  /**
   * @param {number} port
   * @param {Buffer} request
   * @param {number} timeoutMs
   * @returns {Promise<boolean>} whether the connection is open and idle after a complete 2xx response
   */
  #one(port, request, timeoutMs) {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let head = '';
      let expected = -1;
      let got = 0;
      const fail = () => {
        socket.destroy();
        resolve(false);
      };
      socket.setTimeout(timeoutMs, fail);
      socket.once('error', fail);
      socket.on('data', (/** @type {Buffer} */ chunk) => {
        if (expected < 0) {
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          if (!/^HTTP\/1\.1 2/.test(head)) return fail();
          expected = end + 4 + Number(/content-length:\s*(\d+)/i.exec(head.slice(0, end))?.[1] ?? 0);
          got = head.length;
        } else {
          got += chunk.length;
        }
        if (got < expected) return;
        socket.removeAllListeners('data');
        socket.setTimeout(0);
        socket.off('error', fail);
        socket.on('error', () => undefined);
        this.#open.add(socket);
        socket.once('close', () => this.#open.delete(socket));
        resolve(true);
      });
      socket.once('connect', () => socket.write(request));
    });
  }

  /** Closes every held connection (FIN), then destroys what is left after a short grace. */
  async close() {
    for (const s of this.#open) s.end();
    const deadline = performance.now() + 2000;
    while (this.#open.size > 0 && performance.now() < deadline) await sleep(50);
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }
}
