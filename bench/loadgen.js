// The load generator: autocannon, in its own child process pinned beside the origin. It serves `run` and `stop`
// requests over IPC. One run is a warm-up followed, on the same connections, by the measured window: the loadgen
// tells the harness when the window opens (an IPC `mark` event, so the harness can snapshot the origin's and the
// proxy's counters) and measures only responses after it, with sub-millisecond latencies (autocannon's own
// histogram keeps whole milliseconds, too coarse for keep-alive loopback requests).
// @ts-expect-error autocannon ships no type declarations (and @types/autocannon is not a dependency)
import autocannon from 'autocannon';
import { lifeline } from './lib/child.js';
import { runBulk, runTunnels, warmPool } from './lib/drivers.js';
import { IdleConnections } from './lib/idle.js';
import { percentile, SampleBuffer } from './lib/stats.js';

/**
 * @typedef {object} LoadSpec
 * @property {number} port            where to connect (the target)
 * @property {string} path            request target: absolute-form `http://127.0.0.1:ORIGIN/...` through a proxy
 * @property {Record<string, string>} headers  includes Host (the origin's authority for a proxy)
 * @property {number} connections
 * @property {number} warmup          seconds before the measured window opens
 * @property {number} duration        seconds of measured window
 * @property {boolean} closeEachRequest  send `Connection: close` and wait for the server's close before reconnecting
 */

/**
 * @typedef {object} LoadResult  counts cover the measured window only
 * @property {number} requests   responses received
 * @property {number} durationS
 * @property {number | null} reqPerSec
 * @property {number | null} p50  ms, 2xx responses
 * @property {number | null} p90
 * @property {number | null} p99
 * @property {number | null} max
 * @property {number} errors     transport errors, timeouts included
 * @property {number} timeouts
 * @property {number} non2xx
 * @property {number} bytes      response bytes
 */

/** @type {{ stop: () => void } | null} */
let current = null;
/** Ends the current autocannon run once the harness has taken its end-of-window snapshot. */
/** @type {(() => void) | null} */
let finish = null;
/** Seconds an autocannon run goes on after its window if the harness never says `finish`. */
const FINISH_GRACE_S = 5;
/** Once the harness says stop (interrupt, budget), no further run starts: stopping is final. */
let stopped = false;

/**
 * Makes autocannon's clients correct when a connection closes after a response. autocannon 9 writes the next request
 * as soon as a response completes, even when that response said `Connection: close` (the server is closing): the
 * request is lost, its queue entry stays, and every later latency on that client is measured from the wrong start.
 * Here a client that got a non-persistent response (or that sends `Connection: close` itself) waits for the
 * server's FIN; autocannon reconnects on 'end' and sends from there. This matters for targets that close client
 * connections in a keep-alive scenario too (a proxy relaying an origin's `Connection: close`).
 * When `sendClose`, the prebuilt request also loses autocannon's hard-wired `Connection: keep-alive` line, so the
 * only Connection header is the scenario's `close`.
 * @param {boolean} sendClose
 * @returns {(client: any) => void} autocannon's `setupClient` hook (uses Client `requestIterator`, `_doRequest`,
 *   `_connect`)
 */
function connectionCloseAware(sendClose) {
  return (client) => {
    if (typeof client._doRequest !== 'function' || typeof client._connect !== 'function') {
      throw new Error('autocannon Client internals changed: cannot follow Connection: close');
    }
    if (sendClose) {
      for (const request of client.requestIterator?.requests ?? []) {
        if (!Buffer.isBuffer(request.requestBuffer)) continue;
        const text = request.requestBuffer.toString('latin1').replace(/\r\nConnection: keep-alive(?=\r\n)/, '');
        request.requestBuffer = Buffer.from(text, 'latin1');
      }
    }
    const doRequest = client._doRequest;
    const connect = client._connect;
    let closing = false;
    client.on('headers', (/** @type {{ shouldKeepAlive?: boolean }} */ info) => {
      if (sendClose || info.shouldKeepAlive === false) closing = true;
    });
    client._doRequest = function (/** @type {unknown[]} */ ...args) {
      return closing ? undefined : doRequest.apply(this, args);
    };
    client._connect = function (/** @type {unknown[]} */ ...args) {
      closing = false;
      return connect.apply(this, args);
    };
  };
}

