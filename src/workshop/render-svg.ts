/**
 * Draws a {@link DiagramPage} as a standalone 1920×1080 SVG (`--svg DIR`, and each diagram slide of the deck):
 * lifelines for the participants, one row per message with its label and millisecond timestamp, stalls shaded red and
 * connections held open shaded amber, and a zig-zag break where time is compressed (a stall keeps a tall break, so it
 * still looks long). Dark on white, nothing smaller than 22 px. Pure; every text is XML-escaped.
 */
import type { DiagramPage, Row } from './diagram-pages.js';
import { LABEL_SIZE, LINE, ROWS_TOP, SHORT_BREAK, SLIDE_H, SLIDE_W, TALL_BREAK, TIME_RIGHT, laneXs, textWidth } from './diagram-pages.js';
import type { Span, Tone } from './timeline.js';
import { ms } from './timeline.js';

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';
export const MONO = 'DejaVu Sans Mono, Liberation Mono, Consolas, monospace';

export const COLOURS: Record<Tone, string> = {
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

export interface TextStyle {
  size?: number;
  weight?: 'bold' | 'normal';
  fill?: string;
  anchor?: 'start' | 'middle' | 'end';
  family?: string;
  /** A white outline behind the glyphs, so text stays legible over lifelines. */
  halo?: boolean;
}

export function svgText(x: number, y: number, content: string, style: TextStyle = {}): string {
  const attrs = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    `font-size="${style.size ?? LABEL_SIZE}"`,
    style.weight === 'bold' ? 'font-weight="bold"' : '',
    `fill="${style.fill ?? '#111111'}"`,
    style.anchor !== undefined ? `text-anchor="${style.anchor}"` : '',
    style.family !== undefined ? `font-family="${style.family}"` : '',
    style.halo === true ? 'stroke="#ffffff" stroke-width="6" stroke-linejoin="round" paint-order="stroke"' : '',
  ].filter((a) => a !== '');
  return `<text ${attrs.join(' ')}>${xmlEscape(content)}</text>`;
}

