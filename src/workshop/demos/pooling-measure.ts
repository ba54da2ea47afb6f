/**
 * What the pooling demo measures besides counts: the time every TCP handshake to the origin took, and one lane per
 * upstream connection (when it opened, the requests it carried, when it closed) for the chart.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TimelineRecorder } from '../timeline.js';
import type { OriginEvent } from './scripted-origin.js';

/**
 * Times every TCP handshake this process makes to `port` (proxy → origin), from `connect()` to the `connect` event,
 * through Node's `net.client.socket` diagnostics channel: the real handshakes of both proxies, whoever opens them.
 */
export class HandshakeMeter {
  readonly #port: number;
  count = 0;
  totalMs = 0;
  readonly #onSocket = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket;
    const started = performance.now();
    socket.once('connect', () => {
      if (socket.remotePort !== this.#port) return;
      this.count++;
      this.totalMs += performance.now() - started;
    });
  };

  constructor(port: number) {
    this.#port = port;
    subscribe('net.client.socket', this.#onSocket);
  }

  stop(): void {
    unsubscribe('net.client.socket', this.#onSocket);
  }
}

/** What the origin saw, per connection: the lanes of the pooling chart. */
export function laneRecorder(rec: TimelineRecorder): { lanes: Map<number, { opened: number; closed: number | null; requests: number[] }>; onEvent: (e: OriginEvent) => void } {
  const lanes = new Map<number, { opened: number; closed: number | null; requests: number[] }>();
  const onEvent = (e: OriginEvent): void => {
    if (e.type === 'connection') lanes.set(e.conn, { opened: rec.now(), closed: null, requests: [] });
    const lane = lanes.get(e.conn);
    if (lane === undefined) return;
    if (e.type === 'request') lane.requests.push(rec.now());
    else if ((e.type === 'response' && !e.keepAlive) || e.type === 'idle-close' || e.type === 'peer-closed') lane.closed ??= rec.now();
  };
  return { lanes, onEvent };
}
