// Target `undici-minimal` (opt-in: `--targets undici-minimal,...`): the least a forward proxy built on undici can do,
// for evidence of where this stack's floor is. One undici Pool per origin, the legacy dispatch handler API (as
// hopwise uses), headers relayed as they come except the three connection-management fields (without that, a
// client's `Connection: close` would close every upstream connection, and undici 7.30 asserts on a paused parser at
// the origin's FIN), no Via, no telemetry, no error mapping beyond a bare 502. Not a correct proxy: a measuring stick
// for hopwise's own overhead.
import http from 'node:http';
import { Pool } from 'undici';
import { lifeline, parseKeepAliveArg, parsePortArg } from '../lib/child.js';

/** @type {Map<string, Pool>} */
const pools = new Map();
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection']);

/**
 * @param {string[]} raw
 * @returns {string[]}
 */
function withoutHop(raw) {
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP.has(/** @type {string} */ (raw[i]).toLowerCase())) out.push(/** @type {string} */ (raw[i]), /** @type {string} */ (raw[i + 1]));
  }
  return out;
}

const server = http.createServer((req, res) => {
  let url;
  try {
    url = new URL(req.url ?? '');
  } catch {
    res.writeHead(400).end();
    return;
  }
  let pool = pools.get(url.origin);
  if (!pool) {
    pool = new Pool(url.origin, { connections: 64 });
    pools.set(url.origin, pool);
  }
  pool.dispatch(
    { path: `${url.pathname}${url.search}`, method: req.method ?? 'GET', headers: withoutHop(req.rawHeaders), body: null },
    {
      onConnect() {},
      /** @param {number} status @param {Buffer[]} raw @param {() => void} resume @param {string} text */
      onHeaders(status, raw, resume, text) {
        const headers = withoutHop(raw.map((b) => b.toString('latin1')));
        res.writeHead(status, text, headers);
        res.on('drain', resume);
        return true;
      },
      /** @param {Buffer} chunk */
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        res.end();
      },
      onError() {
        if (res.headersSent) res.destroy();
        else res.writeHead(502).end();
      },
    },
  );
});
server.keepAliveTimeout = parseKeepAliveArg();
lifeline(() => server.close());
server.listen(parsePortArg(), '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`undici-minimal listening on 127.0.0.1:${port}`);
});