/** The SVG document around `body`, 1920×1080, with the arrow heads. */
export function svgDocument(title: string, body: readonly string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SLIDE_W}" height="${SLIDE_H}" viewBox="0 0 ${SLIDE_W} ${SLIDE_H}" font-family="${FONT}">`,
    `<title>${xmlEscape(title)}</title>`,
    '<defs>',
    ...Object.entries(COLOURS).map(
      ([tone, colour]) =>
        `<marker id="head-${tone}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${colour}"/></marker>`,
    ),
    '</defs>',
    `<rect x="0" y="0" width="${SLIDE_W}" height="${SLIDE_H}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** The title, sized down if it is long. */
export function titleSvg(title: string, subtitle: string): string[] {
  const size = Math.min(40, Math.floor((SLIDE_W - 80) / textWidth(title, 1, true)));
  return [svgText(40, 62, title, { size, weight: 'bold' }), svgText(40, 108, subtitle, { size: 28, fill: '#444444' })];
}

interface Placed {
  readonly row: Row;
  readonly top: number;
  /** The y of the arrow (or the note's dot). */
  readonly y: number;
  /** The break drawn above this row, if any: its top and height. */
  readonly breakTop: number;
  readonly breakH: number;
}

function place(rows: readonly Row[]): Placed[] {
  let y = ROWS_TOP;
  return rows.map((row, i) => {
    const breakH = row.breakBefore === 'tall' ? TALL_BREAK : row.breakBefore === 'short' && i > 0 ? SHORT_BREAK : 0;
    const breakTop = y;
    y += breakH;
    const top = y;
    y += row.height;
    const arrowY = row.step.kind === 'note' ? top + row.height / 2 : top + row.height - 22;
    return { row, top, y: arrowY, breakTop, breakH };
  });
}

/** One diagram page as a standalone SVG; `footer` (e.g. where the packets are in the capture) goes at the bottom. */
export function renderDiagramSvg(demoTitle: string, page: DiagramPage, footer?: string): string {
  const s = page.scenario;
  const xs = laneXs(s.lanes);
  const x = (lane: string): number => xs.get(lane) ?? 0;
  const placed = place(page.rows);
  const bottom = (placed.at(-1)?.top ?? ROWS_TOP) + (placed.at(-1)?.row.height ?? 0);
  const out: string[] = titleSvg(s.title, `${demoTitle} · ${page.heading} (${page.index + 1} of ${page.count})`);
  out.push(...spansSvg(s.spans, placed, x, bottom));
  for (const lane of s.lanes) {
    const w = textWidth(lane, 26, true) + 40;
    out.push(
      `<line x1="${x(lane)}" y1="196" x2="${x(lane)}" y2="${bottom}" stroke="#333333" stroke-width="2"/>`,
      `<rect x="${x(lane) - w / 2}" y="142" width="${w}" height="54" rx="8" fill="#111111"/>`,
      svgText(x(lane), 178, lane, { size: 26, weight: 'bold', fill: '#ffffff', anchor: 'middle' }),
    );
  }
  for (const p of placed) out.push(...breakSvg(p, s.lanes.map(x)), ...rowSvg(p, x));
  if (footer !== undefined) out.push(svgText(40, 1058, footer, { size: 22, fill: '#444444' }));
  return svgDocument(`${demoTitle}: ${s.title} (${page.index + 1} of ${page.count})`, out);
}

function breakSvg(p: Placed, laneX: readonly number[]): string[] {
  if (p.breakH === 0) return [];
  const mid = p.breakTop + p.breakH / 2;
  const colour = p.row.breakBefore === 'tall' ? '#b00020' : '#555555';
  const zig = (cx: number): string =>
    `<path d="M${cx - 14},${mid - 8} l9,-7 l10,14 l9,-7 M${cx - 14},${mid + 6} l9,-7 l10,14 l9,-7" fill="none" stroke="${colour}" stroke-width="3"/>`;
  return [
    ...laneX.map((cx) => `<rect x="${cx - 16}" y="${mid - 20}" width="32" height="40" fill="#ffffff"/>${zig(cx)}`),
    svgText(TIME_RIGHT, mid + 8, `+${ms(p.row.gapMs)}`, { size: 22, weight: 'bold', fill: colour, anchor: 'end', family: MONO }),
  ];
}

function rowSvg(p: Placed, x: (lane: string) => number): string[] {
  const { step, lines, boxX, boxW } = p.row;
  const colour = COLOURS[step.tone];
  const out = [svgText(TIME_RIGHT, p.y + 8, ms(step.t), { size: 22, anchor: 'end', family: MONO, fill: '#333333' })];
  if (step.kind === 'note') {
    const h = lines.length * LINE + 14;
    out.push(
      `<rect x="${boxX}" y="${p.y - h / 2}" width="${boxW}" height="${h}" rx="6" fill="${step.tone === 'problem' ? '#ffe5e5' : '#f2f2f2'}" stroke="${colour}" stroke-width="2"/>`,
      `<circle cx="${x(step.at)}" cy="${p.y}" r="8" fill="${colour}"/>`,
      ...lines.map((l, i) => svgText(boxX + 12, p.y - h / 2 + 30 + i * LINE, l, { fill: colour })),
    );
    return out;
  }
  const x1 = x(step.from);
  const x2 = x(step.to);
  const dash = step.tone === 'close' ? ' stroke-dasharray="10 6"' : '';
  out.push(
    `<line x1="${x1}" y1="${p.y}" x2="${x2 + (x2 > x1 ? -4 : 4)}" y2="${p.y}" stroke="${colour}" stroke-width="${step.tone === 'info' ? 2 : 4}"${dash} marker-end="url(#head-${step.tone})"/>`,
  );
  const centre = boxX + boxW / 2;
  lines.forEach((l, i) => out.push(svgText(centre, p.y - 12 - (lines.length - 1 - i) * LINE, l, { fill: colour, anchor: 'middle', halo: true })));
  return out;
}

/** Shaded spans under everything; each label goes into the page's tall break (the compressed wait) it covers. */
function spansSvg(spans: readonly Span[], placed: readonly Placed[], x: (lane: string) => number, bottom: number): string[] {
  const first = placed[0]?.row.step.t ?? 0;
  const last = placed.at(-1)?.row.step.t ?? 0;
  const out: string[] = [];
  const labelled: { x0: number; x1: number; y: number }[] = [];
  for (const span of spans) {
    if (span.end < first || span.start > last) continue;
    const [a, b] = [x(span.between[0]), x(span.between[1])].sort((p, q) => p - q) as [number, number];
    const y0 = span.start < first ? ROWS_TOP - 8 : (placed.find((p) => p.row.step.t >= span.start)?.y ?? ROWS_TOP);
    const y1 = placed.find((p) => p.row.step.t >= span.end)?.y ?? bottom;
    const stall = span.kind === 'stall';
    out.push(
      `<rect x="${a + 8}" y="${y0}" width="${b - a - 16}" height="${Math.max(8, y1 - y0)}" fill="${stall ? '#ffd3d3' : '#fff0c2'}" stroke="${stall ? '#b00020' : '#a66d00'}" stroke-width="2" stroke-dasharray="8 5" rx="6"/>`,
    );
    const wait = placed.find((p) => p.row.breakBefore === 'tall' && p.row.step.t > span.start && p.row.step.t - p.row.gapMs < span.end);
    if (wait === undefined) continue;
    let y = wait.breakTop + wait.breakH / 2 - 30;
    while (labelled.some((l) => l.x0 < b && a < l.x1 && Math.abs(l.y - y) < 44)) y += 44;
    labelled.push({ x0: a, x1: b, y });
    out.push(svgText((a + b) / 2, y, span.label, { size: 28, weight: 'bold', fill: stall ? '#b00020' : '#7a5000', anchor: 'middle', halo: true }));
  }
  return out;
}