/**
 * @param {LoadSpec} spec
 * @param {(event: string) => void} emit  `mark` when the measured window opens, `window-closed` when it closes; the
 *   harness snapshots its counters on each and answers the second with a `finish` command, and only then are the
 *   connections torn down (so the aborts of the teardown are not counted in the window)
 * @returns {Promise<LoadResult>}
 */
function runLoad(spec, emit) {
  const latencies = new SampleBuffer();
  const win = { open: false, closed: false, start: 0, end: 0, requests: 0, errors: 0, timeouts: 0, non2xx: 0, bytes: 0 };
  /** @type {NodeJS.Timeout[]} */
  const timers = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${spec.port}`,
        requests: [{ method: 'GET', path: spec.path }],
        headers: spec.headers,
        connections: spec.connections,
        // A backstop only: the run normally ends on the harness's `finish`, right after the window closes.
        duration: spec.warmup + spec.duration + FINISH_GRACE_S,
        sampleInt: 250,
        timeout: 5,
        setupClient: connectionCloseAware(spec.closeEachRequest),
      },
      (/** @type {Error | null} */ err) => {
        for (const t of timers) clearTimeout(t);
        current = null;
        finish = null;
        if (err) return reject(err);
        if (!win.open) return reject(new Error('stopped before the measured window opened'));
        const sorted = latencies.sorted();
        const durationS = ((win.closed ? win.end : performance.now()) - win.start) / 1000;
        const { requests, errors, timeouts, non2xx, bytes } = win;
        const reqPerSec = durationS > 0 ? requests / durationS : null;
        const [p50, p90, p99, max] = [percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), percentile(sorted, 100)];
        resolve({ requests, durationS, reqPerSec, p50, p90, p99, max, errors, timeouts, non2xx, bytes });
      },
    );
    const counting = () => win.open && !win.closed;
    // autocannon emits (client, statusCode, bytes, responseTime in ms with sub-millisecond precision).
    instance.on('response', (/** @type {unknown} */ _c, /** @type {number} */ status, /** @type {number} */ bytes,
      /** @type {number} */ ms) => {
      if (!counting()) return;
      win.requests += 1;
      win.bytes += bytes;
      if (status >= 200 && status < 300) latencies.push(ms);
      else win.non2xx += 1;
    });
    instance.on('reqError', (/** @type {Error} */ err) => {
      if (!counting()) return;
      win.errors += 1;
      if (err.message === 'request timed out') win.timeouts += 1;
    });
    timers.push(setTimeout(() => {
      win.open = true;
      win.start = performance.now();
      emit('mark');
    }, spec.warmup * 1000));
    timers.push(setTimeout(() => {
      win.closed = true;
      win.end = performance.now();
      finish = () => instance.stop();
      emit('window-closed');
    }, (spec.warmup + spec.duration) * 1000));
    current = instance;
  });
}

const idle = new IdleConnections();

/**
 * The drivers other than autocannon, by command: each takes the message's `spec` and an `onMark` for its window.
 * @type {Record<string, (spec: any, emit: (event: string) => void) => Promise<unknown>>}
 */
const DRIVERS = {
  run: runLoad,
  warm: (spec) => warmPool(spec),
  bulk: runBulk,
  tunnels: runTunnels,
  'idle-open': (spec) => idle.open(spec),
  'idle-close': async () => {
    const held = idle.held;
    await idle.close();
    return { held };
  },
};

process.on('message', (/** @type {{ id: number, cmd: string, spec?: any }} */ msg) => {
  if (msg.cmd === 'stop') {
    stopped = true;
    current?.stop();
    void idle.close();
    process.send?.({ id: msg.id });
    return;
  }
  if (msg.cmd === 'finish') {
    finish?.();
    process.send?.({ id: msg.id });
    return;
  }
  if (msg.cmd === 'idle-held') {
    process.send?.({ id: msg.id, result: { held: idle.held } });
    return;
  }
  const driver = DRIVERS[msg.cmd];
  if (!driver) {
    process.send?.({ id: msg.id, error: `unknown command ${msg.cmd}` });
    return;
  }
  if (stopped) {
    process.send?.({ id: msg.id, error: 'load generator stopped' });
    return;
  }
  driver(msg.spec ?? {}, (event) => process.send?.({ id: msg.id, event })).then(
    (result) => process.send?.({ id: msg.id, result }),
    (/** @type {Error} */ err) => process.send?.({ id: msg.id, error: err.message }),
  );
});

lifeline(() => {
  current?.stop();
  void idle.close();
});
console.log('loadgen ready');
