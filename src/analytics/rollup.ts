import { zeroCounters, type Counters, type Grain, type RollupDelta, type SeenKey } from './model.ts';

interface Cell extends RollupDelta {
  /** Visitors noted in this cell during the batch. */
  visitors: Set<string> | undefined;
}

/**
 * Collects rollup changes for a batch in memory, so each cell is written once per batch however many
 * events touch it, and each (cell, visitor) is checked for "seen" once.
 */
export class RollupAccumulator {
  // Nested by grain and bucket, dimension, value: no key strings to build on the hot path.
  readonly #grains: Record<Grain, Map<number, Map<string, Map<string, Cell>>>> = {
    hour: new Map(),
    day: new Map(),
  };
  readonly #cells: Cell[] = [];

  #cell(grain: Grain, bucket: number, dim: string, value: string): Cell {
    const buckets = this.#grains[grain];
    let dims = buckets.get(bucket);
    if (!dims) buckets.set(bucket, (dims = new Map<string, Map<string, Cell>>()));
    let values = dims.get(dim);
    if (!values) dims.set(dim, (values = new Map<string, Cell>()));
    let cell = values.get(value);
    if (!cell) {
      cell = { grain, bucket, dim, value, counters: zeroCounters(), visitors: undefined };
      values.set(value, cell);
      this.#cells.push(cell);
    }
    return cell;
  }

  /** Adds `change` to the cell's counters. */
  add(grain: Grain, bucket: number, dim: string, value: string, change: Partial<Counters>): void {
    const c = this.#cell(grain, bucket, dim, value).counters;
    if (change.visitors) c.visitors += change.visitors;
    if (change.visits) c.visits += change.visits;
    if (change.pageviews) c.pageviews += change.pageviews;
    if (change.events) c.events += change.events;
    if (change.bounces) c.bounces += change.bounces;
    if (change.duration) c.duration += change.duration;
  }

  /** Notes that `visitor` appeared in the cell; visitors are counted once the store says which are new. */
  visit(grain: Grain, bucket: number, dim: string, value: string, visitor: string): void {
    const cell = this.#cell(grain, bucket, dim, value);
    (cell.visitors ??= new Set()).add(visitor);
  }

  /** Every (cell, visitor) noted in this batch. */
  seen(): SeenKey[] {
    const keys: SeenKey[] = [];
    for (const c of this.#cells) {
      if (!c.visitors) continue;
      for (const visitor of c.visitors)
        keys.push({ grain: c.grain, bucket: c.bucket, dim: c.dim, value: c.value, visitor });
    }
    return keys;
  }

  /** Counts one visitor in each cell of `fresh` (the seen keys the store had not recorded before). */
  countVisitors(fresh: readonly SeenKey[]): void {
    for (const s of fresh) this.add(s.grain, s.bucket, s.dim, s.value, { visitors: 1 });
  }

  /**
   * Counts every noted visitor as new: for a caller that holds all of a period's events in memory (the
   * benchmark's history generator), where nothing can have been seen before.
   */
  countAllVisitors(): void {
    for (const c of this.#cells) if (c.visitors) c.counters.visitors += c.visitors.size;
  }

  /** The non-zero deltas. */
  deltas(): RollupDelta[] {
    const out: RollupDelta[] = [];
    for (const { grain, bucket, dim, value, counters } of this.#cells) {
      if (Object.values(counters).some((v) => v !== 0)) out.push({ grain, bucket, dim, value, counters });
    }
    return out;
  }

  get size(): number {
    return this.#cells.length;
  }
}
