/** Serialised form of a Histogram: its resolution and [bucket, count] pairs. */
export interface HistogramJson {
  readonly resolution: number;
  readonly buckets: readonly (readonly [number, number])[];
}

/** The percentiles every latency figure reports. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Counts of samples rounded to a fixed resolution. Unlike a list of samples it stays small with
 * millions of values, and histograms from several processes merge exactly.
 */
export class Histogram {
  readonly resolution: number;
  readonly #counts = new Map<number, number>();
  #total = 0;

  /** @param resolution the width of one bucket, in the unit of the samples (1 = whole milliseconds) */
  constructor(resolution = 1) {
    this.resolution = resolution;
  }

  static fromJSON(json: HistogramJson): Histogram {
    const histogram = new Histogram(json.resolution);
    for (const [bucket, n] of json.buckets) histogram.#add(bucket, n);
    return histogram;
  }

  get count(): number {
    return this.#total;
  }

  record(value: number): void {
    this.#add(Math.round(value / this.resolution), 1);
  }

  merge(other: Histogram): void {
    if (other.resolution !== this.resolution)
      throw new Error('cannot merge histograms of different resolutions');
    for (const [bucket, n] of other.#counts) this.#add(bucket, n);
  }

  /** The nearest-rank percentile: the smallest value at least `p`% of samples are at or below. */
  percentile(p: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#total));
    let seen = 0;
    for (const bucket of this.#sortedBuckets()) {
      seen += this.#counts.get(bucket)!;
      if (seen >= rank) return bucket * this.resolution;
    }
    throw new Error('unreachable: rank exceeds the sample count');
  }

  summary(): LatencySummary {
    const buckets = this.#sortedBuckets();
    const last = buckets.at(-1);
    return {
      count: this.#total,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: last === undefined ? Number.NaN : last * this.resolution,
    };
  }

  toJSON(): HistogramJson {
    return { resolution: this.resolution, buckets: [...this.#counts] };
  }

  #add(bucket: number, n: number): void {
    this.#counts.set(bucket, (this.#counts.get(bucket) ?? 0) + n);
    this.#total += n;
  }

  #sortedBuckets(): number[] {
    return [...this.#counts.keys()].sort((a, b) => a - b);
  }
}
