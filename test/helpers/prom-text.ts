/**
 * A strict parser for the Prometheus text exposition format 0.0.4 (no installed package parses it; prom-client only
 * writes it). It validates what a Prometheus server would reject: `# HELP`/`# TYPE` syntax and placement, metric and
 * label name syntax, label value escapes, float values, optional integer timestamps, samples grouped per family, no
 * duplicate series. https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp: number | undefined;
}

export interface PromFamily {
  readonly name: string;
  help: string | undefined;
  type: MetricType;
  readonly samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf)$/;
const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

class ParseError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

function parseValue(raw: string, line: number): number {
  if (raw === 'NaN') return NaN;
  if (!FLOAT.test(raw)) throw new ParseError(line, `invalid sample value ${JSON.stringify(raw)}`);
  return raw.endsWith('nf') ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
}

/** Unescape `\\`, `\n` (and `\"` in label values); any other escape is an error. */
function unescape(s: string, quotes: boolean, line: number): string {
  return s.replace(/\\(.)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && quotes) return '"';
    throw new ParseError(line, `invalid escape \\${c}`);
  });
}

/** `{a="x",b="y\"z",}` starting at `i`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return [labels, i + 1];
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new ParseError(line, 'label without "="');
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new ParseError(line, `invalid label name ${JSON.stringify(name)}`);
    if (name in labels) throw new ParseError(line, `duplicate label ${name}`);
    i = eq + 1;
    while (text[i] === ' ') i++;
    if (text[i] !== '"') throw new ParseError(line, `label ${name}: value must be quoted`);
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    if (j >= text.length) throw new ParseError(line, `label ${name}: unterminated value`);
    labels[name] = unescape(text.slice(i + 1, j), true, line);
    i = j + 1;
    while (text[i] === ' ') i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new ParseError(line, `expected "," or "}" after label ${name}`);
  }
}

function parseSample(text: string, line: number): PromSample {
  const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text);
  if (m === null) throw new ParseError(line, `invalid metric name in ${JSON.stringify(text)}`);
  const name = m[0];
  let labels: Record<string, string> = {};
  let i = name.length;
  if (text[i] === '{') [labels, i] = parseLabels(text, i, line);
  const rest = text.slice(i);
  if (!/^[ \t]/.test(rest)) throw new ParseError(line, 'expected whitespace before the value');
  const parts = rest.trim().split(/[ \t]+/);
  if (parts.length > 2) throw new ParseError(line, 'trailing garbage after value/timestamp');
  const value = parseValue(parts[0]!, line);
  let timestamp: number | undefined;
  if (parts[1] !== undefined) {
    if (!/^-?\d+$/.test(parts[1])) throw new ParseError(line, `invalid timestamp ${parts[1]}`);
    timestamp = Number(parts[1]);
  }
  return { name, labels, value, timestamp };
}

/** Parse an exposition; throws with the line number on the first violation. */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seriesSeen = new Set<string>();
  let current: PromFamily | undefined;
  const family = (name: string, line: number): PromFamily => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, help: undefined, type: 'untyped', samples: [] };
      families.set(name, f);
    } else if (f !== current) throw new ParseError(line, `metric family ${name} is not contiguous`);
    current = f;
    return f;
  };
  const lines = text.split('\n');
  if (text.length > 0 && !text.endsWith('\n')) throw new ParseError(lines.length, 'the exposition must end with a newline');
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(raw);
      if (m === null) return; // an ordinary comment
      const [, kind, name, arg = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new ParseError(line, `invalid metric name ${name}`);
      const f = family(name!, line);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new ParseError(line, `second HELP for ${name}`);
        f.help = unescape(arg, false, line);
      } else {
        if (f.samples.length > 0) throw new ParseError(line, `TYPE for ${name} after its samples`);
        if (!TYPES.includes(arg as MetricType)) throw new ParseError(line, `unknown type ${JSON.stringify(arg)}`);
        f.type = arg as MetricType;
      }
      return;
    }
    const sample = parseSample(raw, line);
    const owner =
      current !== undefined && SUFFIXES[current.type].some((sfx) => sample.name === current!.name + sfx) ? current : family(sample.name, line);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seriesSeen.has(key)) throw new ParseError(line, `duplicate series ${key}`);
    seriesSeen.add(key);
    owner.samples.push(sample);
  });
  return families;
}

/** The value of one series (exact label match), or undefined. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const f of families.values()) {
    for (const s of f.samples) if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value;
  }
  return undefined;
}
