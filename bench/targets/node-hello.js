// Target `node-hello`: a one-file Node http server answering directly (no origin behind it), pinned where a proxy
// would run. It is the anchor of the "a proxy should reach about 0.5 × plain Node" ceiling: one proxied request does
// at least the work of one Node request on each side.
import http from 'node:http';
import { lifeline, parseKeepAliveArg, parsePortArg } from '../lib/child.js';

const BODY = Buffer.from('hello from the bench origin\n');

const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': BODY.length });
  res.end(BODY);
});
server.keepAliveTimeout = parseKeepAliveArg();
lifeline(() => server.close());
server.listen(parsePortArg(), '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`node-hello listening on 127.0.0.1:${port}`);
});
