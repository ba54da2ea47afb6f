/**
 * Turns telemetry into log entries: the access log (one `request` entry per exchange at info, SPEC §8.2) and
 * connection lifecycle entries at debug. Fields are structured; formatting happens in the logger's transport.
 */
import type { Telemetry } from './events.js';
import type { LogFields, Logger } from './logger.js';

export function attachLogging(telemetry: Telemetry, logger: Logger, opts: { access: boolean }): () => void {
  const debug = logger.enabled('debug');
  const info = logger.enabled('info');
  return telemetry.on((e) => {
    switch (e.type) {
      case 'request':
        // The record is flat data the logger only reads: passed as is, no copy per request (issue 12).
        if (opts.access && info) logger.info('request', e.record as unknown as LogFields);
        return;
      case 'access.denied':
        // Never the credentials: `reason` is a fixed phrase or a destination, never a header value (issue 7).
        logger.warn('access-denied', { leg: e.leg, conn: e.conn, remote: e.remote, kind: e.kind, reason: e.reason });
        return;
      case 'downstream.refused':
        logger.warn('connection-limit', { leg: 'downstream', conn: e.conn, remote: e.remote, reason: e.reason });
        return;
      case 'upstream.error':
        if (debug) logger.debug('upstream-error', { leg: 'upstream', origin: e.origin, code: e.code });
        return;
      case 'upstream.retry':
        if (info) logger.info('stale-retry', { leg: 'upstream', origin: e.origin, method: e.method });
        return;
      case 'upstream.connect-error':
        if (debug) logger.debug('upstream-connect-error', { leg: 'upstream', origin: e.origin, code: e.code });
        return;
      case 'upstream.open':
        if (debug) logger.debug('upstream-open', { leg: 'upstream', origin: e.origin, upstream: e.socket, connectMs: e.connectMs });
        return;
      case 'upstream.close':
        if (debug)
          logger.debug('upstream-close', { leg: 'upstream', origin: e.origin, upstream: e.socket, reason: e.reason, requests: e.requests });
        return;
      case 'downstream.open':
        if (debug) logger.debug('downstream-open', { leg: 'downstream', conn: e.conn, remote: e.remote });
        return;
      case 'downstream.close':
        if (debug) logger.debug('downstream-close', { leg: 'downstream', conn: e.conn, reason: e.reason, requests: e.requests });
        return;
      case 'tunnel.open':
        if (debug) logger.debug('tunnel-open', { leg: 'downstream', conn: e.conn, tunnel: e.tunnel, kind: e.kind, target: e.target });
        return;
      case 'tunnel.close':
        // A tunnel's access-log line: its request was logged when it was answered, its bytes only now (SPEC §8.2).
        if (opts.access && info) {
          const { tunnel, kind, target, reason, bytesIn, bytesOut, ms } = e;
          logger.info('tunnel', { tunnel, kind, target, reason, bytesIn, bytesOut, ms });
        }
        return;
      default:
        return;
    }
  });
}
