/**
 * Interim (1xx) responses relayed to the client (RFC 9110 §15.2: a proxy MUST forward them to HTTP/1.1 clients, and
 * MUST NOT send them to HTTP/1.0 ones — the caller checks the version). Node's public API writes only `103` with a
 * `Link` (`writeEarlyHints`) and a bare `102` (`writeProcessing`); both go through the response's `_writeRaw`, which
 * writes on the socket when this response is the one attached to it, or queues the bytes in order behind a response
 * still being written (pipelining). The same path carries any 1xx with its fields as the origin sent them (SPEC §1.3).
 */
import type { ServerResponse } from 'node:http';

type RawWriter = { _writeRaw?: (data: string, encoding: BufferEncoding) => boolean };

/** Characters that may not appear in a field or reason phrase written on the wire (CR, LF, NUL). */
const UNSAFE = /[\r\n\0]/;

/** Write one interim head before the final response; false when it could not be written (it is then dropped). */
export function writeInterim(res: ServerResponse, status: number, reason: string, headers: readonly string[]): boolean {
  const writer = res as unknown as RawWriter;
  if (typeof writer._writeRaw !== 'function' || res.headersSent || res.destroyed) return false;
  let head = `HTTP/1.1 ${status} ${UNSAFE.test(reason) ? '' : reason}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (UNSAFE.test(name) || UNSAFE.test(value)) continue;
    head += `${name}: ${value}\r\n`;
  }
  writer._writeRaw.call(res, `${head}\r\n`, 'latin1');
  return true;
}
