// Target `llhttp-minimal` (opt-in: `--targets llhttp-minimal,...`): the least a forward proxy with an upstream client
// of its own does, for evidence of where that floor is (issue 12). http.Server downstream; upstream, plain `net`
// sockets whose responses are parsed by Node's native llhttp binding (`HTTPParser` of the `_http_common` built-in,
// the parser `node:http` uses), one parser per socket, idle sockets kept per origin (LIFO). Headers relayed as they
// come except the three connection-management fields; no Via, no telemetry, no retry, no request bodies (501), a
// bare 502 on error. Not a correct proxy: a measuring stick, like undici-minimal.
import { createRequire } from 'node:module';
import http from 'node:http';
import net from 'node:net';
import { lifeline, parseKeepAliveArg, parsePortArg } from '../lib/child.js';

/**
 * The slice of the undocumented binding used here (Node 20: `execute` returns the bytes parsed or an Error).
 * @typedef {{ initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void,
 *   execute(data: Buffer): number | Error, [callback: number]: Function }} Parser
 * @typedef {{ new(): Parser, RESPONSE: number, kOnHeaders: number, kOnHeadersComplete: number, kOnBody: number,
 *   kOnMessageComplete: number }} ParserClass
 * @typedef {{ socket: net.Socket, parser: Parser, res: http.ServerResponse | null, head: string[] }} Upstream
 */

const { HTTPParser } = /** @type {{ HTTPParser: ParserClass }} */ (createRequire(import.meta.url)('_http_common'));
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection']);
/** @type {Map<string, Upstream[]>} idle sockets per `host:port`, most recently used last */
const idle = new Map();

/**
 * @param {string[]} raw  name, value, name, value, ...
 * @returns {string[]}
 */
function withoutHop(raw) {
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = /** @type {string} */ (raw[i]);
    if (!HOP.has(name.toLowerCase())) out.push(name, /** @type {string} */ (raw[i + 1]));
  }
  return out;
}

/**
 * @param {string} key  `host:port`
 * @param {string} host
 * @param {number} port
 * @returns {Upstream}
 */
function connect(key, host, port) {
  const socket = net.connect({ host, port, noDelay: true });
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
  /** @type {Upstream} */
  const up = { socket, parser, res: null, head: [] };
  parser[HTTPParser.kOnHeaders] = (/** @type {string[]} */ headers) => up.head.push(...headers);
  parser[HTTPParser.kOnHeadersComplete] = (
    /** @type {number} */ _major, /** @type {number} */ _minor, /** @type {string[]} */ headers,
    /** @type {unknown} */ _method, /** @type {unknown} */ _url, /** @type {number} */ status, /** @type {string} */ text,
  ) => {
    up.res?.writeHead(status, text, withoutHop(up.head.length > 0 ? [...up.head, ...headers] : headers));
    up.head = [];
    return 0;
  };
  parser[HTTPParser.kOnBody] = (/** @type {Buffer} */ chunk) => {
    if (up.res && !up.res.write(chunk)) {
      socket.pause();
      up.res.once('drain', () => socket.resume());
    }
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    const res = up.res;
    up.res = null;
    res?.end();
    // Back to the pool, unless the origin is closing it (it never sends Connection: close here).
    if (socket.destroyed) return;
    const list = idle.get(key);
    if (list) list.push(up);
    else idle.set(key, [up]);
  };
  socket.on('data', (chunk) => {
    if (parser.execute(chunk) instanceof Error) socket.destroy();
  });
  socket.on('close', () => {
    const list = idle.get(key);
    const i = list ? list.indexOf(up) : -1;
    if (list && i >= 0) list.splice(i, 1);
    if (up.res && !up.res.headersSent) up.res.writeHead(502).end();
    else up.res?.destroy();
  });
  socket.on('error', () => undefined);
  return up;
}

const server = http.createServer((req, res) => {
  let url;
  try {
    url = new URL(req.url ?? '');
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
    res.writeHead(501).end();
    return;
  }
  const port = Number(url.port || 80);
  const key = `${url.hostname}:${port}`;
  const up = idle.get(key)?.pop() ?? connect(key, url.hostname, port);
  up.res = res;
  const raw = withoutHop(req.rawHeaders);
  let head = `${req.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1\r\n`;
  for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  up.socket.write(`${head}\r\n`, 'latin1');
  res.on('close', () => {
    if (up.res === res) up.socket.destroy();
  });
});
server.keepAliveTimeout = parseKeepAliveArg();
lifeline(() => server.close());
server.listen(parsePortArg(), '127.0.0.1', () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`llhttp-minimal listening on 127.0.0.1:${port}`);
});
