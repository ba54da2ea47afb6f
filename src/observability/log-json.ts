/**
 * The access log's JSON lines without winston's generic machinery (issue 8: the access log is on the hot path). No I/O:
 * entries in, strings out; logger.ts (the only winston importer) plugs them into its format. The output is byte for
 * byte what logform's `timestamp()` + `json()` formats write for the same entry.
 */
import type { RequestRecord } from './events.js';

/** The same `new Date().toISOString()` winston's timestamp format writes, computed once per millisecond. */
export class IsoClock {
  #ms = -1;
  #text = '';

  now(): string {
    const ms = Date.now();
    if (ms !== this.#ms) {
      this.#ms = ms;
      this.#text = new Date(ms).toISOString();
    }
    return this.#text;
  }
}

/** Shapes whose sorted key order is remembered; entries come in a handful of shapes (one or two per event). */
const MAX_SHAPES = 64;

/**
 * Writes flat entries (every value a string, number, boolean, null or undefined) as JSON lines byte for byte equal to
 * logform's json format (safe-stable-stringify: keys sorted, undefined values left out, non-finite numbers as null),
 * without its generic machinery: the sorted key order and each key's `"key":` text are worked out once per shape. A
 * shape is looked up by event name and key count, then confirmed by checking that each of its keys is present.
 */
export class FlatJson {
  readonly #shapes = new Map<string, { keys: string[]; labels: string[] }>();

  /** The JSON line, or undefined when some value is nested or exotic and the generic stringifier must do it. */
  line(info: Readonly<Record<string, unknown>>): string | undefined {
    const own = Object.keys(info);
    const signature = `${String(info.event)}|${own.length}`;
    let shape = this.#shapes.get(signature);
    if (shape !== undefined && !shape.keys.every((k) => k in info)) shape = undefined;
    if (shape === undefined) {
      if (this.#shapes.size >= MAX_SHAPES) this.#shapes.clear();
      const keys = own.sort();
      shape = { keys, labels: keys.map((k) => `${JSON.stringify(k)}:`) };
      this.#shapes.set(signature, shape);
    }
    let out = '';
    for (let i = 0; i < shape.keys.length; i++) {
      const text = scalarJson(info[shape.keys[i]!]);
      if (text === OMIT) continue;
      if (text === undefined) return undefined;
      out += `${out === '' ? '{' : ','}${shape.labels[i]!}${text}`;
    }
    return out === '' ? '{}' : `${out}}`;
  }
}

/** Keys winston's entry itself carries; an entry whose fields use one of them goes the generic way. */
const ENTRY_KEYS = ['event', 'level', 'timestamp'] as const;

/** The keys of a RequestRecord (events.ts), sorted: the access entry's fields. */
const REQUEST_KEYS = [
  'bytes', 'conn', 'connReq', 'error', 'method', 'ms', 'origin', 'retried', 'reused', 'socketReq', 'status', 'target',
  'upstream',
] as const satisfies readonly (keyof RequestRecord)[];
// Compile-time check that REQUEST_KEYS names every key of RequestRecord (a new field must be written below too).
const COMPLETE: Exclude<keyof RequestRecord, (typeof REQUEST_KEYS)[number]> extends never ? true : never = true;

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/**
 * The line of a `request` entry whose fields are exactly a RequestRecord's, with static property reads instead of the
 * generic loop's keyed ones (about half the time per entry): the same bytes, keys in sorted order, undefined left out.
 * Undefined when a value is not of the record's type: the generic loop then decides.
 */
function requestLine(levelJson: string, timestampJson: string, r: Readonly<Record<string, unknown>>): string | undefined {
  const { bytes, conn, connReq, error, method, ms, origin, retried, reused, socketReq, status, target, upstream } = r;
  if (typeof bytes !== 'number' || typeof conn !== 'number' || typeof connReq !== 'number' || typeof ms !== 'number') return undefined;
  if (typeof status !== 'number' || typeof method !== 'string' || typeof target !== 'string') return undefined;
  if (typeof retried !== 'boolean' || typeof reused !== 'boolean') return undefined;
  if ((error !== undefined && typeof error !== 'string') || (origin !== undefined && typeof origin !== 'string')) return undefined;
  if ((socketReq !== undefined && typeof socketReq !== 'number') || (upstream !== undefined && typeof upstream !== 'number')) return undefined;
  let out = `{"bytes":${num(bytes)},"conn":${num(conn)},"connReq":${num(connReq)}`;
  if (error !== undefined) out += `,"error":${JSON.stringify(error)}`;
  out += `,"event":"request","level":${levelJson},"method":${JSON.stringify(method)},"ms":${num(ms)}`;
  if (origin !== undefined) out += `,"origin":${JSON.stringify(origin)}`;
  out += `,"retried":${retried ? 'true' : 'false'},"reused":${reused ? 'true' : 'false'}`;
  if (socketReq !== undefined) out += `,"socketReq":${num(socketReq)}`;
  out += `,"status":${num(status)},"target":${JSON.stringify(target)},"timestamp":${timestampJson}`;
  if (upstream !== undefined) out += `,"upstream":${num(upstream)}`;
  return `${out}}`;
}

/**
 * One key of an entry's line: its `"key":` label, where its value comes from, and for the entry's own keys whose value
 * is fixed per shape (event, level) the whole `"key":value` text.
 */
interface Slot {
  readonly key: string;
  readonly label: string;
  readonly source: 'field' | 'timestamp' | 'fixed';
  readonly fixed: string;
}

/**
 * The access log's fast path (issue 12): the JSON line of the entry `{ level, event, timestamp, ...fields }` built
 * straight from its parts, without merging them into one object first, byte for byte what logger.ts's winston format
 * writes for the same entry (FlatJson over the merged entry). A shape (sorted keys, where each value comes from, each
 * key's `"key":` text) is worked out once per level, event and key count, and confirmed per entry, as in FlatJson.
 */
export class EntryJson {
  readonly #shapes = new Map<string, { fieldKeys: string[]; slots: Slot[]; request: string | undefined }>();
  /** The last timestamp and its JSON text: entries of one millisecond share it (IsoClock). */
  #timestamp = '';
  #timestampJson = '';

