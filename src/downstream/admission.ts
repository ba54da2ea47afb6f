/**
 * Accept-time admission of client connections (issue 7): who may connect (`access.clients`, decided by the access
 * guard) and how many connections may be open at once, globally and per client address (`downstream.maxConnections`,
 * `downstream.maxConnectionsPerClient`; 0 = unlimited). A refused connection gets one raw response (`403` or `503`)
 * and is closed by the tracker, which owns the socket; every refusal is a telemetry event and so a log line.
 */
import type { Config } from '../config/schema.js';
import type { Telemetry } from '../observability/events.js';
import type { ConnectionTracker, DownstreamConnection } from './connections.js';

/** Decides at accept time whether a connection may stay; a refusal is answered raw and closed. */
export type ConnectionAdmission = (conn: DownstreamConnection) => ConnectionRefusal | undefined;

export interface ConnectionRefusal {
  readonly status: 403 | 503;
  readonly reason: 'access-denied' | 'over-limit';
  /** One line for the response body. */
  readonly message: string;
}

/** A complete raw response that closes the connection (there is no request object to answer through). */
export function rawResponse(status: number, text: string, message: string): string {
  const body = `hopwise: ${status} ${text}: ${message}\n`;
  return (
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`
  );
}

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
    const limit = reason === 'max-connections' ? cfg.maxConnections : cfg.maxConnectionsPerClient;
    return { status: 503, reason: 'over-limit', message: `too many connections (downstream.${reason === 'max-connections' ? 'maxConnections' : 'maxConnectionsPerClient'} = ${limit}); retry later` };
  };
}
