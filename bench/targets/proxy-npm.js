// Target `proxy-npm`: TooTallNate's `proxy` package (proxy-agents), a small forward proxy with CONNECT that people
// reach for in Node; used with its defaults, as its README shows: `createProxy(http.createServer())`.
import http from 'node:http';
import { createProxy } from 'proxy';
import { lifeline, parseKeepAliveArg, parsePortArg } from '../lib/child.js';

const server = createProxy(http.createServer());
server.keepAliveTimeout = parseKeepAliveArg();
lifeline(() => server.close());
server.listen(parsePortArg(), '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`proxy-npm listening on 127.0.0.1:${port}`);
});
