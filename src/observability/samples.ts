/**
 * A bounded sample window for latency summaries (upstream connect time, SPEC §8.1): the mean covers every value ever
 * added, the p99 covers the most recent `window` values, so memory stays constant however long the proxy runs.
 */

/** Round to 3 decimals: counters stay exact, ratios and milliseconds stay readable in JSON. */
export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export class Samples {
  readonly #window: number;
  readonly #values: number[] = [];
  #next = 0;
  #sum = 0;
  #count = 0;

  constructor(window = 1024) {
    this.#window = window;
  }

  add(v: number): void {
    this.#sum += v;
    this.#count++;
    if (this.#values.length < this.#window) this.#values.push(v);
    else {
      this.#values[this.#next] = v;
      this.#next = (this.#next + 1) % this.#window;
    }
  }

  /** Mean of all values; p99 by the nearest-rank method over the window; both 0 before the first value. */
  summary(): { mean: number; p99: number } {
    if (this.#count === 0) return { mean: 0, p99: 0 };
    const sorted = [...this.#values].sort((a, b) => a - b);
    const p99 = sorted[Math.ceil(sorted.length * 0.99) - 1] ?? 0;
    return { mean: round(this.#sum / this.#count), p99: round(p99) };
  }
}
