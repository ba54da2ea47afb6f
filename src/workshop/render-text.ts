/**
 * Renders a {@link DemoResult} for a terminal: per scenario, one row per message with its millisecond timestamp and
 * an arrow between lifelines, a marked row where time jumps (with the stalls and held connections it spans), the
 * hops' connection states, then the numbers side by side and the explanation. Pure: ANSI colour only when asked
 * (the caller checks `isTTY` and `NO_COLOR`).
 */
import type { DemoResult, Scenario, Span, Step, Tone } from './timeline.js';
import { ms } from './timeline.js';

export interface TextOptions {
  readonly colour: boolean;
  /** Wrap width for prose; 100 by default. */
  readonly width?: number;
}

const CODES: Record<Tone | 'title' | 'dim' | 'stall' | 'held', string> = {
  request: '36', // cyan
  response: '32', // green
  close: '2', // dim
  problem: '1;31', // bold red
  good: '1;32', // bold green
  info: '0',
  title: '1',
  dim: '2',
  stall: '41;97', // white on red
  held: '43;30', // black on yellow
};

type Paint = (style: keyof typeof CODES, text: string) => string;

const painter = (colour: boolean): Paint => (style, text) =>
  colour && CODES[style] !== '0' ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;

/** Column width of one lane. */
const LANE = 20;
/** Time jumps longer than this get their own row. */
const GAP_MS = 50;

/** The whole demo as text, ending in a newline. */
export function renderText(result: DemoResult, opts: TextOptions): string {
  const paint = painter(opts.colour);
  const width = opts.width ?? 100;
  const out: string[] = [paint('title', `━━ ${result.title} ━━`), paramsLine(result), ''];
  for (const scenario of result.scenarios) out.push(...scenarioLines(scenario, paint), '');
  out.push(paint('title', 'Side by side'), ...table(result.comparison.columns, result.comparison.rows), '');
  out.push(paint('title', 'Why'));
  for (const paragraph of result.explanation) out.push(...wrap(paragraph, width, '  '), '');
  return `${out.join('\n').trimEnd()}\n`;
}

function paramsLine(result: DemoResult): string {
  const parts = Object.entries(result.params).map(([k, v]) => `${k.replace(/Ms$/, ' (ms)').replace(/([A-Z])/g, ' $1').toLowerCase()}: ${String(v)}`);
  return parts.join(' · ');
}

function scenarioLines(s: Scenario, paint: Paint): string[] {
  const lanes = s.lanes;
  const header = '     t (ms)  ' + lanes.map((l) => l.padEnd(LANE)).join('').trimEnd();
  const lines = [paint('title', s.title), paint('dim', header)];
  let previous: number | undefined;
  for (const step of s.steps) {
    if (previous !== undefined && step.t - previous > GAP_MS) lines.push(gapRow(s, previous, step.t, paint));
    lines.push(stepRow(step, lanes, paint));
    previous = step.t;
  }
  lines.push('');
  for (const span of s.spans) {
    lines.push(`  ${paint(span.kind, span.kind === 'stall' ? 'stall' : 'held open')} ${span.between.join(' ↔ ')}: ${span.label} (from ${ms(span.start)} to ${ms(span.end)})`);
  }
  for (const hop of s.hops) lines.push(`  ${hop.between.join(' ↔ ')}: ${hop.connections} connection(s) — ${hop.summary}`);
  return lines;
}

function laneIndex(lanes: readonly string[], name: string): number {
  return Math.max(0, lanes.indexOf(name));
}

function stepRow(step: Step, lanes: readonly string[], paint: Paint): string {
  const grid = lifelines(lanes.length);
  const time = step.t.toFixed(1).padStart(10);
  if (step.kind === 'note') {
    grid[laneIndex(lanes, step.at) * LANE] = '◆';
  } else {
    const a = laneIndex(lanes, step.from) * LANE;
    const b = laneIndex(lanes, step.to) * LANE;
    const [lo, hi] = a < b ? [a, b] : [b, a];
    for (let i = lo + 1; i < hi; i++) grid[i] = '─';
    grid[a] = '●';
    grid[b] = a < b ? '▶' : '◀';
  }
  const drawn = grid.join('').trimEnd().padEnd((lanes.length - 1) * LANE + 2);
  return `${time}  ${paint(step.tone, drawn)} ${paint(step.tone, step.label)}`;
}

/** A row for a jump in time: which hops stall or are held open across it. */
function gapRow(s: Scenario, from: number, to: number, paint: Paint): string {
  const grid = lifelines(s.lanes.length);
  const active = s.spans.filter((span) => span.start <= from && span.end >= to);
  for (const span of active) {
    const a = laneIndex(s.lanes, span.between[0]) * LANE;
    const b = laneIndex(s.lanes, span.between[1]) * LANE;
    for (let i = Math.min(a, b) + 1; i < Math.max(a, b); i++) grid[i] = span.kind === 'stall' ? '░' : '·';
  }
  const what = active.map((span: Span) => `${paint(span.kind, span.kind === 'stall' ? 'stall' : 'held open')} ${span.between.join(' ↔ ')}`);
  const grid2 = paint('dim', grid.join('').trimEnd().padEnd((s.lanes.length - 1) * LANE + 2));
  return `${'⋮'.padStart(10)}  ${grid2} ${paint('dim', `+${ms(to - from)}`)}${what.length > 0 ? ` — ${what.join(' · ')}` : ''}`;
}

function lifelines(lanes: number): string[] {
  const grid = Array.from({ length: (lanes - 1) * LANE + 1 }, () => ' ');
  for (let i = 0; i < lanes; i++) grid[i * LANE] = '│';
  return grid;
}

function table(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [columns, ...rows];
  const widths = columns.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string => `  ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()}`;
  return [line(columns), `  ${widths.map((w) => '─'.repeat(w)).join('  ')}`, ...rows.map(line)];
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let current = indent;
  for (const word of text.split(/\s+/)) {
    if (current.length + word.length + 1 > width && current.trim() !== '') {
      lines.push(current.trimEnd());
      current = indent;
    }
    current += `${word} `;
  }
  if (current.trim() !== '') lines.push(current.trimEnd());
  return lines;
}
