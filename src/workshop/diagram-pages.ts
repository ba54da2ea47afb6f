/**
 * Splits a scenario's timeline into pages that each fit one 1920×1080 slide, and measures every row. Pure geometry:
 * {@link ./render-svg.ts} draws what this decides. A long wait (the stall) is kept on a page of its own with the two
 * steps before and after it, so a scenario reads as the request, the wait, and what happens next; the rest is cut
 * where it fits, preferably before a new connection. Labels are wrapped, never cut; widths are estimated a little
 * generously for the sans-serif the slides use, so an estimate never undershoots what a browser draws.
 */
import type { Scenario, Step } from './timeline.js';

export const SLIDE_W = 1920;
export const SLIDE_H = 1080;
export const LABEL_SIZE = 24;
export const LINE = 30;
/** Where rows may go: below the title and the participants, above the footer. */
export const ROWS_TOP = 232;
export const ROWS_BOTTOM = 1010;
/** The time column is right-aligned here; labels start right of it. */
export const TIME_RIGHT = 205;
export const TEXT_LEFT = TIME_RIGHT + 30;
export const TEXT_RIGHT = SLIDE_W - 30;
const FIRST_LANE = 345;
const LAST_LANE = 1730;
/** A pause longer than this between two steps is drawn as a break in the time axis. */
export const GAP_MS = 50;
export const SHORT_BREAK = 64;
export const TALL_BREAK = 250;
/** Steps kept on the stall's page on each side of it. */
const CONTEXT = 2;

/** Estimated advance of `text` at `size` px (average em share, generous; bold is wider). */
export function textWidth(text: string, size: number, bold = false): number {
  return [...text].length * size * 0.6 * (bold ? 1.1 : 1);
}

/** Wraps a label to lines no wider than `maxWidth`, breaking after ` · ` parts first, then at spaces. */
export function wrapLabel(label: string, maxWidth: number, size = LABEL_SIZE): string[] {
  const words = label.split(' · ').flatMap((part, i) => part.split(' ').map((w, j) => ({ w, sep: i > 0 && j === 0 ? ' · ' : ' ' })));
  const lines: string[] = [];
  for (const { w, sep } of words) {
    const last = lines.at(-1);
    if (last !== undefined && textWidth(`${last}${sep}${w}`, size) <= maxWidth) lines[lines.length - 1] = `${last}${sep}${w}`;
    else lines.push(w);
  }
  return lines;
}

/** The x of each lane: the first and last at fixed positions, the rest evenly between. */
export function laneXs(lanes: readonly string[]): Map<string, number> {
  const step = lanes.length > 1 ? (LAST_LANE - FIRST_LANE) / (lanes.length - 1) : 0;
  return new Map(lanes.map((lane, i) => [lane, FIRST_LANE + i * step]));
}

export type BreakKind = 'none' | 'short' | 'tall';

/** One step laid out: the break before it, its label lines and the box they occupy. */
export interface Row {
  readonly step: Step;
  readonly breakBefore: BreakKind;
  /** Milliseconds since the previous step. */
  readonly gapMs: number;
  readonly lines: readonly string[];
  /** Left edge and width of the label box; for a message, centred over its arrow. */
  readonly boxX: number;
  readonly boxW: number;
  readonly height: number;
}

export interface DiagramPage {
  readonly scenario: Scenario;
  readonly rows: readonly Row[];
  /** What this page shows, e.g. "the wait"; with `index`/`count`, the page's subtitle. */
  readonly heading: string;
  readonly index: number;
  readonly count: number;
}

/** A pause is drawn tall when someone is stalled through it (so the stall still looks long), short otherwise. */
function breakKind(s: Scenario, from: number, to: number): BreakKind {
  if (to - from <= GAP_MS) return 'none';
  return s.spans.some((span) => span.kind === 'stall' && span.start < to && span.end > from) ? 'tall' : 'short';
}

