/**
 * A WebSocket client for the relay tests. With `forwardProxy`, the handshake goes to that proxy port with the
 * absolute-form target a forward-proxy client sends (`GET ws://host/path`); otherwise straight to the URL's host.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { within } from './raw.js';

export interface OpenWebSocket {
  readonly forwardProxy?: number;
  /** Last changes to the handshake request before it is sent (extra headers). */
  readonly prepare?: (req: http.ClientRequest) => void;
  /** The test's cleanup registrar (`useCleanup().defer`): the socket is terminated after the test. */
  readonly defer: (fn: () => unknown) => void;
}

/** Open a WebSocket to `url`; resolves once the handshake is done, with the `101` the client received (bounded). */
export function openWebSocket(url: string, opts: OpenWebSocket): Promise<{ ws: WebSocket; res: http.IncomingMessage }> {
  const { forwardProxy, prepare } = opts;
  const ws = new WebSocket(url, {
    ...(forwardProxy !== undefined && { createConnection: () => net.connect(forwardProxy, '127.0.0.1') }),
    finishRequest: (req: http.ClientRequest) => {
      prepare?.(req);
      if (forwardProxy !== undefined) req.path = url;
      req.end();
    },
  });
  opts.defer(() => ws.terminate());
  return within(
    5000,
    new Promise((resolve, reject) => {
      let res: http.IncomingMessage | undefined;
      ws.once('upgrade', (r) => (res = r));
      ws.once('open', () => resolve({ ws, res: res! }));
      ws.once('error', reject);
    }),
    'the WebSocket handshake',
  );
}

/**
 * An echo WebSocket origin on an ephemeral loopback port, closed (every client terminated) by `defer`. `setup` may
 * decorate it before it listens (e.g. rewrite its 101 headers). Resolves with its port.
 */
export async function startEchoWebSocketOrigin(
  defer: (fn: () => unknown) => void,
  setup?: (wss: WebSocketServer, server: http.Server) => void,
): Promise<number> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  setup?.(wss, server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}
