/**
 * The slides of a workshop deck, as data, from the results of the run just made: a title per demo, its diagrams (one
 * per slide-sized page), the pooling chart, what each hop saw, the numbers side by side, one slide per idea of the
 * explanation, where the packets are in the capture, and how the deck was made. Each slide carries speaker notes.
 * {@link ./deck-html.ts} turns them into the HTML file. Pure.
 */
import { paginate } from './diagram-pages.js';
import type { CaptureRange } from './pcap.js';
import { renderPoolingChart } from './pooling-chart.js';
import { renderDiagramSvg } from './render-svg.js';
import type { DemoResult, Scenario } from './timeline.js';
import { ms } from './timeline.js';

export type Slide =
  | { readonly kind: 'title'; readonly title: string; readonly lines: readonly string[]; readonly notes: string }
  | { readonly kind: 'svg'; readonly name: string; readonly svg: string; readonly notes: string }
  | { readonly kind: 'text'; readonly title: string; readonly items: readonly string[]; readonly notes: string }
  | { readonly kind: 'table'; readonly title: string; readonly columns: readonly string[]; readonly rows: readonly (readonly string[])[]; readonly notes: string };

/** What made this run: shown on the last slide. */
export interface RunInfo {
  readonly command: string;
  readonly version: string;
  readonly node: string;
  readonly system: string;
  readonly at: string;
  /** The hopwise settings the demos ran with, as `key: value` lines. */
  readonly settings: readonly string[];
  /** The capture file's name, when the run was captured. */
  readonly pcapName?: string;
}

const PARAM_NAMES: Record<string, string> = {
  idleTimeoutMs: 'origin idle timeout (ms)',
  requests: 'requests',
  concurrency: 'clients at a time',
};

function captureFooter(demo: string, scenario: Scenario, capture: readonly CaptureRange[] | undefined, name: string | undefined): string | undefined {
  const range = capture?.find((c) => c.scenario === `${demo}/${scenario.id}`);
  if (range === undefined || name === undefined) return undefined;
  const ports = Object.values(range.ports).join(' ');
  return `Wireshark: ${name}, frames ${range.firstFrame}–${range.lastFrame} · filter tcp.port in {${ports}}`;
}

/** The diagram slides of one demo, named as `--svg` names its files. */
export function diagramSlides(result: DemoResult, capture?: readonly CaptureRange[], pcapName?: string): Slide[] {
  const slides: Slide[] = [];
  for (const scenario of result.scenarios) {
    const footer = captureFooter(result.demo, scenario, capture, pcapName);
    for (const page of paginate(scenario)) {
      const times = page.rows.map((r) => `${ms(r.step.t)}: ${r.step.kind === 'message' ? `${r.step.from} → ${r.step.to}` : r.step.at}: ${r.step.kind === 'message' ? (r.step.detail ?? r.step.label) : r.step.label}`);
      const wait = page.rows.find((r) => r.breakBefore === 'tall');
      slides.push({
        kind: 'svg',
        name: `${result.demo}-${scenario.id}-${page.index + 1}`,
        svg: renderDiagramSvg(result.title, page, footer),
        notes: [
          wait === undefined ? '' : `The break is ${ms(wait.gapMs)} of nothing: point at who waits for whom.`,
          footer ?? '',
          ...times,
        ].filter((l) => l !== '').join('\n'),
      });
    }
  }
  const chart = renderPoolingChart(result);
  if (chart !== undefined) {
    slides.push({
      kind: 'svg',
      name: `${result.demo}-chart`,
      svg: chart,
      notes: 'Left: what each proxy cost the origin. Right: one lane per upstream connection; hopwise reuses a few, naive mode opens one per request.',
    });
  }
  return slides;
}

/** All slides of one demo. */
export function demoSlides(result: DemoResult, capture?: readonly CaptureRange[], pcapName?: string): Slide[] {
  const params = Object.entries(result.params).map(([k, v]) => `${PARAM_NAMES[k] ?? k}: ${String(v)}`);
  const slides: Slide[] = [
    { kind: 'title', title: result.title, lines: [`hopwise demo ${result.demo}`, params.join(' · ')], notes: `Run live: hopwise demo ${result.demo}. Every number on the next slides comes from the run that made this deck.` },
    ...diagramSlides(result, capture, pcapName),
  ];
  for (const s of result.scenarios) {
    if (s.hops.length === 0) continue;
    slides.push({
      kind: 'text',
      title: `What each hop saw: ${s.title}`,
      items: s.hops.map((h) => `${h.between.join(' ↔ ')}: ${h.connections} connection(s), ${h.summary}`),
      notes: 'One line per hop: a hop is one TCP connection between two neighbours, with its own persistence.',
    });
  }
  slides.push({ kind: 'table', title: 'Side by side', columns: result.comparison.columns, rows: result.comparison.rows, notes: 'Ask the room: who could have prevented this?' });
  result.explanation.forEach((paragraph, i) =>
    slides.push({ kind: 'text', title: i === 0 ? 'Why' : 'Why (continued)', items: [paragraph], notes: paragraph }),
  );
  return slides;
}

/** The last slide: versions, settings and the one command that makes the deck again. */
export function madeWithSlide(info: RunInfo, results: readonly DemoResult[], capture?: readonly CaptureRange[]): Slide[] {
  const slides: Slide[] = [];
  if (capture !== undefined && info.pcapName !== undefined) {
    slides.push({
      kind: 'table',
      title: `The packets: ${info.pcapName}`,
      columns: ['scenario', 'frames', 'Wireshark filter'],
      rows: capture.map((c) => [c.scenario, `${c.firstFrame}–${c.lastFrame}`, `tcp.port in {${Object.values(c.ports).join(' ')}}`]),
      notes: 'Open the capture in Wireshark; filter tcp.flags.syn == 1 to count handshakes, tcp.flags.fin == 1 for the closes.',
    });
  }
  slides.push({
    kind: 'text',
    title: 'How this deck was made',
    items: [
      `${info.command}, ${info.at}`,
      `hopwise ${info.version} · Node.js ${info.node} · ${info.system}`,
      ...results.map((r) => `${r.demo}: ${Object.entries(r.params).map(([k, v]) => `${PARAM_NAMES[k] ?? k} ${String(v)}`).join(', ')}`),
      `hopwise settings: ${info.settings.join(', ')}`,
    ],
    notes: 'Regenerate before every session: hopwise demo all --slides DIR. All traffic ran on loopback on this machine.',
  });
  return slides;
}
