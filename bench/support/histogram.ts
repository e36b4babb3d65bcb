/**
 * A latency histogram with logarithmic buckets (each 2% wide), so that a
 * child process can record every call of a run and send a few hundred numbers
 * back instead of every sample, and histograms of several processes merge
 * exactly. Quantiles are read as the upper edge of their bucket (at most 2%
 * high) and never above the largest value recorded.
 */

const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Values are kept in microseconds; anything under 1 µs falls in bucket 0. */
const UNIT_PER_MS = 1000;

/** What crosses the process boundary: `[bucket, count]` pairs and the largest value, in ms. */
export interface HistogramData {
  readonly buckets: readonly (readonly [number, number])[];
  readonly max: number;
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private largest = 0;

  /** Records one duration in milliseconds. */
  record(ms: number): void {
    const units = ms * UNIT_PER_MS;
    const bucket = units <= 1 ? 0 : Math.ceil(Math.log(units) / LOG_GROWTH);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.total += 1;
    if (ms > this.largest) this.largest = ms;
  }

  get count(): number {
    return this.total;
  }

  get max(): number {
    return this.largest;
  }

  /** Adds every value of `other` to this one. */
  merge(other: Histogram | HistogramData): this {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [bucket, n] of data.buckets) {
      this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + n);
      this.total += n;
    }
    if (data.max > this.largest) this.largest = data.max;
    return this;
  }

  /** The value under which a fraction `q` of the recorded values fall, in ms; NaN when empty. */
  quantile(q: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!;
      if (seen >= rank) return Math.min(GROWTH ** bucket / UNIT_PER_MS, this.largest);
    }
    return this.largest;
  }

  toJSON(): HistogramData {
    return { buckets: [...this.counts], max: this.largest };
  }

  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}
