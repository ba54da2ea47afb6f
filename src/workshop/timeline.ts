/**
 * The workshop demos' common result (SPEC §9.2): what each demo observed, as data. A demo runs real sockets and
 * records, on one clock, every message between participants (client, proxies, origin), notes, and spans of time on a
 * hop (a connection held open, a stall). Renderers turn a {@link DemoResult} into text, SVG or JSON; tests assert on
 * its facts. Only {@link TimelineRecorder} reads the clock; everything else here is plain data.
 */
import { performance } from 'node:perf_hooks';

/** How a step is drawn: the kind of message, or a problem (ignored bytes, a stall) or a good outcome. */
export type Tone = 'request' | 'response' | 'close' | 'problem' | 'good' | 'info';

/** A message from one participant (lifeline) to another, at the time the sender sent it or the receiver saw it. */
export interface MessageStep {
  readonly kind: 'message';
  /** Milliseconds since the scenario started. */
  readonly t: number;
  readonly from: string;
  readonly to: string;
  /** Short label, projector-sized (drawn on the arrow). */
  readonly label: string;
  /** Longer detail for text and JSON output (e.g. the full request line and headers). */
  readonly detail?: string;
  readonly tone: Tone;
}

/** Something one participant did or noticed. */
export interface NoteStep {
  readonly kind: 'note';
  readonly t: number;
  readonly at: string;
  readonly label: string;
  readonly tone: Tone;
}

export type Step = MessageStep | NoteStep;

/** A stretch of time on the hop between two participants: a connection held open idle, or a request stalled. */
export interface Span {
  readonly kind: 'stall' | 'held';
  readonly between: readonly [string, string];
  readonly start: number;
  readonly end: number;
  readonly label: string;
}

/** What one hop saw over the scenario: how many TCP connections, and a sentence about their state. */
export interface HopSummary {
  readonly between: readonly [string, string];
  readonly connections: number;
  readonly summary: string;
}

export type Fact = number | string | boolean | null;

/** One run of the demo through one chain of participants. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** Participants, left to right (client first, origin last). */
  readonly lanes: readonly string[];
  readonly steps: readonly Step[];
  readonly spans: readonly Span[];
  readonly hops: readonly HopSummary[];
  /** Measured facts (numbers in milliseconds or counts); what tests assert on. */
  readonly facts: Readonly<Record<string, Fact>>;
  /** The loopback port each listening participant used (to find this scenario in a packet capture). */
  readonly ports?: Readonly<Record<string, number>>;
  /** One entry per upstream connection the origin accepted, when the demo draws them as lanes (pooling). */
  readonly connections?: readonly ConnectionLane[];
}

/** One upstream TCP connection as the origin saw it, in milliseconds since the scenario started. */
export interface ConnectionLane {
  readonly opened: number;
  /** When it closed; null while still open at the end of the run (pooled). */
  readonly closed: number | null;
  /** Arrival time of each request it carried. */
  readonly requests: readonly number[];
}

/**
 * Called by a demo once a scenario's participants listen and before any traffic flows (the packet capture starts
 * here); `ports` names each listener's port.
 */
export type BeforeTraffic = (scenario: string, ports: Readonly<Record<string, number>>) => Promise<void>;

/** A table of numbers side by side: `columns[0]` heads the row labels. */
export interface Comparison {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Everything a demo observed. Serialised as is by `--json`. */
export interface DemoResult {
  readonly demo: 'dumb-proxy' | 'proxy-connection' | 'pooling';
  readonly title: string;
  readonly params: Readonly<Record<string, Fact>>;
  readonly scenarios: readonly Scenario[];
  readonly comparison: Comparison;
  /** The short explanation that ends the demo, one paragraph per entry. */
  readonly explanation: readonly string[];
}

const round1 = (ms: number): number => Math.round(ms * 10) / 10;

/** Collects one scenario's steps and spans against a clock that starts at construction. */
export class TimelineRecorder {
  #t0 = performance.now();
  readonly #steps: Step[] = [];
  readonly #spans: Span[] = [];

  /** Milliseconds since this recorder was created, to 0.1 ms. */
  now(): number {
    return round1(performance.now() - this.#t0);
  }

  /** Restarts the clock; only before anything was recorded (e.g. after waiting for a packet capture to start). */
  restart(): void {
    if (this.#steps.length === 0 && this.#spans.length === 0) this.#t0 = performance.now();
  }

  /** Records a message now; returns its time. */
  message(from: string, to: string, label: string, tone: Tone, detail?: string): number {
    const t = this.now();
    this.#steps.push({ kind: 'message', t, from, to, label, tone, ...(detail === undefined ? {} : { detail }) });
    return t;
  }

  /** Records a note now; returns its time. */
  note(at: string, label: string, tone: Tone = 'info'): number {
    const t = this.now();
    this.#steps.push({ kind: 'note', t, at, label, tone });
    return t;
  }

  /** Records a span between two recorded times. */
  span(kind: Span['kind'], between: readonly [string, string], start: number, end: number, label: string): void {
    this.#spans.push({ kind, between, start, end, label });
  }

  get steps(): readonly Step[] {
    return this.#steps;
  }

  /** Seals the recording into a scenario. */
  scenario(meta: Omit<Scenario, 'steps' | 'spans'>): Scenario {
    return { ...meta, steps: [...this.#steps], spans: [...this.#spans] };
  }
}

/** `1234.5 ms` → `1234.5 ms`, `0.42` → `0.4 ms`: one formatting of durations for every renderer. */
export function ms(value: number): string {
  return `${round1(value).toFixed(1)} ms`;
}
