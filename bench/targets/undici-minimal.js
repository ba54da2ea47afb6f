// Target `undici-minimal` (opt-in: `--targets undici-minimal,...`): the least a forward proxy built on undici can do,
// for evidence of where this stack's floor is. One undici Pool per origin, the legacy dispatch handler API (as
// hopwise uses), headers relayed as they come (no hop-by-hop policy, no Via, no telemetry, no error mapping beyond a
// bare 502). Not a correct proxy: a measuring stick for hopwise's own overhead.
import http from 'node:http';
import { Pool } from 'undici';
import { lifeline, parseKeepAliveArg, parsePortArg } from '../lib/child.js';

/** @type {Map<string, Pool>} */
const pools = new Map();

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
    { path: `${url.pathname}${url.search}`, method: req.method ?? 'GET', headers: req.rawHeaders, body: null },
    {
      onConnect() {},
      /** @param {number} status @param {Buffer[]} raw @param {() => void} resume @param {string} text */
      onHeaders(status, raw, resume, text) {
        const headers = raw.map((b) => b.toString('latin1'));
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
