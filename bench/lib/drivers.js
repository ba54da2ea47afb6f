// Load drivers the load generator runs besides autocannon (scenarios c, d, e and the pool warm-up). Each is bounded
// in time, counts only what happens inside its measured window, and closes every socket it opened before it returns.
import http from 'node:http';
import net from 'node:net';

/**
 * @typedef {object} Route  how to reach the origin through the target
 * @property {number} port          the target's port (the origin's own port for `direct`)
 * @property {string | null} via    origin authority `127.0.0.1:PORT` when the target is a proxy, null when direct
 * @property {string} authority     the origin's authority (Host)
 */

/**
 * The request target and Host for an origin path: absolute-form through a proxy (RFC 9112 §3.2.2).
 * @param {Route} route
 * @param {string} path
 * @returns {{ path: string, headers: Record<string, string> }}
 */
function target(route, path) {
  return { path: route.via ? `http://${route.via}${path}` : path, headers: { host: route.authority } };
}

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Holds `count` requests in flight at once (origin `/delay/MS`), each on its own client connection, so a proxy's
 * upstream pool grows to `count` sockets before a measurement: a one-time pool growth is not churn.
 * @param {Route & { count: number, delayMs: number, timeoutMs: number }} spec
 * @returns {Promise<{ ok: number, failed: number }>}
 */
export async function warmPool(spec) {
  const { path, headers } = target(spec, `/delay/${spec.delayMs}`);
  const one = () =>
    new Promise((resolve) => {
      const req = http.get(
        { host: '127.0.0.1', port: spec.port, path, headers, agent: false, timeout: spec.timeoutMs },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode === 200));
          res.on('error', () => resolve(false));
        },
      );
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
    });
  const results = await Promise.all(Array.from({ length: spec.count }, one));
  const ok = results.filter(Boolean).length;
  return { ok, failed: spec.count - ok };
}

/**
 * @typedef {object} Window  a warm-up followed by a measured window; `onMark('mark')` fires when the window opens
 * @property {number} warmup    seconds
 * @property {number} duration  seconds
 */

/**
 * Runs `work(isOpen)` loops until the window closes; calls `onMark` when it opens. Resolves with the window's
 * measured length in seconds.
 * @param {Window} w
 * @param {(event: string) => void} onMark
 * @param {(state: { open: boolean, done: boolean }) => Promise<void>} loop  one loop per concurrent client
 * @param {number} clients
 * @param {() => void} stopAll  destroys in-flight work when the window closes
 * @returns {Promise<number>}
 */
async function windowed(w, onMark, loop, clients, stopAll) {
  const state = { open: false, done: false };
  let start = 0;
  const markTimer = setTimeout(() => {
    state.open = true;
    start = performance.now();
    onMark('mark');
  }, w.warmup * 1000);
  const endTimer = setTimeout(() => {
    state.done = true;
    stopAll();
  }, (w.warmup + w.duration) * 1000);
  await Promise.all(Array.from({ length: clients }, () => loop(state)));
  clearTimeout(markTimer);
  clearTimeout(endTimer);
  return state.open ? (performance.now() - start) / 1000 : 0;
}

/**
 * Scenario (c): `connections` keep-alive clients loop `GET /bytes/SIZE` through the target; body bytes received in
 * the measured window give MB/s.
 * @param {Route & Window & { size: number, connections: number }} spec
 * @param {(event: string) => void} onMark
 * @returns {Promise<{ bytes: number, durationS: number, responses: number, errors: number }>}
 */
export async function runBulk(spec, onMark) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const { path, headers } = target(spec, `/bytes/${spec.size}`);
  const counts = { bytes: 0, responses: 0, errors: 0 };
  /** @type {Set<http.ClientRequest>} */
  const inFlight = new Set();
  const once = (/** @type {{ open: boolean, done: boolean }} */ state) =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: spec.port, path, headers, agent }, (res) => {
        res.on('data', (chunk) => {
          if (state.open && !state.done) counts.bytes += chunk.length;
        });
        res.on('end', () => {
          if (state.open && !state.done) counts.responses += 1;
          resolve(undefined);
        });
        res.on('error', () => resolve(undefined));
      });
      inFlight.add(req);
      req.on('close', () => {
        inFlight.delete(req);
        resolve(undefined);
      });
      req.on('error', () => {
        if (state.open && !state.done) counts.errors += 1;
        resolve(undefined);
      });
    });
  const loop = async (/** @type {{ open: boolean, done: boolean }} */ state) => {
    while (!state.done) await once(state);
  };
  const durationS = await windowed(spec, onMark, loop, spec.connections, () => {
    for (const req of inFlight) req.destroy();
  });
  agent.destroy();
  return { ...counts, durationS };
}

