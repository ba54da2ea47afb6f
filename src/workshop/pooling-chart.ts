/**
 * The pooling lesson as one 1920×1080 chart: on the left, bars for what each proxy cost the origin (upstream
 * connections opened, TIME_WAIT sockets left, time spent in TCP handshakes), naive mode against hopwise; on the right,
 * one lane per upstream connection over the run, so hundreds of one-request lanes stand against a handful of long
 * lanes, each ticked once per request it carried. Every number comes from the run's facts. Pure.
 */
import { SLIDE_W } from './diagram-pages.js';
import { svgDocument, svgText, titleSvg } from './render-svg.js';
import type { ConnectionLane, DemoResult, Fact, Scenario } from './timeline.js';
import { ms } from './timeline.js';

const NAIVE = '#b00020';
const HOPWISE = '#0a6b2d';
const BAR_LEFT = 250;
const BAR_MAX = 470;
const LANES_LEFT = 1010;
const LANES_RIGHT = SLIDE_W - 50;
const LANE_BOX = 290;

interface Bar {
  readonly title: string;
  readonly naive: number | null;
  readonly hopwise: number | null;
  readonly format: (n: number) => string;
}

const num = (f: Fact | undefined): number | null => (typeof f === 'number' ? f : null);

function barsSvg(bars: readonly Bar[], top: number): string[] {
  const out: string[] = [];
  bars.forEach((bar, g) => {
    const y0 = top + g * 205;
    out.push(svgText(40, y0, bar.title, { size: 28, weight: 'bold' }));
    const max = Math.max(bar.naive ?? 0, bar.hopwise ?? 0, 1e-9);
    ([['naive mode', bar.naive, NAIVE], ['hopwise', bar.hopwise, HOPWISE]] as const).forEach(([who, value, colour], i) => {
      const y = y0 + 28 + i * 64;
      const w = value === null ? 0 : value === 0 ? 0 : Math.max(6, (value / max) * BAR_MAX);
      out.push(
        svgText(BAR_LEFT - 16, y + 36, who, { size: 26, anchor: 'end', fill: colour, weight: 'bold' }),
        `<rect x="${BAR_LEFT}" y="${y + 8}" width="${w.toFixed(1)}" height="40" fill="${colour}"/>`,
        svgText(BAR_LEFT + w + 14, y + 38, value === null ? 'unavailable' : bar.format(value), { size: 30, weight: 'bold', fill: colour }),
      );
    });
  });
  return out;
}

/** One lane per connection, from opened to closed (or to the end of the run), ticked at each request. */
function lanesSvg(title: string, lanes: readonly ConnectionLane[], top: number, endMs: number, colour: string): string[] {
  const width = LANES_RIGHT - LANES_LEFT;
  const xAt = (t: number): number => LANES_LEFT + (Math.min(t, endMs) / endMs) * width;
  const pitch = Math.min(60, LANE_BOX / Math.max(1, lanes.length));
  const thick = Math.max(1.5, pitch * 0.84);
  const out = [svgText(LANES_LEFT, top, title, { size: 26, weight: 'bold', fill: colour })];
  const boxTop = top + 16;
  out.push(`<rect x="${LANES_LEFT}" y="${boxTop}" width="${width}" height="${LANE_BOX}" fill="#f7f7f7" stroke="#999999"/>`);
  lanes.forEach((lane, i) => {
    const y = boxTop + i * pitch + (pitch - thick) / 2;
    const x0 = Math.min(xAt(lane.opened), LANES_RIGHT - 8);
    const x1 = Math.max(x0 + 8, xAt(lane.closed ?? endMs));
    out.push(`<rect x="${x0.toFixed(1)}" y="${y.toFixed(2)}" width="${(x1 - x0).toFixed(1)}" height="${thick.toFixed(2)}" fill="${colour}"/>`);
    if (pitch < 30) return;
    // Ticks in the lower third, the label above them: one tick per request this connection carried.
    const ticks = lane.requests.map((t) => `M${xAt(t).toFixed(1)},${(y + thick - 14).toFixed(1)}v10`).join('');
    out.push(`<path d="${ticks}" stroke="#ffffff" stroke-width="2"/>`);
    const n = lane.requests.length;
    const label = `connection #${i + 1}: ${n} request${n === 1 ? '' : 's'}${n > 1 ? `, reused ${n - 1}×` : ''}`;
    out.push(svgText(x0 + 12, y + 26, label, { size: 22, weight: 'bold', fill: '#ffffff' }));
  });
  out.push(
    svgText(LANES_LEFT, boxTop + LANE_BOX + 30, '0 ms', { size: 22, fill: '#444444' }),
    svgText(LANES_RIGHT, boxTop + LANE_BOX + 30, ms(endMs), { size: 22, fill: '#444444', anchor: 'end' }),
  );
  return out;
}

/** The chart for a pooling result; undefined for other demos. */
export function renderPoolingChart(result: DemoResult, footer?: string): string | undefined {
  const naive = result.scenarios.find((s) => s.id === 'naive');
  const hopwise = result.scenarios.find((s) => s.id === 'hopwise');
  if (result.demo !== 'pooling' || naive === undefined || hopwise === undefined) return undefined;
  const n = naive.facts;
  const h = hopwise.facts;
  const bars: Bar[] = [
    { title: 'upstream connections opened', naive: num(n.upstreamConnections), hopwise: num(h.upstreamConnections), format: String },
    { title: 'TIME_WAIT sockets left at the origin', naive: num(n.timeWaitAtOriginPort), hopwise: num(h.timeWaitAtOriginPort), format: String },
    { title: 'time waiting for TCP handshakes (sum)', naive: num(n.handshakeMs), hopwise: num(h.handshakeMs), format: ms },
  ];
  const end = (s: Scenario): number => Math.max(num(s.facts.totalMs) ?? 1, ...(s.connections ?? []).map((c) => Math.max(c.opened, ...c.requests)));
  const endMs = Math.max(end(naive), end(hopwise), 1);
  const count = (s: Scenario): number => s.connections?.length ?? 0;
  const per = count(hopwise) === 0 ? 0 : Math.round(Number(h.originRequests) / count(hopwise));
  const out = [
    ...titleSvg(
      `What pooling saves: ${String(n.requests)} requests, ${String(n.concurrency)} clients at a time`,
      'measured on this machine, this run · each client says Connection: close',
    ),
    ...barsSvg(bars, 200),
    ...lanesSvg(`naive mode: ${count(naive)} connections, one request each`, naive.connections ?? [], 200, endMs, NAIVE),
    ...lanesSvg(`hopwise: ${count(hopwise)} connections, reused ≈${per}× each`, hopwise.connections ?? [], 620, endMs, HOPWISE),
    svgText(LANES_LEFT, 1010, 'one lane per upstream connection, over the run; ticks: requests', { size: 22, fill: '#444444' }),
  ];
  if (footer !== undefined) out.push(svgText(40, 1058, footer, { size: 22, fill: '#444444' }));
  return svgDocument(`${result.title}: the chart`, out);
}
