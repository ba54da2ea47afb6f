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

  /** Take `other`'s values in too (its mean exactly, its window as if its values came after ours). */
  absorb(other: Samples): void {
    this.#sum += other.#sum;
    this.#count += other.#count;
    const values = other.#values;
    const start = values.length < other.#window ? 0 : other.#next;
    for (let i = 0; i < values.length; i++) {
      const v = values[(start + i) % values.length]!;
      if (this.#values.length < this.#window) this.#values.push(v);
      else {
        this.#values[this.#next] = v;
        this.#next = (this.#next + 1) % this.#window;
      }
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
