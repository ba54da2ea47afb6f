/**
 * The bytes of a WebSocket handshake relay (upgrade.ts): heads written from flat `[name, value, ...]` lists — never a
 * header object keyed by name, which is how `constructor` or `__proto__` fields got corrupted (issue 17 finding 9) —
 * the chunked re-framing of a declined response's body, and the RFC 9110 §7.8 check of a `101`'s protocol.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { TunnelMember, Tunnels } from '../tunnel/registry.js';
import { closeLingering } from '../errors/index.js';

/** Characters a reason phrase may not carry (RFC 9112 §4: HTAB, SP, VCHAR, obs-text only). */
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/;

function fieldLines(fields: readonly string[]): string {
  let out = '';
  for (let i = 0; i + 1 < fields.length; i += 2) out += `${fields[i]}: ${fields[i + 1]}\r\n`;
  return out;
}

/** `GET <path> HTTP/1.1` and the fields, as one buffer (latin1: the strings came from Node's parser that way). */
export function requestHead(path: string, fields: readonly string[]): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\n${fieldLines(fields)}\r\n`, 'latin1');
}

/** A response head as one buffer; the origin's reason phrase when it is valid, else the standard one. */
export function responseHead(status: number, reason: string, fields: readonly string[]): Buffer {
  const text = reason === '' || BAD_REASON.test(reason) ? (STATUS_CODES[status] ?? '') : reason;
  return Buffer.from(`HTTP/1.1 ${status} ${text}\r\n${fieldLines(fields)}\r\n`, 'latin1');
}

/** One chunk of a chunked body (RFC 9112 §7.1). */
export function chunkHeader(length: number): string {
  return `${length.toString(16)}\r\n`;
}

export const LAST_CHUNK = '0\r\n\r\n';

/** The lowercased protocol tokens of every `Upgrade` field in `raw` (`websocket`, `h2c`, `foo/2`). */
export function upgradeTokens(raw: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length !== 7 || raw[i]!.toLowerCase() !== 'upgrade') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const token = t.trim().toLowerCase();
      if (token !== '') out.add(token);
    }
  }
  return out;
}

/**
 * Why a `101` may not be relayed, or undefined: a server MUST NOT switch to a protocol the client did not offer
 * (RFC 9110 §7.8), and a `101` names the protocol it switches to in `Upgrade`.
 */
export function switchIssue(requestRaw: readonly string[], responseRaw: readonly string[]): string | undefined {
  const chosen = upgradeTokens(responseRaw);
  if (chosen.size === 0) return '101 without an Upgrade field';
  const offered = upgradeTokens(requestRaw);
  for (const token of chosen) if (!offered.has(token)) return `101 switching to ${JSON.stringify(token)}, which the client did not offer`;
  return undefined;
}

/**
 * After a complete answer on a client socket nothing parses any more: end it through the one lingering close
 * (errors/linger.ts: unread client bytes are drained so no reset destroys the answer in flight, and the socket is
 * destroyed after LINGER_MS if the client keeps its half open). Reachable for shutdown through `tunnels`.
 */
export function endAndLinger(tunnels: Tunnels, client: Socket): void {
  const member: TunnelMember = { destroy: () => client.destroy() };
  tunnels.add(member);
  closeLingering(client, undefined, () => tunnels.delete(member));
}
