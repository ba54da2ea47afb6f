// The bare http-proxy 1.18.1 forward proxy the way people commonly write one: `createProxyServer({})` and
// `proxy.web(req, res, { target: new URL(req.url).origin })` for absolute-form requests. The only addition is an
// error handler, because without one http-proxy throws and the whole process dies on the first upstream error.
import http from 'node:http';
import httpProxy from 'http-proxy';
import { lifeline, parseKeepAliveArg, parsePortArg } from '../lib/child.js';

/**
 * Starts the proxy on `--port` (0 by default) and prints `listening on 127.0.0.1:PORT` when ready.
 * @param {string} label printed in the ready line
 * @param {import('node:http').Agent | undefined} agent undefined: http-proxy's default (no agent, a new upstream
 *   connection per request with `Connection: close`)
 */
export function startBareProxy(label, agent) {
  const proxy = httpProxy.createProxyServer(agent ? { agent } : {});
  proxy.on('error', (_err, _req, res) => {
    // `res` is a ServerResponse for proxy.web; a Socket only for ws upgrades, which the bench never sends.
    if (!(res instanceof http.ServerResponse)) return;
    if (res.headersSent) res.destroy();
    else res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
  });
  const server = http.createServer((req, res) => {
    let target;
    try {
      target = new URL(req.url ?? '').origin;
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('absolute-form request target required\n');
      return;
    }
    proxy.web(req, res, { target });
  });
  server.keepAliveTimeout = parseKeepAliveArg();
lifeline(() => server.close());
  server.listen(parsePortArg(), '127.0.0.1', () => {
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    console.log(`${label} listening on 127.0.0.1:${port}`);
  });
}
