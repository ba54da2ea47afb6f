/**
 * The access log's JSON lines without winston's generic machinery (issue 8: the access log is on the hot path). No I/O:
 * entries in, strings out; logger.ts (the only winston importer) plugs them into its format. The output is byte for
 * byte what logform's `timestamp()` + `json()` formats write for the same entry.
 */

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
      const v = info[shape.keys[i]!];
      let text: string;
      if (typeof v === 'string') text = JSON.stringify(v);
      else if (typeof v === 'number') text = Number.isFinite(v) ? String(v) : 'null';
      else if (typeof v === 'boolean') text = v ? 'true' : 'false';
      else if (v === null) text = 'null';
      else if (v === undefined) continue;
      else return undefined;
      out += `${out === '' ? '{' : ','}${shape.labels[i]!}${text}`;
    }
    return out === '' ? '{}' : `${out}}`;
  }
}

/** Keys winston's entry itself carries; an entry whose fields use one of them goes the generic way. */
const ENTRY_KEYS = ['event', 'level', 'timestamp'] as const;

/** Where a key of an entry's line takes its value from: the fields, or one of the entry's own parts. */
type Source = 'field' | (typeof ENTRY_KEYS)[number];

/**
 * The access log's fast path (issue 12): the JSON line of the entry `{ level, event, timestamp, ...fields }` built
 * straight from its parts, without merging them into one object first, byte for byte what logger.ts's winston format
 * writes for the same entry (FlatJson over the merged entry). A shape (sorted keys, where each value comes from, each
 * key's `"key":` text) is worked out once per event and key count and confirmed per entry, as in FlatJson.
 */
export class EntryJson {
  readonly #shapes = new Map<string, { fieldKeys: string[]; keys: string[]; sources: Source[]; labels: string[] }>();
  /** The last timestamp and its JSON text: entries of one millisecond share it (IsoClock). */
  #timestamp = '';
  #timestampJson = '';

  /** The JSON line, or undefined when a value is nested or exotic, or a field is named like an entry key. */
  line(level: string, event: string, timestamp: string, fields: Readonly<Record<string, unknown>>): string | undefined {
    const own = Object.keys(fields);
    const signature = `${event}|${own.length}`;
    let shape = this.#shapes.get(signature);
    if (shape !== undefined && !shape.fieldKeys.every((k) => k in fields)) shape = undefined;
    if (shape === undefined) {
      if (own.some((k) => (ENTRY_KEYS as readonly string[]).includes(k) || k === 'message')) return undefined;
      if (this.#shapes.size >= MAX_SHAPES) this.#shapes.clear();
      const keys = [...own, ...ENTRY_KEYS].sort();
      const sources = keys.map((k): Source => ((ENTRY_KEYS as readonly string[]).includes(k) ? (k as Source) : 'field'));
      shape = { fieldKeys: own, keys, sources, labels: keys.map((k) => `${JSON.stringify(k)}:`) };
      this.#shapes.set(signature, shape);
    }
    let out = '';
    for (let i = 0; i < shape.labels.length; i++) {
      const source = shape.sources[i]!;
      let text: string;
      if (source === 'timestamp') {
        if (timestamp !== this.#timestamp) this.#timestampJson = JSON.stringify((this.#timestamp = timestamp));
        text = this.#timestampJson;
      } else if (source !== 'field') {
        text = JSON.stringify(source === 'level' ? level : event);
      } else {
        const v = fields[shape.keys[i]!];
        if (typeof v === 'string') text = JSON.stringify(v);
        else if (typeof v === 'number') text = Number.isFinite(v) ? String(v) : 'null';
        else if (typeof v === 'boolean') text = v ? 'true' : 'false';
        else if (v === null) text = 'null';
        else if (v === undefined) continue;
        else return undefined;
      }
      out += `${out === '' ? '{' : ','}${shape.labels[i]!}${text}`;
    }
    return `${out}}`;
  }
}
