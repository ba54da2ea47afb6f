/**
 * The registry of tunnel work (SPEC §6, §7): every CONNECT being dialled, every Upgrade waiting for its `101`, every
 * established tunnel, and every refused client socket still lingering. Once a client socket has been handed off by
 * the downstream tracker, this registry is how the proxy still reaches it: `destroyAll()` on shutdown (SPEC §10.1).
 */

/** Why a tunnel closed: the first of these to happen wins. */
export type TunnelCloseReason = 'client-closed' | 'origin-closed' | 'idle-timeout' | 'error' | 'shutdown';

export type TunnelKind = 'connect' | 'upgrade';

/** Anything that owns tunnel sockets, pending or established. */
export interface TunnelMember {
  /** Close every socket it owns now. */
  destroy(reason: TunnelCloseReason): void;
}

export class Tunnels {
  readonly #members = new Set<TunnelMember>();
  #nextId = 1;
  #closing = false;
  #allClosed: (() => void) | undefined;

  /** A fresh tunnel id (for the `tunnel` field of telemetry and logs). */
  nextId(): number {
    return this.#nextId++;
  }

  /** Register a member; while shutting down it is destroyed at once instead. */
  add(member: TunnelMember): void {
    if (this.#closing) {
      member.destroy('shutdown');
      return;
    }
    this.#members.add(member);
  }

  /** A member has closed every socket it owned. */
  delete(member: TunnelMember): void {
    this.#members.delete(member);
    if (this.#members.size > 0) return;
    const done = this.#allClosed;
    this.#allClosed = undefined;
    done?.();
  }

  get size(): number {
    return this.#members.size;
  }

  /** True once shutdown began: no new tunnel may start. */
  get closing(): boolean {
    return this.#closing;
  }

  /** Stop admitting tunnels; the established ones keep running until they end or `destroyAll()` (SPEC §10.1). */
  startClosing(): void {
    this.#closing = true;
  }

  /** Resolves when no member is left. */
  whenAllClosed(): Promise<void> {
    if (this.#members.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#allClosed;
      this.#allClosed = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Destroy every member (end of the drain period, or `destroy()`). */
  destroyAll(): void {
    this.#closing = true;
    for (const member of [...this.#members]) member.destroy('shutdown');
  }
}