/**
 * Opens a CONNECT tunnel (RFC 9110 §9.3.6) to the origin through the proxy, or a plain connection when direct.
 * @param {{ port: number, tunnelTo: string | null, timeoutMs: number }} spec
 * @returns {Promise<net.Socket>}
 */
function openTunnel(spec) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(spec.port, '127.0.0.1');
    socket.setTimeout(spec.timeoutMs, () => socket.destroy(new Error('tunnel set-up timed out')));
    socket.once('error', reject);
    socket.once('connect', () => {
      if (spec.tunnelTo === null) {
        socket.setTimeout(0);
        resolve(socket);
        return;
      }
      socket.write(`CONNECT ${spec.tunnelTo} HTTP/1.1\r\nHost: ${spec.tunnelTo}\r\n\r\n`);
      let head = Buffer.alloc(0);
      const onData = (/** @type {Buffer} */ chunk) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.pause();
        socket.setTimeout(0);
        if (!/^HTTP\/1\.[01] 200/.test(head.toString('latin1', 0, 16))) {
          socket.destroy();
          reject(new Error(`CONNECT refused: ${head.toString('latin1', 0, head.indexOf('\r\n'))}`));
          return;
        }
        if (end + 4 < head.length) socket.unshift(head.subarray(end + 4));
        resolve(socket);
      };
      socket.on('data', onData);
    });
  });
}

/**
 * Scenario (e): `connections` CONNECT tunnels, each looping `GET /bytes/SIZE` to the origin over the tunnel (the proxy
 * only splices bytes); every byte received in the measured window counts. The response has a Content-Length, so a
 * raw byte count frames it: no HTTP parser on the client core.
 * @param {Window & { port: number, tunnelTo: string | null, authority: string, size: number, connections: number }} spec
 * @param {(event: string) => void} onMark
 * @returns {Promise<{ bytes: number, durationS: number, responses: number, errors: number }>}
 */
export async function runTunnels(spec, onMark) {
  const counts = { bytes: 0, responses: 0, errors: 0 };
  const request = Buffer.from(`GET /bytes/${spec.size} HTTP/1.1\r\nHost: ${spec.authority}\r\n\r\n`, 'latin1');
  /** @type {Set<net.Socket>} */
  const sockets = new Set();
  const loop = async (/** @type {{ open: boolean, done: boolean }} */ state) => {
    let socket;
    try {
      socket = await openTunnel({ port: spec.port, tunnelTo: spec.tunnelTo, timeoutMs: 5000 });
    } catch {
      counts.errors += 1;
      return;
    }
    sockets.add(socket);
    if (state.done) socket.destroy();
    await new Promise((resolve) => {
      let expected = -1;
      let got = 0;
      let head = '';
      socket.on('data', (/** @type {Buffer} */ chunk) => {
        if (state.open && !state.done) counts.bytes += chunk.length;
        if (expected < 0) {
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          expected = end + 4 + Number(/content-length:\s*(\d+)/i.exec(head.slice(0, end))?.[1] ?? 0);
          got = head.length;
          head = '';
        } else {
          got += chunk.length;
        }
        if (got < expected) return;
        if (state.open && !state.done) counts.responses += 1;
        expected = -1;
        if (!state.done) socket.write(request);
      });
      socket.once('close', resolve);
      socket.once('error', () => {
        if (state.open && !state.done) counts.errors += 1;
      });
      socket.resume();
      socket.write(request);
    });
    sockets.delete(socket);
  };
  const durationS = await windowed(spec, onMark, loop, spec.connections, () => {
    for (const s of sockets) s.destroy();
  });
  return { ...counts, durationS };
}

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
   * @param {Route & { count: number, batch: number, timeoutMs: number }} spec
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
