/**
 * Refusing a CONNECT or an Upgrade before its tunnel exists: the answer goes out as raw bytes on a socket Node's HTTP
 * server has already given up, and the connection then closes. The close lingers (RFC 9112 §9.6): unread client bytes
 * are drained so the kernel does not answer them with a reset that could destroy our answer in flight, and the
 * socket is destroyed after a short grace period if the client keeps its half open.
 */
import type { Socket } from 'node:net';
import type { ProxyError } from '../errors/index.js';
import { writeRawProxyError } from '../forward/respond.js';
import type { TunnelMember, Tunnels } from './registry.js';

/** How long a refused client may keep its half of the connection open after the answer. */
export const LINGER_MS = 2000;

/** Write `err` (status from the one table) on `client`, close it, and keep it reachable for shutdown until closed. */
export function refuseAndClose(tunnels: Tunnels, client: Socket, err: ProxyError, extra: readonly string[] = []): number {
  const member: TunnelMember = { destroy: () => client.destroy() };
  tunnels.add(member);
  const timer = setTimeout(() => client.destroy(), LINGER_MS);
  client.once('close', () => {
    clearTimeout(timer);
    tunnels.delete(member);
  });
  client.on('error', () => undefined);
  client.resume();
  return writeRawProxyError(client, err, extra);
}
