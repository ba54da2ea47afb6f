/**
 * IP addresses and CIDR blocks for access control (issue 7, SPEC §10.3). Parsed by hand into bytes so matching is
 * exact and pure: no DNS, no `node:net`. An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack listener
 * reports for an IPv4 client) is normalised to its IPv4 form, so `10.0.0.0/8` matches it and a mapped spelling cannot
 * slip past an IPv4 rule (RFC 4291 §2.5.5.2).
 */

/** An address as bytes: 4 for IPv4 (including normalised IPv4-mapped IPv6), 16 for IPv6. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
}

/** A CIDR block: the network bytes (host bits cleared) and the prefix length in bits. */
export interface Cidr {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

const DEC_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/i;

/** Strict dotted-quad: four decimal octets, no leading zeros (so `010.1.1.1` is not silently octal or decimal). */
function parseV4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!DEC_OCTET.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** The 16-bit groups of one side of `::` (empty side = no groups); an IPv4 tail counts as two groups. */
function groups(side: string, allowV4Tail: boolean): number[] | null {
  if (side === '') return [];
  const parts = side.split(':');
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (allowV4Tail && i === parts.length - 1 && p.includes('.')) {
      const v4 = parseV4(p);
      if (v4 === null) return null;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!HEX_GROUP.test(p)) return null;
      out.push(parseInt(p, 16));
    }
  }
  return out;
}

/** RFC 4291 §2.2 text forms: full, `::`-compressed, with an IPv4 tail. A zone id (`%eth0`) is ignored. */
function parseV6(text: string): Uint8Array | null {
  const zone = text.indexOf('%');
  const body = zone === -1 ? text : text.slice(0, zone);
  const halves = body.split('::');
  if (halves.length > 2) return null;
  let all: number[];
  if (halves.length === 2) {
    const head = groups(halves[0]!, false);
    const tail = groups(halves[1]!, true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const only = groups(body, true);
    if (only === null || only.length !== 8) return null;
    all = only;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Parse an IP literal (`10.0.0.1`, `::1`, `[::1]`, `fe80::1%eth0`, `::ffff:10.0.0.1`); null for anything else,
 * including names and the loose forms `inet_aton` accepts (`127.1`, `0x7f.0.0.1`) — those are names to us and are
 * vetted after resolution, on the address actually connected to.
 */
export function parseIp(text: string): IpAddress | null {
  const t = text.length > 1 && text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!t.includes(':')) {
    const v4 = parseV4(t);
    return v4 === null ? null : { family: 4, bytes: v4 };
  }
  const v6 = parseV6(t);
  if (v6 === null) return null;
  return isV4Mapped(v6) ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

/**
 * Parse `address/prefix` or a bare address (a single host). Host bits are cleared. An IPv4-mapped IPv6 block
 * (`::ffff:10.0.0.0/104`) becomes the IPv4 block it denotes (`10.0.0.0/8`); null when malformed.
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === null) return null;
  const mapped = ip.family === 4 && text.slice(0, slash === -1 ? undefined : slash).includes(':');
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (mapped) {
      if (prefix < 96) return null; // wider than the mapped range: not an IPv4 block
      prefix -= 96;
    }
    if (prefix > max) return null;
  }
  const bytes = ip.bytes.slice();
  for (let bit = prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3] = bytes[bit >> 3]! & ~(0x80 >> (bit & 7));
  return { family: ip.family, bytes, prefix };
}

/** True if `ip` lies inside `cidr` (families must match; mapped addresses were normalised when parsed). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const whole = cidr.prefix >> 3;
  for (let i = 0; i < whole; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (ip.bytes[whole]! & mask) === cidr.bytes[whole];
}

/** The canonical text of an address, for log lines and `403` reasons (IPv4 dotted, IPv6 as uncompressed groups). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return ip.bytes.join('.');
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(((ip.bytes[i]! << 8) | ip.bytes[i + 1]!).toString(16));
  return parts.join(':');
}

/** An ordered list of CIDR blocks, parsed once; `has` is a linear scan (lists are short: access rules, not routes). */
export class CidrList {
  readonly #blocks: readonly Cidr[];

  /** Throws on a malformed entry: config validation reports them first, with the dotted path. */
  constructor(entries: readonly string[]) {
    this.#blocks = entries.map((e) => {
      const c = parseCidr(e.trim());
      if (c === null) throw new Error(`not an IP address or CIDR block: ${JSON.stringify(e)}`);
      return c;
    });
  }

  has(ip: IpAddress): boolean {
    for (const b of this.#blocks) if (cidrContains(b, ip)) return true;
    return false;
  }

  get size(): number {
    return this.#blocks.length;
  }
}

const LOOPBACK = new CidrList(['127.0.0.0/8', '::1']);

/** `localhost` (with or without the root dot) names loopback by definition (RFC 6761 §6.3). */
export function isLocalhostName(name: string): boolean {
  return name === 'localhost' || name === 'localhost.';
}

/** True for 127.0.0.0/8 and ::1 (an IPv4-mapped ::ffff:127.x.y.z was normalised to IPv4 when parsed). */
export function isLoopbackIp(ip: IpAddress): boolean {
  return LOOPBACK.has(ip);
}

/**
 * True when `host` can only be reached from this machine: a loopback literal (any spelling, bracketed or not, mapped
 * or not) or the name `localhost`. `0.0.0.0` and `::` are NOT loopback: they bind every interface. The one test used
 * by config validation (exposure rules), the admin listener (Host check) and the process edge.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (isLocalhostName(h)) return true;
  const ip = parseIp(h);
  return ip !== null && isLoopbackIp(ip);
}
