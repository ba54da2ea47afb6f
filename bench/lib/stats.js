// Pure numeric helpers for the bench: percentiles of one run, medians across runs.

/**
 * Nearest-rank percentile of an ascending-sorted array; null when empty.
 * @param {ArrayLike<number>} sorted
 * @param {number} p in [0, 100]
 * @returns {number | null}
 */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return /** @type {number} */ (sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]);
}

/**
 * Median of the finite numbers among `values` (nulls skipped); null when there are none.
 * @param {Array<number | null | undefined>} values
 * @returns {number | null}
 */
export function median(values) {
  const xs = Float64Array.from(values.filter((v) => typeof v === 'number' && Number.isFinite(v))).sort();
  if (xs.length === 0) return null;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 === 1 ? Number(xs[mid]) : (Number(xs[mid - 1]) + Number(xs[mid])) / 2;
}

/**
 * `part / whole * 1000`, or null when either is missing or `whole` is 0.
 * @param {number | null | undefined} part
 * @param {number | null | undefined} whole
 * @returns {number | null}
 */
export function perThousand(part, whole) {
  if (typeof part !== 'number' || typeof whole !== 'number' || whole <= 0) return null;
  return (part / whole) * 1000;
}

/** Growable Float64 buffer: records a value per response without allocating an object per response. */
export class SampleBuffer {
  #data = new Float64Array(1 << 16);
  #length = 0;

  /** @param {number} value */
  push(value) {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  /** @returns {Float64Array} a sorted copy of the recorded values */
  sorted() {
    return this.#data.slice(0, this.#length).sort();
  }
}
