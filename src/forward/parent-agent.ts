/**
 * WebSocket upgrades through a parent proxy (issue 13, SPEC §4.7): the "dial via parent" step for the upgrade relay.
 * http-proxy-3 opens its upstream request through an `http.Agent`; this one-shot agent's connection is a tunnel of
 * our own (`CONNECT host:port` to the first reachable parent, upstream/parents.ts), wrapped in TLS for `wss:`. Node's
 * agent API takes an asynchronous `createConnection` (the callback form), so the tunnel is awaited, never blocked on.
 */
import http from 'node:http';
import type { ClientRequestArgs } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { ProxyError, classifyUpstreamError } from '../errors/index.js';
import type { ParentProxy } from '../policy/parent.js';
import type { UpstreamTarget } from '../policy/target.js';
import type { ParentSet } from '../upstream/parents.js';

export class ParentTunnelAgent extends http.Agent {
  readonly #open: () => Promise<net.Socket>;
  readonly #target: UpstreamTarget;
  /** The parent that carried the tunnel, once known (for the request's log entry). */
  parent: ParentProxy | undefined;
  /** The parent tried first: the route named when every attempt failed. */
  readonly first: string | undefined;

  /** `order`: the parents to try, in order; `authorization`: this hop's credentials for the parent dialled. */
  constructor(parents: ParentSet, order: readonly ParentProxy[], target: UpstreamTarget, authorization: (p: ParentProxy) => string | undefined) {
    super({ keepAlive: false });
    this.#target = target;
    this.first = order[0]?.key;
    const authority = target.hostname.includes(':') ? `[${target.hostname}]:${target.port}` : `${target.hostname}:${target.port}`;
    this.#open = async () => {
      const got = await parents.tunnel(order, authority, authorization, undefined, {});
      this.parent = got.parent;
      return got.dialed.socket;
    };
    // Node checks the agent's protocol against the request's: the relay uses https.request for wss: targets.
    (this as unknown as { protocol: string }).protocol = target.protocol;
  }

  override createConnection(_options: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): undefined {
    const done = callback ?? (() => undefined);
    this.#open().then(
      (socket) => {
        // The origin speaks only after our upgrade request: nothing can be lost by flowing now.
        socket.resume();
        if (this.#target.protocol === 'http:') {
          done(null, socket);
          return;
        }
        const servername = net.isIP(this.#target.hostname) === 0 ? this.#target.hostname : undefined;
        const secure = tls.connect({ socket, servername, ALPNProtocols: ['http/1.1'] });
        const onError = (err: Error): void => {
          secure.destroy();
          done(classifyUpstreamError(err, { origin: this.#target.origin, phase: 'connect', responseStarted: false }), secure);
        };
        secure.once('error', onError);
        secure.once('secureConnect', () => {
          secure.off('error', onError);
          done(null, secure);
        });
      },
      (err: Error) => done(err instanceof ProxyError ? err : classifyUpstreamError(err, { origin: this.#target.origin, phase: 'connect', responseStarted: false }), undefined as unknown as Duplex),
    );
    return undefined;
  }
}
