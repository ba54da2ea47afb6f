/**
 * Loopback ports for tests: one nothing listens on (connection refused), and ports held by a plain listener so that
 * hopwise finds them in use.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { within } from './raw.js';

/** A loopback port nobody listens on: bound to 127.0.0.1, read, then released (bounded waits). */
export async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await within(2000, new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 'listen');
  const port = (server.address() as net.AddressInfo).port;
  await within(2000, new Promise<void>((resolve) => server.close(() => resolve())), 'close');
  return port;
}

export interface HeldPort {
  readonly port: number;
  close(): Promise<void>;
}

function listen(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function held(server: net.Server): HeldPort {
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

/** Holds a free port. */
export async function holdPort(): Promise<HeldPort> {
  return held((await listen(0))!);
}

/**
 * Holds port Q such that Q - 1 was free a moment ago: `--port Q-1` then finds its admin listener (port + 1) taken.
 * Bounded: a few attempts.
 */
export async function holdAdminPortOfFreeProxyPort(): Promise<{ proxyPort: number; admin: HeldPort }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const admin = held((await listen(0))!);
    const probe = admin.port > 1024 ? await listen(admin.port - 1) : undefined;
    if (probe !== undefined) {
      await held(probe).close();
      return { proxyPort: admin.port - 1, admin };
    }
    await admin.close();
  }
  throw new Error('no free port P with P + 1 free found in 20 attempts');
}
