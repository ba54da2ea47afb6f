/**
 * Refusing a CONNECT or an Upgrade before its tunnel exists: the answer (from the one writer, src/errors/respond.ts)
 * goes out as raw bytes on a socket Node's HTTP server has already given up, and the connection then closes through
 * the one lingering close (src/errors/linger.ts). While it lingers the socket is a member of the tunnel registry, so
 * shutdown reaches it.
 */
import type { Socket } from 'node:net';
import { closeLingering, rawErrorResponse, type ProxyError } from '../errors/index.js';
import type { TunnelMember, Tunnels } from './registry.js';

/** Write `err` (status from the one table) on `client`, close it, and keep it reachable for shutdown until closed. */
export function refuseAndClose(tunnels: Tunnels, client: Socket, err: ProxyError, extra: readonly string[] = []): number {
  const member: TunnelMember = { destroy: () => client.destroy() };
  tunnels.add(member);
  const { bytes, bodyLength } = rawErrorResponse(err, client, extra);
  closeLingering(client, bytes, () => tunnels.delete(member));
  return bodyLength;
}
