/**
 * Renders a {@link DemoResult} as one SVG sequence diagram per scenario, stacked, for slides (`--svg FILE`): lifelines
 * for the participants, one row per message with its label and millisecond timestamp, shaded stalls (red) and
 * connections held open (amber), a marked break where time jumps, then the numbers side by side. Sized for a
 * projector: large type, dark-on-white, thick strokes. Pure; every text is XML-escaped.
 */
import type { DemoResult, Scenario, Step, Tone } from './timeline.js';
import { ms } from './timeline.js';

const FONT = "DejaVu Sans, Arial, Helvetica, sans-serif";
const MONO = "DejaVu Sans Mono, Consolas, monospace";
const LEFT = 170;
const RIGHT = 90;
const ROW = 64;
const BREAK = 110;
const GAP_MS = 50;
/** Average advance of the label font (19 px), for fitting labels to arrows. */
const CHAR = 10.6;

const COLOURS: Record<Tone, string> = {
  request: '#0b3d91',
  response: '#0a6b2d',
  close: '#4d4d4d',
  problem: '#b00020',
  good: '#0a6b2d',
  info: '#222222',
};

/** Escapes text for XML content and attribute values. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c] ?? ''};`);
}

/** Width of a participant's name box (22 px bold). */
const boxWidth = (lane: string): number => Math.max(200, lane.length * 13.5 + 30);
const laneGap = (lanes: number): number => (lanes <= 3 ? 480 : 430);
const widthFor = (lanes: number): number => LEFT + (lanes - 1) * laneGap(lanes) + RIGHT + 120;

/** The whole demo as a standalone SVG document. */
export function renderSvg(result: DemoResult): string {
  // The title is drawn at 32 px bold (about 19 px a character): the picture is at least that wide.
  const width = Math.max(1100, result.title.length * 19 + 60, ...result.scenarios.map((s) => widthFor(s.lanes.length)));
  const parts: string[] = [];
  let y = 30;
  parts.push(text(30, y + 28, result.title, { size: 32, weight: 'bold' }));
  y += 70;
  for (const scenario of result.scenarios) {
    const drawn = scenarioSvg(scenario, y);
    parts.push(drawn.svg);
    y = drawn.bottom + 40;
  }
  const table = tableSvg(result.comparison.columns, result.comparison.rows, y, width);
  parts.push(table.svg);
  const height = table.bottom + 30;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<title>${xmlEscape(result.title)}</title>`,
    '<defs>',
    ...Object.entries(COLOURS).map(
      ([tone, colour]) =>
        `<marker id="head-${tone}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`,
    ),
    '</defs>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

interface TextStyle {
  size?: number;
  weight?: 'bold' | 'normal';
  fill?: string;
  anchor?: 'start' | 'middle' | 'end';
  family?: string;
}

function text(x: number, y: number, content: string, style: TextStyle = {}): string {
  const attrs = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    `font-size="${style.size ?? 19}"`,
    style.weight === 'bold' ? 'font-weight="bold"' : '',
    `fill="${style.fill ?? '#111111'}"`,
    style.anchor !== undefined ? `text-anchor="${style.anchor}"` : '',
    style.family !== undefined ? `font-family="${style.family}"` : '',
  ].filter((a) => a !== '');
  return `<text ${attrs.join(' ')}>${xmlEscape(content)}</text>`;
}

/**
 * Fits a label to `maxChars` per line, in at most two lines: `a · b · c` parts are packed greedily, a part longer than
 * a line is wrapped at spaces, and whatever does not fit ends in an ellipsis.
 */
export function fitLabel(label: string, maxChars: number): string[] {
  const max = Math.max(4, maxChars);
  const words = label.split(' · ').flatMap((part, i) => {
    const pieces = part.split(' ').map((w) => ({ w, sep: ' ' }));
    if (i > 0 && pieces[0] !== undefined) pieces[0].sep = ' · ';
    return pieces;
  });
  const lines: string[] = [];
  for (const { w, sep } of words) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + sep.length + w.length <= max) lines[lines.length - 1] = `${last}${sep}${w}`;
    else if (last !== undefined && sep === ' ' && lines.length >= 2) lines[lines.length - 1] = `${last}${sep}${w}`;
    else lines.push(w);
  }
  const kept = lines.slice(0, 2);
  if (lines.length > 2) kept[1] = `${kept[1] ?? ''} ${lines.slice(2).join(' ')}`;
  return kept.map((l) => (l.length > max ? `${l.slice(0, max - 1)}…` : l));
}

