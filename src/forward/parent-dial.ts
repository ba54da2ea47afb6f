/**
 * WebSocket upgrades through a parent proxy (issue 13, SPEC §4.7): the "dial via parent" step of the upgrade relay.
 * Instead of the connector's socket to the origin, a tunnel of our own (`CONNECT host:port` to the first reachable
 * parent, upstream/parents.ts), wrapped in TLS for `wss:` (SNI and ALPN as the connector does for https origins).
 * The caller owns the socket it gets (STYLE rule 2).
 */
import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { classifyUpstreamError } from '../errors/index.js';
import type { ParentProxy } from '../policy/parent.js';
import type { ParentSet } from '../upstream/parents.js';
import type { DialOptions, DialTarget } from '../upstream/connector.js';

/** The socket to the origin through a parent, and the parent that carried it. */
export async function dialViaParent(
  parents: ParentSet,
  order: readonly ParentProxy[],
  target: DialTarget,
  authorization: (p: ParentProxy) => string | undefined,
  signal: AbortSignal | undefined,
  opts: DialOptions = {},
): Promise<{ socket: Socket; parent: ParentProxy }> {
  const authority = target.hostname.includes(':') ? `[${target.hostname}]:${target.port}` : `${target.hostname}:${target.port}`;
  const got = await parents.tunnel(order, authority, authorization, signal, opts);
  const socket = got.dialed.socket;
  // The tunnel is left paused with anything after the parent's 200 unshifted; the origin speaks only after our
  // handshake (or TLS ClientHello), so flowing now loses nothing and the relay's own reader sees every byte.
  socket.resume();
  if (!target.secure) return { socket, parent: got.parent };
  const servername = net.isIP(target.hostname) === 0 ? target.hostname : undefined;
  const secure = tls.connect({ socket, servername, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      secure.destroy();
      reject(classifyUpstreamError(err, { origin: target.origin, phase: 'connect', responseStarted: false }));
    };
    secure.once('error', onError);
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve();
    });
  });
  return { socket: secure, parent: got.parent };
}
