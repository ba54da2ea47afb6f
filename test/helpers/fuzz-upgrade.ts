/**
 * Seeded WebSocket-answer fuzzing for test/integration/fuzz.test.ts (issue 17 findings 7–9, 13): what an origin may
 * answer a WebSocket handshake with — declines in every framing (length, chunked, until close, bodiless; complete,
 * cut short, invalid), `101`s to offered and unoffered protocols — with prototype-named fields mixed in, and what
 * the client must then see. A pure function of (seed, index), like `fuzzCase`.
 */
import { vetResponseFraming } from '../../src/policy/index.js';
import { Prng } from './fuzz.js';

/** What the client must get: the answer relayed whole, relayed then cut, `502` instead, or the switch. */
export type UpgradeExpectation = 'relay' | 'cut' | 'refuse' | 'switch';

export interface UpgradeCase {
  readonly name: string;
  /** The origin's bytes, written once the handshake head has arrived. */
  readonly answer: string;
  /** Whether the origin closes its side after writing the answer. */
  readonly fin: boolean;
  readonly status: number;
  /** The body the client must receive for `relay` (and a prefix of for `cut`). */
  readonly body: string;
  /** Fields that must reach the client exactly (name and value). */
  readonly fields: readonly [string, string][];
  /** Extra request fields (prototype-named) and their exact expected lines at the origin. */
  readonly requestFields: readonly [string, string][];
  readonly expect: UpgradeExpectation;
}

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '0'];
const STATUSES: readonly [number, string][] = [[200, 'OK'], [400, 'Bad Request'], [403, 'Forbidden'], [404, 'Not Found'], [426, 'Upgrade Required'], [500, 'Internal Server Error']];

function chunked(body: string, prng: Prng): string {
  let out = '';
  let i = 0;
  while (i < body.length) {
    const n = 1 + prng.int(Math.max(1, body.length - i));
    out += `${n.toString(16)}${prng.int(4) === 0 ? ';ext=1' : ''}\r\n${body.slice(i, i + n)}\r\n`;
    i += n;
  }
  return out;
}

export function upgradeCase(seed: number, index: number): UpgradeCase {
  const prng = new Prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const [status, reason] = prng.pick(STATUSES);
  const body = `body ${index} ${'x'.repeat(prng.int(40))}`;
  const fields: [string, string][] = [];
  for (let i = prng.int(3); i > 0; i--) fields.push([prng.pick(PROTO_NAMES), `v${prng.int(100)}`]);
  const requestFields: [string, string][] = [];
  for (let i = prng.int(3); i > 0; i--) requestFields.push([prng.pick(PROTO_NAMES), `r${prng.int(100)}`]);
  const lines = fields.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const head = (framing: string, s = status, r = reason): string => `HTTP/1.1 ${s} ${r}\r\n${lines}${framing}\r\n`;
  const cut = body.slice(0, 1 + prng.int(body.length - 1));
  const base = { status, body, fields, requestFields };
  switch (prng.int(13)) {
    case 0: return { ...base, name: 'length', answer: head(`Content-Length: ${body.length}\r\n`) + body, fin: prng.int(2) === 0, expect: 'relay' };
    case 1: return { ...base, name: 'length, cut short', answer: head(`Content-Length: ${body.length}\r\n`) + cut, fin: true, expect: 'cut' };
    case 2: return { ...base, name: 'chunked', answer: head('Transfer-Encoding: chunked\r\n') + chunked(body, prng) + '0\r\n\r\n', fin: prng.int(2) === 0, expect: 'relay' };
    case 3: return { ...base, name: 'chunked, cut short', answer: head('Transfer-Encoding: chunked\r\n') + chunked(cut, prng), fin: true, expect: 'cut' };
    case 4: return { ...base, name: 'until close', answer: head('') + body, fin: true, expect: 'relay' };
    case 5: {
      // Whatever the forwarding path's framing policy says about identical lengths, the upgrade path says the same.
      const same = typeof vetResponseFraming(['Content-Length', `${body.length}`, 'content-length', `${body.length}`]) !== 'string';
      const answer = head(`Content-Length: ${body.length}\r\ncontent-length: ${body.length}\r\n`) + body;
      return { ...base, ...(same ? {} : { status: 502 }), name: 'two identical lengths', answer, fin: false, expect: same ? 'relay' : 'refuse' };
    }
    case 6: return { ...base, status: 502, name: 'gzip, chunked', answer: head('Transfer-Encoding: gzip, chunked\r\n') + chunked(body, prng) + '0\r\n\r\n', fin: false, expect: 'refuse' };
    case 7: return { ...base, status: 502, name: 'length and chunked', answer: head(`Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`) + body, fin: false, expect: 'refuse' };
    case 8: return { ...base, status: 502, name: 'differing lengths', answer: head(`Content-Length: ${body.length}\r\nContent-Length: ${body.length + 1}\r\n`) + body, fin: false, expect: 'refuse' };
    case 9: return { ...base, status: 204, body: '', name: '204 with a length', answer: head('Content-Length: 7\r\n', 204, 'No Content'), fin: false, expect: 'relay' };
    case 10: return { ...base, name: 'bad chunk size', answer: head('Transfer-Encoding: chunked\r\n') + 'zz\r\n', fin: false, expect: 'cut' };
    case 11: {
      const answer = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${lines}\r\n`;
      return { ...base, status: 101, body: '', name: '101', answer, fin: false, expect: 'switch' };
    }
    default: {
      const answer = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${prng.pick(['h2c', 'websocket2', 'tls/1.3'])}\r\nConnection: Upgrade\r\n${lines}\r\n`;
      return { ...base, status: 502, body: '', name: '101 to an unoffered protocol', answer, fin: false, expect: 'refuse' };
    }
  }
}
