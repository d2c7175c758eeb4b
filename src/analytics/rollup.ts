import type { Counters, Grain, RollupDelta, SeenKey } from './analytics.ts';

export const zero = (): Counters => ({
  visitors: 0,
  visits: 0,
  pageviews: 0,
  events: 0,
  bounces: 0,
  duration: 0,
});

/**
 * Collects rollup changes for a batch in memory, so each cell is written once per batch however many
 * events touch it, and each (cell, visitor) is checked for "seen" once.
 */
export class RollupAccumulator {
  readonly #cells = new Map<string, RollupDelta>();
  readonly #seen = new Map<string, SeenKey>();

  /** Adds `change` to the cell's counters. */
  add(grain: Grain, bucket: number, dim: string, value: string, change: Partial<Counters>): void {
    const key = `${grain}|${bucket}|${dim}|${value}`;
    let cell = this.#cells.get(key);
    if (!cell) {
      cell = { grain, bucket, dim, value, counters: zero() };
      this.#cells.set(key, cell);
    }
    const c = cell.counters;
    for (const k in change) c[k as keyof Counters] += change[k as keyof Counters]!;
  }

  /** Notes that `visitor` appeared in the cell; visitors are counted once the store says which are new. */
  visit(grain: Grain, bucket: number, dim: string, value: string, visitor: string): void {
    const key = `${grain}|${bucket}|${dim}|${value}|${visitor}`;
    if (!this.#seen.has(key)) this.#seen.set(key, { grain, bucket, dim, value, visitor });
  }

  /** Every (cell, visitor) noted in this batch. */
  seen(): SeenKey[] {
    return [...this.#seen.values()];
  }

  /** Counts one visitor in each cell of `fresh` (the seen keys the store had not recorded before). */
  countVisitors(fresh: readonly SeenKey[]): void {
    for (const s of fresh) this.add(s.grain, s.bucket, s.dim, s.value, { visitors: 1 });
  }

  /** The non-zero deltas. */
  deltas(): RollupDelta[] {
    return [...this.#cells.values()].filter((d) => Object.values(d.counters).some((v) => v !== 0));
  }

  get size(): number {
    return this.#cells.size;
  }
}
