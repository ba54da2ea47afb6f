/**
 * TIME_WAIT sockets on loopback for one port (the `pooling` demo): every TCP connection leaves one behind on the side
 * that closed first, for 60 s on Linux. Read from `/proc/net/tcp` and `/proc/net/tcp6`; elsewhere, unavailable.
 */
import { readFile } from 'node:fs/promises';

/** `st` column value of TIME_WAIT in /proc/net/tcp (include/net/tcp_states.h: TCP_TIME_WAIT = 6). */
const TIME_WAIT = '06';
const LOOPBACK_V4 = /^[0-9A-F]{6}7F$/i; // 127.x.y.z, stored little-endian per 32-bit word
const LOOPBACK_V6 = new Set(['00000000000000000000000001000000', '0000000000000000FFFF00000100007F']);

const isLoopback = (hexAddress: string): boolean => LOOPBACK_V4.test(hexAddress) || LOOPBACK_V6.has(hexAddress.toUpperCase());

/**
 * The TIME_WAIT entries of a /proc/net/tcp(6) table whose local or remote port is `port`, both ends on loopback, as
 * `local->remote` strings (a connection's 4-tuple is unique while it lingers). Pure; lines that do not parse are
 * skipped.
 */
export function timeWaitTuples(table: string, port: number): string[] {
  const tuples: string[] = [];
  for (const line of table.split('\n')) {
    const [, local = '', remote = '', state = ''] = line.trim().split(/\s+/);
    if (state !== TIME_WAIT) continue;
    const [localAddress = '', localPort = ''] = local.split(':');
    const [remoteAddress = '', remotePort = ''] = remote.split(':');
    const onPort = parseInt(localPort, 16) === port || parseInt(remotePort, 16) === port;
    if (onPort && isLoopback(localAddress) && isLoopback(remoteAddress)) tuples.push(`${local}->${remote}`);
  }
  return tuples;
}

/**
 * A snapshot of the TIME_WAIT sockets on loopback involving `port`, or null where /proc/net/tcp is not available.
 * On a busy machine a port number may already appear in old entries (it was once someone's ephemeral port), so
 * demos count what is new between two snapshots: {@link newSince}.
 */
export async function timeWaitSnapshot(port: number): Promise<ReadonlySet<string> | null> {
  const tables = await Promise.all(
    ['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readFile(file, 'latin1').catch(() => null)),
  );
  if (tables.every((t) => t === null)) return null;
  return new Set(tables.flatMap((t) => (t === null ? [] : timeWaitTuples(t, port))));
}

/** Entries in `after` that were not in `before`; null if either snapshot is unavailable. */
export function newSince(before: ReadonlySet<string> | null, after: ReadonlySet<string> | null): number | null {
  if (before === null || after === null) return null;
  let count = 0;
  for (const tuple of after) if (!before.has(tuple)) count++;
  return count;
}
