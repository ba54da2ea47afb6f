/**
 * The flow ring (issue 14, SPEC §8.4): the last `flows.size` flow records, oldest overwritten first. It subscribes to
 * the `flow` telemetry event; with size 0 it does not subscribe and tells the exchanges not to build records at all
 * (`Telemetry.flows` stays false), so recording off costs nothing per request.
 *
 * Records are complete when they arrive, so a read is a copy of the slot array: a consistent snapshot however much
 * traffic flows while a HAR export is being formatted.
 */
import { FlowRecord } from './flow-record.js';
import type { Telemetry, TelemetryEvent } from './events.js';

/** Filters of `/flows` (all optional; `status` is an exact code or a class such as `5xx`). */
export interface FlowFilter {
  readonly origin?: string;
  readonly status?: string;
  readonly limit?: number;
}

export class FlowRing {
  readonly #slots: (FlowRecord | undefined)[];
  #next = 0;
  #lastId = 0;
  readonly #unsubscribe: (() => void) | undefined;
  readonly #listeners = new Set<(flow: FlowRecord) => void>();
  /** Open tunnels' client connections (tunnel id → conn), until their close event. */
  readonly #tunnelConns = new Map<number, number>();

  /** `size` 0: records nothing and leaves `telemetry.flows` off. */
  constructor(size: number, telemetry?: Telemetry) {
    this.#slots = new Array<FlowRecord | undefined>(size);
    if (size > 0 && telemetry !== undefined) {
      telemetry.flows = true;
      this.#unsubscribe = telemetry.on((e) => {
        if (e.type === 'flow') this.add(e.flow);
        else if (e.type === 'tunnel.open') this.#tunnelConns.set(e.tunnel, e.conn);
        else if (e.type === 'tunnel.close') this.add(this.#tunnelFlow(e));
      });
    }
  }

  get size(): number {
    return this.#slots.length;
  }

  get enabled(): boolean {
    return this.#slots.length > 0;
  }

  /** Store a complete record; gives it the next id. */
  add(flow: FlowRecord): void {
    const size = this.#slots.length;
    if (size === 0) return;
    flow.id = ++this.#lastId;
    this.#slots[this.#next] = flow;
    this.#next = (this.#next + 1) % size;
    for (const l of this.#listeners) l(flow);
  }

  /** Called with each record as it is stored (the dashboard's and `--follow`'s stream); returns an unsubscribe. */
  onFlow(listener: (flow: FlowRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every stored record, newest first: a snapshot (later additions do not change it). */
  snapshot(): FlowRecord[] {
    const size = this.#slots.length;
    const out: FlowRecord[] = [];
    for (let i = 1; i <= size; i++) {
      const f = this.#slots[(this.#next - i + size) % size];
      if (f === undefined) break;
      out.push(f);
    }
    return out;
  }

  /** Newest first, filtered. */
  list(filter: FlowFilter = {}): FlowRecord[] {
    const status = filter.status;
    const cls = status !== undefined && /^[1-5]xx$/i.test(status) ? Number(status[0]) : undefined;
    const code = status !== undefined && cls === undefined ? Number(status) : undefined;
    const out: FlowRecord[] = [];
    for (const f of this.snapshot()) {
      if (filter.origin !== undefined && f.origin !== filter.origin && f.pool !== filter.origin) continue;
      if (cls !== undefined && Math.floor(f.status / 100) !== cls) continue;
      if (code !== undefined && f.status !== code) continue;
      out.push(f);
      if (filter.limit !== undefined && out.length >= filter.limit) break;
    }
    return out;
  }

  get(id: number): FlowRecord | undefined {
    return this.snapshot().find((f) => f.id === id);
  }

  /**
   * A CONNECT tunnel or WebSocket upgrade as a flow, from its close event: target, bytes each way, duration, close
   * reason. Built once per tunnel when it ends, so the tunnel code needs no hook of its own.
   */
  #tunnelFlow(e: Extract<TelemetryEvent, { type: 'tunnel.close' }>): FlowRecord {
    const end = performance.now();
    const f = new FlowRecord(e.kind, end - e.ms);
    f.conn = this.#tunnelConns.get(e.tunnel) ?? 0;
    this.#tunnelConns.delete(e.tunnel);
    f.method = e.kind === 'connect' ? 'CONNECT' : 'GET';
    f.target = e.target;
    f.status = e.kind === 'connect' ? 200 : 101;
    // The tunnel's bytesIn came from the client, bytesOut went to it.
    f.bytesUp = e.bytesIn;
    f.bytesDown = e.bytesOut;
    f.tEnd = end;
    f.closeReason = e.reason;
    f.outcome = e.reason === 'error' ? 'error' : 'ok';
    return f;
  }

  close(): void {
    this.#unsubscribe?.();
    this.#listeners.clear();
  }
}
