/**
 * Chunk lateness, counted cheaply enough for every chunk: a fixed set of buckets, one
 * increment per chunk, and percentiles read from the counts once a second.
 */

/**
 * Bucket upper bounds in ms: fine below 5 ms, where the schedule is meant to be, coarse beyond.
 * The Prometheus histogram (`multi_socket_chunk_lateness_seconds`) has the same ones, in seconds.
 */
export const LATENESS_BOUNDS_MS: readonly number[] = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 100, 250, 500, 1000, 2500, 5000];

/** Counts per bucket (the last one: above every bound) and the largest value seen: what a worker sends the primary. */
export interface LatenessCounts {
  readonly counts: readonly number[];
  readonly max: number;
}

/** How late chunks were over some span: percentiles as Prometheus's histogram_quantile() reads them, capped by the true maximum. */
export interface LatenessSummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

export class LatenessHistogram {
  readonly counts: number[] = new Array<number>(LATENESS_BOUNDS_MS.length + 1).fill(0);
  max = 0;

  observe(ms: number): void {
    let i = 0;
    // Most chunks are on time: the scan stops within the first few bounds.
    while (i < LATENESS_BOUNDS_MS.length && ms > (LATENESS_BOUNDS_MS[i] as number)) i++;
    (this.counts[i] as number)++;
    if (ms > this.max) this.max = ms;
  }

  add(other: LatenessCounts): void {
    for (let i = 0; i < this.counts.length; i++) (this.counts[i] as number) += other.counts[i] ?? 0;
    if (other.max > this.max) this.max = other.max;
  }

  get count(): number {
    return this.counts.reduce((sum, count) => sum + count, 0);
  }

  /** The counts so far, and a fresh start: what one second of chunks looked like. */
  take(): LatenessCounts {
    const taken = { counts: [...this.counts], max: this.max };
    this.counts.fill(0);
    this.max = 0;
    return taken;
  }

  summary(): LatenessSummary {
    return { p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.max, count: this.count };
  }

  /**
   * The value below which a share `q` of the chunks fall: found in its bucket by linear
   * interpolation, as histogram_quantile() does, and never above the largest value seen.
   */
  quantile(q: number): number {
    const count = this.count;
    if (count === 0) return 0;
    const rank = q * count;
    let below = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const inBucket = this.counts[i] as number;
      if (below + inBucket >= rank && inBucket > 0) {
        const lower = i === 0 ? 0 : (LATENESS_BOUNDS_MS[i - 1] as number);
        const upper = LATENESS_BOUNDS_MS[i] ?? this.max;
        return Math.min(this.max, lower + ((upper - lower) * (rank - below)) / inBucket);
      }
      below += inBucket;
    }
    return this.max;
  }
}

/** The last `seconds` one-second histograms, summed on demand: lateness "over the last minute". */
export class LatenessWindow {
  readonly #ring: LatenessCounts[] = [];
  readonly #seconds: number;

  constructor(seconds = 60) {
    this.#seconds = seconds;
  }

  push(second: LatenessCounts): void {
    this.#ring.push(second);
    if (this.#ring.length > this.#seconds) this.#ring.shift();
  }

  summary(): LatenessSummary {
    const sum = new LatenessHistogram();
    for (const second of this.#ring) sum.add(second);
    return sum.summary();
  }
}
