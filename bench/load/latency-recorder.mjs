// Latency samples of one measurement, in milliseconds, kept in full so the
// percentiles are exact (a 10 s round at 30k ops/s is 300k doubles, 2.4 MB).

const INITIAL_CAPACITY = 1 << 16;

export class LatencyRecorder {
  #samples = new Float64Array(INITIAL_CAPACITY);
  #count = 0;

  get count() {
    return this.#count;
  }

  record(ms) {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  /** Nearest-rank percentiles and the mean, in ms; null when nothing was recorded. */
  summary() {
    if (this.#count === 0) return null;
    const sorted = this.#samples.slice(0, this.#count).sort();
    const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
    let sum = 0;
    for (const v of sorted) sum += v;
    return { count: this.#count, mean: sum / this.#count, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: sorted[sorted.length - 1] };
  }
}
