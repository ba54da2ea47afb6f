// The load generator: autocannon, in its own child process pinned beside the origin. It serves `run` and `stop`
// requests over IPC and measures latency itself with microsecond resolution (autocannon's histogram keeps whole
// milliseconds, too coarse for keep-alive loopback requests).
// @ts-expect-error autocannon ships no type declarations (and @types/autocannon is not a dependency)
import autocannon from 'autocannon';
import { lifeline } from './lib/child.js';
import { percentile, SampleBuffer } from './lib/stats.js';

/**
 * @typedef {object} LoadSpec
 * @property {number} port            where to connect (the target)
 * @property {string} path            request target: absolute-form `http://127.0.0.1:ORIGIN/...` through a proxy
 * @property {Record<string, string>} headers  includes Host (the origin's authority for a proxy)
 * @property {number} connections
 * @property {number} duration        seconds
 * @property {boolean} closeEachRequest  send `Connection: close` and wait for the server's close before reconnecting
 */

/** @type {{ stop: () => void } | null} */
let current = null;
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
 * @returns {Promise<Record<string, number | null>>}
 */
function runLoad(spec) {
  const latencies = new SampleBuffer();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${spec.port}`,
        requests: [{ method: 'GET', path: spec.path }],
        headers: spec.headers,
        connections: spec.connections,
        duration: spec.duration,
        sampleInt: 250,
        timeout: 5,
        setupClient: connectionCloseAware(spec.closeEachRequest),
      },
      (/** @type {Error | null} */ err, /** @type {any} */ result) => {
        current = null;
        if (err) {
          reject(err);
          return;
        }
        const sorted = latencies.sorted();
        const requests = result.requests.total;
        resolve({
          requests,
          durationS: result.duration,
          reqPerSec: result.duration > 0 ? requests / result.duration : null,
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: percentile(sorted, 100),
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          bytes: result.throughput.total,
        });
      },
    );
    // autocannon emits (client, statusCode, bytes, responseTime in ms with sub-millisecond precision).
    instance.on('response', (/** @type {unknown} */ _client, /** @type {number} */ statusCode, /** @type {number} */ _bytes, /** @type {number} */ responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
    current = instance;
  });
}

process.on('message', (/** @type {{ id: number, cmd: string, spec?: LoadSpec }} */ msg) => {
  if (msg.cmd === 'stop') {
    stopped = true;
    current?.stop();
    process.send?.({ id: msg.id });
    return;
  }
  if (msg.cmd !== 'run' || !msg.spec) {
    process.send?.({ id: msg.id, error: `unknown command ${msg.cmd}` });
    return;
  }
  if (stopped) {
    process.send?.({ id: msg.id, error: 'load generator stopped' });
    return;
  }
  runLoad(msg.spec).then(
    (result) => process.send?.({ id: msg.id, result }),
    (/** @type {Error} */ err) => process.send?.({ id: msg.id, error: err.message }),
  );
});

lifeline(() => current?.stop());
console.log('loadgen ready');
