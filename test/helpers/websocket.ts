/**
 * A WebSocket client for the relay tests. With `forwardProxy`, the handshake goes to that proxy port with the
 * absolute-form target a forward-proxy client sends (`GET ws://host/path`); otherwise straight to the URL's host.
 */
import type http from 'node:http';
import net from 'node:net';
import WebSocket from 'ws';
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
