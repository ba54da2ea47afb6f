/**
 * The end of a proxy's life (SPEC §10.1): stop accepting, drain or cut what is in flight, close the pools and the
 * admin listener. Split from proxy.ts, which wires the proxy together; this only takes it apart.
 */
import type http from 'node:http';
import net from 'node:net';
import type { ConnectionTracker } from './downstream/connections.js';
import { closeServer } from './downstream/listen.js';
import { parserIdle } from './downstream/server.js';
import type { Tunnels } from './tunnel/registry.js';

/** What shutdown needs of a proxy's shared parts. */
export interface Drainable {
  readonly config: { readonly shutdown: { readonly drainTimeout: number } };
  readonly tracker: ConnectionTracker;
  readonly tunnels: Tunnels;
  readonly pools: { close(): Promise<void>; destroy(): Promise<void> };
}

/**
 * Stop accepting first (SPEC §10.1), then let the tracker close idle connections. `http.Server.close()` does it the
 * other way round (it closes idle connections, then the listener), so a client whose idle connection was just closed
 * could reconnect into the still-open listener and be reset. Resolves when every connection is gone.
 */
function stopAccepting(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    // net.Server's close, not http.Server's: the listener only. Node's connection-checking interval is unref'd and
    // keeps enforcing headersTimeout on draining connections, which is what we want.
    net.Server.prototype.close.call(server, () => resolve());
  });
}

/**
 * Stop accepting; when graceful, let in-flight exchanges and open tunnels finish up to `shutdown.drainTimeout`
 * (SPEC §10.1); then destroy what is left on both sides and close the pools and the admin listener.
 */
export async function shutdown(
  s: Drainable,
  servers: readonly http.Server[],
  admin: http.Server | undefined,
  graceful: boolean,
  finished: () => void,
): Promise<void> {
  const { tracker, tunnels } = s;
  const stopped = Promise.all(servers.map(stopAccepting));
  // A connection on which part of a request has arrived is not idle: its request is answered (no lost response).
  tracker.startClosing(parserIdle(servers));
  tunnels.startClosing();
  if (graceful) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, s.config.shutdown.drainTimeout);
    });
    await Promise.race([Promise.all([tracker.whenAllClosed(), tunnels.whenAllClosed()]), deadline]);
    clearTimeout(timer);
  }
  tunnels.destroyAll();
  tracker.destroyAll();
  await Promise.all([tracker.whenAllClosed(), tunnels.whenAllClosed()]);
  await stopped;
  await (graceful ? s.pools.close() : s.pools.destroy());
  if (admin !== undefined) await closeServer(admin, true);
  finished();
}