  /** The JSON line, or undefined when a value is nested or exotic, or a field is named like an entry key. */
  line(level: string, event: string, timestamp: string, fields: Readonly<Record<string, unknown>>): string | undefined {
    const own = Object.keys(fields);
    const signature = `${level}|${event}|${own.length}`;
    let shape = this.#shapes.get(signature);
    if (shape !== undefined) {
      for (const k of shape.fieldKeys) {
        if (!(k in fields)) {
          shape = undefined;
          break;
        }
      }
    }
    if (shape === undefined) {
      if (own.some((k) => (ENTRY_KEYS as readonly string[]).includes(k) || k === 'message')) return undefined;
      if (this.#shapes.size >= MAX_SHAPES) this.#shapes.clear();
      // No field is named like an entry key (checked above), so a key is the entry's own or a field's.
      const slots = [...own, ...ENTRY_KEYS].sort().map((key): Slot => {
        const label = `${JSON.stringify(key)}:`;
        const value = key === 'level' ? level : key === 'event' ? event : undefined;
        if (value !== undefined) return { key, label, source: 'fixed', fixed: `${label}${JSON.stringify(value)}` };
        return { key, label, source: key === 'timestamp' ? 'timestamp' : 'field', fixed: '' };
      });
      // A request entry with exactly a RequestRecord's keys takes requestLine(); `request` is its level's JSON.
      const isRecord = event === 'request' && [...own].sort().join() === REQUEST_KEYS.join();
      shape = { fieldKeys: own, slots, request: isRecord && COMPLETE ? JSON.stringify(level) : undefined };
      this.#shapes.set(signature, shape);
    }
    if (timestamp !== this.#timestamp) this.#timestampJson = JSON.stringify((this.#timestamp = timestamp));
    if (shape.request !== undefined) {
      const line = requestLine(shape.request, this.#timestampJson, fields);
      if (line !== undefined) return line;
    }
    let out = '';
    for (const slot of shape.slots) {
      let text: string;
      if (slot.source === 'fixed') {
        out += out === '' ? `{${slot.fixed}` : `,${slot.fixed}`;
        continue;
      }
      if (slot.source === 'timestamp') {
        text = this.#timestampJson;
      } else {
        const scalar = scalarJson(fields[slot.key]);
        if (scalar === OMIT) continue;
        if (scalar === undefined) return undefined;
        text = scalar;
      }
      out += `${out === '' ? '{' : ','}${slot.label}${text}`;
    }
    return `${out}}`;
  }
}

/** {@link scalarJson}'s answer for `undefined`: the key is left out, as JSON.stringify does. */
const OMIT = '';

/**
 * A scalar field's JSON text (the same bytes JSON.stringify writes: non-finite numbers as `null`), {@link OMIT} for
 * `undefined`, or `undefined` for anything else (objects take the generic path).
 */
function scalarJson(v: unknown): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null) return 'null';
  if (v === undefined) return OMIT;
  return undefined;
}
