/**
 * `downstream.maxBodySize` for bodies without a declared length (chunked; issue 7). A declared `Content-Length`
 * over the limit is refused before any byte is read (request-gate.ts); a chunked body is counted as it streams
 * upstream and, once over the limit, the stream fails with PAYLOAD_TOO_LARGE: the upstream connection is destroyed with
 * that error and the exchange answers `413` if no response head was relayed yet.
 */
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { ProxyError } from '../errors/index.js';

/** The request body as a stream that fails after `max` bytes; `onExceeded` runs first (close the connection). */
export function limitBody(req: IncomingMessage, max: number, onExceeded: () => void): Readable {
  let seen = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen <= max) {
        callback(null, chunk);
        return;
      }
      req.unpipe(limiter);
      onExceeded();
      callback(new ProxyError('PAYLOAD_TOO_LARGE', `request body exceeds downstream.maxBodySize (${max} bytes)`, { leg: 'downstream', phase: 'request-body' }));
    },
  });
  // A client that goes away mid-body fails the upstream body too (the exchange sees the client close as well).
  req.once('error', (err) => limiter.destroy(err));
  req.pipe(limiter);
  return limiter;
}
