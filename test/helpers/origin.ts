/**
 * Real loopback origin servers for integration tests: they record what they received (raw headers in order, body
 * hash) and count accepted TCP connections, so tests can assert on what crossed the upstream hop.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  readonly headers: http.IncomingHttpHeaders;
  readonly bodyLength: number;
  readonly bodySha256: string;
  readonly socketIndex: number;
}

export type OriginHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

export interface TestOrigin {
  readonly port: number;
  readonly url: string;
  readonly origin: string;
  readonly server: http.Server;
  readonly seen: SeenRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Default handler: 200, small text body echoing method and url. */
const hello: OriginHandler = (req, res) => {
  const body = `hello ${req.method} ${req.url}\n`;
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
};

/** Start an origin on 127.0.0.1:0. `opts.keepAliveTimeout` sets Node's idle timeout (ms). */
export async function startOrigin(
  handler: OriginHandler = hello,
  opts: { keepAliveTimeout?: number; bufferBody?: boolean } = {},
): Promise<TestOrigin> {
  const seen: SeenRequest[] = [];
  const sockets = new Map<Socket, number>();
  let accepted = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      length += c.length;
      if (opts.bufferBody !== false) chunks.push(c);
    });
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        httpVersion: req.httpVersion,
        rawHeaders: [...req.rawHeaders],
        headers: req.headers,
        bodyLength: length,
        bodySha256: hash.digest('hex'),
        socketIndex: sockets.get(req.socket) ?? -1,
      });
      handler(req, res, Buffer.concat(chunks));
    });
  });
  server.keepAliveTimeout = opts.keepAliveTimeout ?? 5000;
  server.on('connection', (s: Socket) => {
    sockets.set(s, ++accepted);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    server,
    seen,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
