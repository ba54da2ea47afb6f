/**
 * A tiny counting parent proxy on loopback (issue 13): a forward proxy of our own to chain hopwise to, which records
 * every request line, its `Proxy-Authorization` and raw head, and counts TCP connections, so tests can assert on what
 * crossed the hop to the parent. It resolves `*.test` names to 127.0.0.1 ({@link testLookup}). It forwards absolute-form requests (with its own keep-alive agent) and opens
 * `CONNECT` tunnels. Its `behaviour` can be switched at any time: demand credentials (`407` with a
 * `Proxy-Authenticate` challenge), reset every connection, hang (accept and never answer), or answer garbage.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo, LookupFunction, Socket } from 'node:net';
import { within } from './raw.js';

/**
 * Name resolution for chaining tests: every `*.test` name (RFC 6761 §6.2) is 127.0.0.1, anything else does not
 * resolve. It lets a test use destinations that are not loopback *names* (loopback names always go direct) while all
 * traffic stays on loopback.
 */
export const testLookup = ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
  if (!hostname.endsWith('.test')) {
    callback(Object.assign(new Error(`no such name ${hostname}`), { code: 'ENOTFOUND' }));
    return;
  }
  if ((options as { all?: boolean } | undefined)?.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
}) as LookupFunction;

export type ParentBehaviour = 'forward' | 'reset' | 'hang' | 'garbage';

export interface ParentRequest {
  /** `METHOD target HTTP/x.y`, as received. */
  readonly line: string;
  readonly method: string;
  readonly target: string;
  readonly rawHeaders: readonly string[];
  readonly proxyAuthorization: string | undefined;
  /** Which accepted connection (0-based) carried it. */
  readonly connection: number;
}

export interface CountingParent {
  readonly port: number;
  /** `http://127.0.0.1:port` */
  readonly url: string;
  readonly requests: ParentRequest[];
  behaviour: ParentBehaviour;
  /** When set, requests without exactly this `Proxy-Authorization` get `407`. */
  requiredAuth: string | undefined;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export const PARENT_CHALLENGE = 'Basic realm="parent"';

/** Start a counting parent on 127.0.0.1:0. */
export async function startCountingParent(opts: { requiredAuth?: string; tls?: { key: Buffer; cert: Buffer } } = {}): Promise<CountingParent> {
  const requests: ParentRequest[] = [];
  const sockets = new Map<Socket, number>();
  const tunnels = new Set<Socket>();
  const agent = new http.Agent({ keepAlive: true, lookup: testLookup });
  let accepted = 0;
  const record = (req: http.IncomingMessage): ParentRequest => {
    const auth = req.headers['proxy-authorization'];
    const r: ParentRequest = {
      line: `${req.method} ${req.url} HTTP/${req.httpVersion}`,
      method: req.method ?? '',
      target: req.url ?? '',
      rawHeaders: [...req.rawHeaders],
      proxyAuthorization: typeof auth === 'string' ? auth : undefined,
      connection: sockets.get(req.socket) ?? -1,
    };
    requests.push(r);
    return r;
  };
  const refused = (r: ParentRequest): boolean => parent.requiredAuth !== undefined && r.proxyAuthorization !== parent.requiredAuth;

  const handler: http.RequestListener = (req, res) => {
    const r = record(req);
    if (parent.behaviour === 'hang') return;
    if (parent.behaviour === 'garbage') {
      req.socket.end('this is not HTTP at all\r\n\r\n');
      return;
    }
    if (refused(r)) {
      res.writeHead(407, { 'Proxy-Authenticate': PARENT_CHALLENGE, 'Content-Length': '0' }).end();
      return;
    }
    const upstream = http.request(r.target, { method: req.method, headers: withoutHop(req.rawHeaders), agent, setHost: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, withoutHop(up.rawHeaders));
      up.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Length': '0' }).end();
      else res.destroy();
    });
    req.pipe(upstream);
  };
  // `tls`: a parent reached over TLS (an https:// parent URL); its connections are counted once the handshake is done.
  const server = opts.tls === undefined ? http.createServer(handler) : https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler);
  server.on(opts.tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => {
    sockets.set(socket, accepted++);
    if (parent.behaviour === 'reset') socket.resetAndDestroy();
  });
  server.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    const r = record(req);
    tunnels.add(client);
    client.on('close', () => tunnels.delete(client));
    if (parent.behaviour === 'hang') return;
    if (parent.behaviour === 'garbage') {
      client.end('garbage garbage\r\n\r\n');
      return;
    }
    if (refused(r)) {
      client.end(`HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: ${PARENT_CHALLENGE}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const colon = r.target.lastIndexOf(':');
    const host = r.target.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const origin = net.connect({ host, port: Number(r.target.slice(colon + 1)), allowHalfOpen: true, lookup: testLookup });
    tunnels.add(origin);
    origin.on('close', () => tunnels.delete(origin));
    origin.once('connect', () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) origin.write(head);
      client.pipe(origin);
      origin.pipe(client);
    });
    origin.on('error', () => client.destroy());
    client.on('error', () => origin.destroy());
  });
  await within(2000, new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 'parent listen');
  const port = (server.address() as AddressInfo).port;
  const parent: CountingParent = {
    port,
    url: `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    requests,
    behaviour: 'forward',
    requiredAuth: opts.requiredAuth,
    connections: () => accepted,
    close: async () => {
      for (const s of tunnels) s.destroy();
      agent.destroy();
      server.closeAllConnections();
      await within(2000, new Promise<void>((resolve) => server.close(() => resolve())), 'parent close');
    },
  };
  return parent;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The end-to-end fields of a raw head, as a flat list Node's writeHead/request accept. */
function withoutHop(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  return out;
}
