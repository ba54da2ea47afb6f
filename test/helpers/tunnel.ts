/**
 * Helpers for tunnel tests: a self-signed certificate made with the openssl CLI, a raw CONNECT client, and a bounded
 * wait for a telemetry event.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Telemetry, TelemetryEvent } from '../../src/observability/events.js';
import { within } from './raw.js';

export interface TestCert {
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** A throwaway certificate for 127.0.0.1 and localhost, valid for two days. */
export function selfSignedCert(): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'hopwise-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost', '-days', '2', '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key), cert: readFileSync(cert) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ConnectResult {
  readonly status: number;
  /** The response head, status line included, without the final CRLF CRLF. */
  readonly head: string;
  readonly socket: net.Socket;
  /** Bytes received after the head (tunnel data, or an error body). */
  readonly rest: Buffer;
}

/**
 * Send `CONNECT authority` (plus `extra` header lines and `early` bytes in the same write) and read the response head.
 * The socket is paused with `rest` holding whatever followed the head.
 */
export function connectVia(
  proxyPort: number,
  authority: string,
  opts: { extra?: string; early?: string; allowHalfOpen?: boolean } = {},
): Promise<ConnectResult> {
  const socket = net.connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: opts.allowHalfOpen ?? false });
  socket.on('error', () => undefined);
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${opts.extra ?? ''}\r\n${opts.early ?? ''}`);
  return within(
    5000,
    new Promise<ConnectResult>((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('close', onClose);
        socket.pause();
        const head = buf.subarray(0, end).toString('latin1');
        resolve({ status: Number(head.split(' ')[1]), head, socket, rest: buf.subarray(end + 4) });
      };
      const onClose = (): void => reject(new Error(`closed before a CONNECT response (${buf.length} bytes)`));
      socket.on('data', onData);
      socket.once('close', onClose);
    }),
    'the CONNECT response',
  );
}

/** Everything `socket` sends until it ends (plus `rest`), bounded. */
export function readToEnd(socket: net.Socket, rest: Buffer = Buffer.alloc(0), ms = 5000): Promise<Buffer> {
  return within(
    ms,
    new Promise<Buffer>((resolve) => {
      const chunks = [rest];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.once('end', () => resolve(Buffer.concat(chunks)));
      socket.once('close', () => resolve(Buffer.concat(chunks)));
      socket.resume();
    }),
    'the end of the stream',
  );
}

/** The first telemetry event of `type` matching `pick`, bounded. Subscribe before triggering it. */
export function nextEvent<T extends TelemetryEvent['type']>(
  telemetry: Telemetry,
  type: T,
  ms = 5000,
  pick: (e: Extract<TelemetryEvent, { type: T }>) => boolean = () => true,
): Promise<Extract<TelemetryEvent, { type: T }>> {
  let off: () => void = () => undefined;
  const seen = new Promise<Extract<TelemetryEvent, { type: T }>>((resolve) => {
    off = telemetry.on((e) => {
      if (e.type === type && pick(e as Extract<TelemetryEvent, { type: T }>)) resolve(e as Extract<TelemetryEvent, { type: T }>);
    });
  });
  return within(ms, seen, `telemetry ${type}`).finally(off);
}
