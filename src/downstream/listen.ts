/**
 * Binding and closing listeners, shared by the proxy's own listeners, its admin listener and the primary of
 * `--workers N`. A bind failure becomes a {@link ListenError} that says which listener failed, so the process edge
 * can tell the user which port to change (the admin listener defaults to the proxy port + 1, which surprises).
 */
import type { Server } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Which listener: the main proxy listener, a gateway route (`routes[i]`), or the admin listener. */
export type ListenerRole = 'proxy' | 'admin' | `routes[${number}]`;

/** A listener could not bind: which one, where, and the errno code (`EADDRINUSE`, `EACCES`, ...). */
export class ListenError extends Error {
  readonly listener: ListenerRole;
  readonly host: string;
  readonly port: number;
  readonly code: string | undefined;
  /** The system's own message (`listen EADDRINUSE: address already in use 127.0.0.1:8081`). */
  readonly detail: string;

  constructor(listener: ListenerRole, host: string, port: number, code: string | undefined, detail: string) {
    super(`${listener} listener ${host}:${port}: ${detail}`);
    this.detail = detail;
    this.name = 'ListenError';
    this.listener = listener;
    this.host = host;
    this.port = port;
    this.code = code;
  }

  static from(f: ListenFailure): ListenError {
    return new ListenError(f.listener, f.host, f.port, f.code, f.detail);
  }

  toJSON(): ListenFailure {
    return { listener: this.listener, host: this.host, port: this.port, code: this.code, detail: this.detail };
  }
}

/** A {@link ListenError} as plain data, to cross a process boundary (a worker tells the primary). */
export interface ListenFailure {
  readonly listener: ListenerRole;
  readonly host: string;
  readonly port: number;
  readonly code: string | undefined;
  readonly detail: string;
}

/** Binds `server` to host:port; resolves with the bound address, rejects with a {@link ListenError}. */
export function listenOn(server: Server, host: string, port: number, role: ListenerRole): Promise<Address> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(role, host, port, err.code, err.message));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const a = server.address() as AddressInfo;
      resolve({ host: a.address, port: a.port });
    });
  });
}

/**
 * Closes a listener; with `dropConnections` (the admin listener: nothing there is worth draining) its open
 * connections are closed too. Resolves at once when it is not listening.
 */
export function closeServer(server: Server & { closeAllConnections?: () => void }, dropConnections = false): Promise<void> {
  if (dropConnections) server.closeAllConnections?.();
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}
