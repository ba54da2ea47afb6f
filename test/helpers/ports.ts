/** Loopback ports for tests that need nothing listening (connection refused). */
import net from 'node:net';
import { within } from './raw.js';

/** A loopback port nobody listens on: bound to 127.0.0.1, read, then released (bounded waits). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await within(2000, new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 'listen');
  const port = (server.address() as net.AddressInfo).port;
  await within(2000, new Promise<void>((resolve) => server.close(() => resolve())), 'close');
  return port;
}
