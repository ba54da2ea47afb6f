/**
 * Accept-time admission of client connections (issue 7): who may connect (`access.clients`, decided by the access
 * guard) and how many connections may be open at once, globally and per client address (`downstream.maxConnections`,
 * `downstream.maxConnectionsPerClient`; 0 = unlimited). A refused connection gets one raw response from the one writer
 * (`403` or `503`, with Proxy-Status) and is closed by the tracker, which owns the socket; every refusal is a
 * telemetry event and so a log line.
 */
import type { Refusal } from '../access/verdict.js';
import type { Config } from '../config/schema.js';
import { ProxyError } from '../errors/index.js';
import type { Telemetry } from '../observability/events.js';
import type { ConnectionTracker, DownstreamConnection } from './connections.js';

/** Decides at accept time whether a connection may stay; a refusal (the one verdict type) is answered raw and closed. */
export type ConnectionAdmission = (conn: DownstreamConnection) => Refusal | undefined;

/**
 * How often Node's http.Server looks for slow heads and requests. Its default (30 s) would let a slowloris client
 * outlive a short `headersTimeout` by up to that much (SPEC §3.4): check four times per timeout, within 50 ms – 1 s.
 */
export function checkingInterval(cfg: Config['downstream']): number {
  const timeouts = [cfg.headersTimeout, cfg.requestTimeout].filter((t) => t > 0);
  if (timeouts.length === 0) return 30_000;
  return Math.max(50, Math.min(1000, Math.floor(Math.min(...timeouts) / 4)));
}

/**
 * The connection limits as an admission step. Counts include the connection being admitted and open tunnels. Over a
 * limit: `503` (the condition is temporary, RFC 9110 §15.6.4) and a `downstream.refused` event.
 */
export function connectionLimits(cfg: Config['downstream'], tracker: ConnectionTracker, telemetry: Telemetry): ConnectionAdmission {
  return (conn) => {
    let reason: 'max-connections' | 'max-connections-per-client' | undefined;
    if (cfg.maxConnections > 0 && tracker.open > cfg.maxConnections) reason = 'max-connections';
    else if (cfg.maxConnectionsPerClient > 0 && tracker.connectionsFrom(conn.remoteAddress) > cfg.maxConnectionsPerClient) {
      reason = 'max-connections-per-client';
    }
    if (reason === undefined) return undefined;
    telemetry.emit({ type: 'downstream.refused', conn: conn.id, remote: conn.remoteAddress, reason });
    const key = reason === 'max-connections' ? 'maxConnections' : 'maxConnectionsPerClient';
    const message = `too many connections (downstream.${key} = ${cfg[key]}); retry later`;
    return { ok: false, error: new ProxyError('TOO_MANY_CONNECTIONS', message, { leg: 'downstream', phase: 'request-head' }), headers: [] };
  };
}