function scenarioSvg(s: Scenario, top: number): { svg: string; bottom: number } {
  const gap = laneGap(s.lanes.length);
  const x = (lane: string): number => LEFT + Math.max(0, s.lanes.indexOf(lane)) * gap;
  const out: string[] = [text(30, top + 26, s.title, { size: 26, weight: 'bold' })];
  const headY = top + 50;
  // Rows: one per step, plus a taller break where time jumps.
  const rows: { step: Step; y: number; breakBefore: boolean; elapsed: number }[] = [];
  let y = headY + 100;
  let previous: number | undefined;
  for (const step of s.steps) {
    const jump = previous !== undefined && step.t - previous > GAP_MS;
    if (jump) y += BREAK - ROW;
    rows.push({ step, y, breakBefore: jump, elapsed: step.t - (previous ?? step.t) });
    y += ROW;
    previous = step.t;
  }
  const bottom = y;
  const yAt = (t: number): number => rows.find((r) => r.step.t >= t)?.y ?? bottom;
  // Spans first, under everything else.
  for (const span of s.spans) {
    const [a, b] = [x(span.between[0]), x(span.between[1])].sort((p, q) => p - q) as [number, number];
    const y0 = yAt(span.start);
    const y1 = yAt(span.end);
    const stall = span.kind === 'stall';
    out.push(
      `<rect x="${a + 6}" y="${y0}" width="${b - a - 12}" height="${Math.max(8, y1 - y0)}" fill="${stall ? '#ffd3d3' : '#fff0c2'}" stroke="${stall ? '#b00020' : '#a66d00'}" stroke-width="2" stroke-dasharray="8 5" rx="6"/>`,
      text((a + b) / 2, (y0 + y1) / 2 + 9, span.label, { size: 24, weight: 'bold', fill: stall ? '#b00020' : '#7a5000', anchor: 'middle' }),
    );
  }
  for (const lane of s.lanes) {
    out.push(
      `<line x1="${x(lane)}" y1="${headY + 44}" x2="${x(lane)}" y2="${bottom}" stroke="#333333" stroke-width="2"/>`,
      `<rect x="${x(lane) - boxWidth(lane) / 2}" y="${headY}" width="${boxWidth(lane)}" height="44" rx="8" fill="#111111"/>`,
      text(x(lane), headY + 30, lane, { size: 22, weight: 'bold', fill: '#ffffff', anchor: 'middle' }),
    );
  }
  for (const row of rows) out.push(...rowSvg(row.step, row.y, row.breakBefore, row.elapsed, x, gap));
  return { svg: `<g class="scenario" id="scenario-${xmlEscape(s.id)}">\n${out.join('\n')}\n</g>`, bottom };
}

function rowSvg(step: Step, y: number, breakBefore: boolean, elapsed: number, x: (lane: string) => number, gap: number): string[] {
  const out: string[] = [];
  if (breakBefore) {
    out.push(
      `<line x1="${LEFT - 150}" y1="${y - 40}" x2="${LEFT - 20}" y2="${y - 40}" stroke="#b00020" stroke-width="2" stroke-dasharray="4 4"/>`,
      text(LEFT - 20, y - 48, `≈ +${ms(elapsed)}`, { size: 18, anchor: 'end', fill: '#b00020', weight: 'bold', family: MONO }),
    );
  }
  out.push(text(LEFT - 20, y + 7, ms(step.t), { size: 18, anchor: 'end', family: MONO, fill: '#333333' }));
  const colour = COLOURS[step.tone];
  if (step.kind === 'note') {
    const cx = x(step.at);
    const lines = fitLabel(step.label, Math.floor((gap - 30) / CHAR));
    const w = Math.max(...lines.map((l) => l.length)) * CHAR + 24;
    const h = lines.length * 24 + 12;
    out.push(
      `<rect x="${cx + 12}" y="${y - h / 2}" width="${w}" height="${h}" rx="6" fill="${step.tone === 'problem' ? '#ffe5e5' : '#f2f2f2'}" stroke="${colour}" stroke-width="2"/>`,
      `<circle cx="${cx}" cy="${y}" r="7" fill="${colour}"/>`,
      ...lines.map((l, i) => text(cx + 24, y - h / 2 + 26 + i * 24, l, { fill: colour })),
    );
    return out;
  }
  const x1 = x(step.from);
  const x2 = x(step.to);
  const span = Math.abs(x2 - x1);
  const dash = step.tone === 'close' ? ' stroke-dasharray="10 6"' : '';
  out.push(
    `<line x1="${x1}" y1="${y}" x2="${x2 + (x2 > x1 ? -4 : 4)}" y2="${y}" stroke="${colour}" stroke-width="${step.tone === 'info' ? 2 : 3.5}"${dash} marker-end="url(#head-${step.tone})"/>`,
  );
  const lines = fitLabel(step.label, Math.floor((span - 20) / CHAR));
  lines.forEach((l, i) => out.push(text((x1 + x2) / 2, y - 8 - (lines.length - 1 - i) * 23, l, { fill: colour, anchor: 'middle' })));
  return out;
}

function tableSvg(columns: readonly string[], rows: readonly (readonly string[])[], top: number, width: number): { svg: string; bottom: number } {
  const out: string[] = [text(30, top + 28, 'Side by side', { size: 26, weight: 'bold' })];
  const first = 30;
  const labelWidth = 430;
  const colWidth = Math.max(200, (width - first - labelWidth - 30) / Math.max(1, columns.length - 1));
  let y = top + 70;
  const cellX = (c: number): number => (c === 0 ? first : first + labelWidth + (c - 1) * colWidth);
  columns.forEach((col, c) => out.push(text(cellX(c), y, col, { size: 21, weight: 'bold' })));
  out.push(`<line x1="${first}" y1="${y + 12}" x2="${width - 30}" y2="${y + 12}" stroke="#111111" stroke-width="2"/>`);
  for (const row of rows) {
    y += 36;
    row.forEach((cell, c) => out.push(text(cellX(c), y, cell, { size: 20, weight: c === 0 ? 'normal' : 'bold' })));
  }
  return { svg: `<g class="comparison">\n${out.join('\n')}\n</g>`, bottom: y + 20 };
}