function labelBox(step: Step, xs: Map<string, number>): { lines: string[]; boxX: number; boxW: number } {
  if (step.kind === 'note') {
    const x = xs.get(step.at) ?? FIRST_LANE;
    const right = Math.min(900, TEXT_RIGHT - (x + 20));
    const toLeft = right < 520;
    const room = toLeft ? Math.min(900, x - 20 - TEXT_LEFT) : right;
    const lines = wrapLabel(step.label, room - 24);
    const boxW = Math.max(...lines.map((l) => textWidth(l, LABEL_SIZE))) + 24;
    return { lines, boxX: toLeft ? x - 20 - boxW : x + 20, boxW };
  }
  const x1 = xs.get(step.from) ?? FIRST_LANE;
  const x2 = xs.get(step.to) ?? FIRST_LANE;
  const room = Math.min(Math.max(Math.abs(x2 - x1) - 40, 940), TEXT_RIGHT - TEXT_LEFT);
  const lines = wrapLabel(step.label, room);
  const boxW = Math.max(...lines.map((l) => textWidth(l, LABEL_SIZE)));
  const centre = Math.min(Math.max((x1 + x2) / 2, TEXT_LEFT + boxW / 2), TEXT_RIGHT - boxW / 2);
  return { lines, boxX: centre - boxW / 2, boxW };
}

/** Every step of `s` as a row, with the break before it. */
export function layoutRows(s: Scenario): Row[] {
  const xs = laneXs(s.lanes);
  return s.steps.map((step, i) => {
    const previous = i === 0 ? step.t : (s.steps[i - 1]?.t ?? step.t);
    const box = labelBox(step, xs);
    const body = step.kind === 'note' ? box.lines.length * LINE + 20 : box.lines.length * LINE + 30;
    return { step, breakBefore: breakKind(s, previous, step.t), gapMs: step.t - previous, ...box, height: body + 12 };
  });
}

const breakHeight = (kind: BreakKind): number => (kind === 'tall' ? TALL_BREAK : kind === 'short' ? SHORT_BREAK : 0);

/** Height of `rows` on a page (the first row's break is drawn only if it is tall: the wait itself). */
export function pageHeight(rows: readonly Row[]): number {
  return rows.reduce((h, r, i) => h + r.height + (i === 0 && r.breakBefore !== 'tall' ? 0 : breakHeight(r.breakBefore)), 0);
}

/** Cuts `rows` into runs that fit the page height, preferring a cut before the client opens a new connection. */
function fill(rows: readonly Row[], client: string): Row[][] {
  const greedy = fillUpTo(rows, client, ROWS_BOTTOM - ROWS_TOP);
  if (greedy.length < 2) return greedy;
  // As many pages, but evened out: no page of two rows after a full one.
  const even = fillUpTo(rows, client, Math.min(ROWS_BOTTOM - ROWS_TOP, (pageHeight(rows) / greedy.length) * 1.2));
  return even.length === greedy.length ? even : greedy;
}

function fillUpTo(rows: readonly Row[], client: string, capacity: number): Row[][] {
  const pages: Row[][] = [];
  let page: Row[] = [];
  for (const row of rows) {
    if (page.length > 0 && pageHeight([...page, row]) > capacity) {
      const cut = page.findLastIndex(
        (r, i) => i >= Math.ceil((page.length * 2) / 3) && r.step.kind === 'message' && r.step.from === client && /^connect\b/.test(r.step.label),
      );
      const at = cut > 0 ? cut : page.length;
      pages.push(page.slice(0, at));
      page = page.slice(at);
    }
    page.push(row);
  }
  if (page.length > 0) pages.push(page);
  return pages;
}

/** The pages of one scenario. */
export function paginate(s: Scenario): DiagramPage[] {
  const rows = layoutRows(s);
  const cuts = new Set<number>([0, rows.length]);
  rows.forEach((r, i) => {
    if (r.breakBefore !== 'tall') return;
    cuts.add(Math.max(0, i - CONTEXT));
    cuts.add(Math.min(rows.length, i + CONTEXT));
  });
  const bounds = [...cuts].sort((a, b) => a - b);
  const runs = bounds.slice(1).flatMap((end, k) => fill(rows.slice(bounds[k], end), s.lanes[0] ?? ''));
  const stallPage = runs.findIndex((run) => run.some((r) => r.breakBefore === 'tall'));
  const heading = (run: Row[], k: number): string => {
    if (run.some((r) => r.breakBefore === 'tall')) return 'the wait';
    if (stallPage < 0) return runs.length > 1 ? (k === 0 ? 'the requests' : 'continued') : 'the requests';
    return k < stallPage ? 'the request' : 'what happens next';
  };
  return runs.map((run, k) => ({ scenario: s, rows: run, heading: heading(run, k), index: k, count: runs.length }));
}
