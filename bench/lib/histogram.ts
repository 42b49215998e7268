/**
 * A log-bucketed histogram of non-negative values (here: microseconds), mergeable across
 * processes: workers send their buckets to the coordinator as plain JSON and it adds them up.
 * Buckets are 1 unit wide up to 100, then 1% wide, so percentiles are within 1%.
 */
const LINEAR_LIMIT = 100;
const GROWTH = Math.log(1.01);

export interface HistogramData {
  readonly counts: Record<string, number>;
  readonly count: number;
  readonly max: number;
  readonly sum: number;
}

export class Histogram {
  #counts = new Map<number, number>();
  #count = 0;
  #max = 0;
  #sum = 0;

  record(value: number): void {
    const v = Math.max(0, value);
    const index = v < LINEAR_LIMIT ? Math.floor(v) : LINEAR_LIMIT + Math.floor(Math.log(v / LINEAR_LIMIT) / GROWTH);
    this.#counts.set(index, (this.#counts.get(index) ?? 0) + 1);
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  /** The value at or below which `p` (0..1) of the recorded values lie: a bucket's upper bound. */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(p * this.#count);
    let seen = 0;
    for (const index of [...this.#counts.keys()].sort((a, b) => a - b)) {
      seen += this.#counts.get(index) ?? 0;
      if (seen >= rank) return Math.min(this.#max, upperBound(index));
    }
    return this.#max;
  }

  mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  toJSON(): HistogramData {
    return { counts: Object.fromEntries(this.#counts), count: this.#count, max: this.#max, sum: this.#sum };
  }

  add(data: HistogramData): void {
    for (const [index, count] of Object.entries(data.counts)) {
      const key = Number(index);
      this.#counts.set(key, (this.#counts.get(key) ?? 0) + count);
    }
    this.#count += data.count;
    this.#sum += data.sum;
    if (data.max > this.#max) this.#max = data.max;
  }

  reset(): void {
    this.#counts.clear();
    this.#count = 0;
    this.#max = 0;
    this.#sum = 0;
  }
}

function upperBound(index: number): number {
  return index < LINEAR_LIMIT ? index + 1 : LINEAR_LIMIT * Math.exp((index - LINEAR_LIMIT + 1) * GROWTH);
}
