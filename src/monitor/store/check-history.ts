import { addToRollups, ROLLUP_MS } from '../rollup.ts';
import { stateOf, type CheckRow, type Rollup } from '../model.ts';
import { CheckColumns, decodeBlock, encodeBlock, encodeCheck, type SeriesKey } from './check-blocks.ts';
import type { CheckQuery, RollupQuery } from './repositories.ts';

/**
 * A target's check history as both backends keep it, written once over each backend's SQL:
 *
 * - **Hot rows**, one encoded check each ({@link encodeCheck}), until compaction.
 * - **Blocks**, a closed period of one series each ({@link encodeBlock}).
 * - **Legacy rows** of `monitor_checks`, the format before blocks, read until compaction has moved
 *   them into blocks.
 *
 * A check is in exactly one of them: an insert looks for its identity in the block of its period
 * (when its series has one), and compaction moves a period's rows and blocks into one block in one
 * transaction. Readers merge the three, so a listing pages across them without a gap or a repeat.
 */

/** One target's checks in one region: what hot rows and blocks are numbered by. */
export interface Series extends SeriesKey {
  readonly id: number;
  /** Where its newest block ends (epoch ms): only a check before it can be in a block. */
  readonly compactedUntil: number;
}

/** A hot row: one encoded check. */
export interface HotRow {
  readonly scheduledAt: number;
  readonly body: Uint8Array;
}

/**
 * Hot rows of a range as compaction reads them: their times, and their bodies in the same order back
 * to back (a body's format says where it ends), so a day of rows is one buffer and not a Buffer each.
 */
export interface HotRun {
  readonly at: readonly number[];
  readonly bodies: Uint8Array;
}

/** A block: a period [start, end) of one series. */
export interface Block {
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly checks: number;
  readonly data: Uint8Array;
}

/** Checks below a point, newest first: scheduledAt < `below` (≤ when `inclusive`), ≥ `from`. */
export interface Range {
  readonly below: number;
  readonly inclusive: boolean;
  readonly from: number;
}

/** What a backend's reader runs for check history (SQL only); {@link CheckHistory} does the rest. */
export interface HistoryReadSql {
  /** The series of one target, in region order. */
  series(tenant: string, target: string): Promise<Series[]>;
  /** Up to `limit` hot rows of a series in `range`, newest first. */
  hotRows(series: number, range: Range, limit: number): Promise<HotRow[]>;
  /** Up to `limit` blocks of a series starting before `range.below` and ending after `range.from`, newest first. */
  blocks(series: number, range: Range, limit: number): Promise<Block[]>;
  /** A page of legacy rows, exactly as listChecks answered before blocks. */
  legacyRows(query: CheckQuery): Promise<CheckRow[]>;
  /** Hot rows of a series in [from, to), oldest first. */
  hotBetween(series: number, from: number, to: number): Promise<HotRow[]>;
  /** Legacy rows of a series in [from, to), oldest first. */
  legacyBetween(series: SeriesKey, from: number, to: number): Promise<CheckRow[]>;
  /**
   * Legacy rows of a target, every region, in [from, to). A target's legacy rows may have no series
   * yet: compaction makes those before its first pass.
   */
  legacyOfTarget(tenant: string, target: string, from: number, to: number): Promise<CheckRow[]>;
  /** Series in id order after `afterId`. */
  seriesAfter(afterId: number, limit: number): Promise<Series[]>;
  /** The first and last time a series has checks at (last exclusive), or undefined when it has none. */
  span(series: Series): Promise<{ first: number; end: number } | undefined>;
  /** For each series of a tenant's existing targets, its newest hot row (if it has one). */
  newestHot(tenant: string): Promise<(HotRow & { series: Series })[]>;
  /**
   * The newest block of each series of a tenant's existing targets whose checks may all be in blocks:
   * it has blocks, and no hot row after its newest block's end (a target that stopped, say).
   */
  newestBlocks(tenant: string): Promise<(Block & { series: Series })[]>;
  /** The newest legacy check(s) of each of a tenant's existing targets (all regions at that time). */
  newestLegacy(tenant: string): Promise<CheckRow[]>;
}

/** A page's order: newest first, then region descending (byte order; regions are ASCII). */
const newestFirst = (a: CheckRow, b: CheckRow) =>
  b.scheduledAt - a.scheduledAt || (a.region < b.region ? 1 : a.region > b.region ? -1 : 0);

/**
 * Blocks decoded lately, kept for the next page of the same listing: paging through a day of checks
 * 100 at a time would otherwise decode its block 15 times. A hit is checked against the block's bytes,
 * so a block compaction rewrote is never answered from the cache. A decoded day is about 200 KB.
 */
class DecodedBlocks {
  readonly #entries = new Map<string, { data: Uint8Array; columns: CheckColumns }>();
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  get(series: number, block: Block): CheckColumns {
    const key = `${series}:${block.periodStart}`;
    const hit = this.#entries.get(key);
    if (hit && Buffer.compare(hit.data, block.data) === 0) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.columns;
    }
    const columns = decodeBlock(block.data);
    this.#entries.delete(key);
    this.#entries.set(key, { data: block.data, columns });
    if (this.#entries.size > this.#size) this.#entries.delete(this.#entries.keys().next().value!);
    return columns;
  }
}

/** The checks of a block that fall in `range`, newest first, at most `limit` of them. */
function blockChecks(columns: CheckColumns, series: SeriesKey, range: Range, limit = Infinity): CheckRow[] {
  const out: CheckRow[] = [];
  for (let k = columns.n - 1; k >= 0 && out.length < limit; k--) {
    const at = columns.at[k]!;
    if (at > range.below || (at === range.below && !range.inclusive)) continue;
    if (at < range.from) break;
    out.push(columns.check(k, series));
  }
  return out;
}

/** Reads check history over a backend's SQL: pages, the newest checks, minute rollups of blocks. */
export class CheckHistory {
  readonly #sql: HistoryReadSql;
  readonly #decoded = new DecodedBlocks(16);

  constructor(sql: HistoryReadSql) {
    this.#sql = sql;
  }

  #checksOf(series: Series, block: Block, range: Range, limit?: number): CheckRow[] {
    return blockChecks(this.#decoded.get(series.id, block), series, range, limit);
  }

  /** A target's checks, newest first, across hot rows, blocks and legacy rows. */
  async listChecks(query: CheckQuery): Promise<CheckRow[]> {
    const { limit, before } = query;
    const to = query.to ?? Infinity;
    const from = query.from ?? -Infinity;
    const all: CheckRow[] = await this.#sql.legacyRows(query);
    for (const series of await this.#sql.series(query.tenant, query.target)) {
      // The cursor is (scheduledAt, region): this series' own region says whether its time is in.
      let range: Range = { below: to, inclusive: false, from };
      if (before && before.scheduledAt <= to) {
        const inclusive = series.region < before.region && before.scheduledAt < to;
        range = { below: before.scheduledAt, inclusive, from };
      }
      const mine = await this.#seriesPage(series, range, limit);
      for (const check of mine) all.push(check);
    }
    return all.sort(newestFirst).slice(0, limit);
  }

  /** Up to `limit` newest checks of one series in `range`, from its hot rows and its blocks. */
  async #seriesPage(series: Series, range: Range, limit: number): Promise<CheckRow[]> {
    const out: CheckRow[] = [];
    const hot = await this.#sql.hotRows(series.id, range, limit);
    if (hot.length > 0) {
      const columns = new CheckColumns(hot.length);
      for (const row of hot) columns.pushBody(row.scheduledAt, row.body);
      for (const check of columns.checks(series)) out.push(check);
    }
    // Blocks, newest first, only while one can still hold one of the `limit` newest: one that ends
    // before the limit-th check found so far cannot.
    if (series.compactedUntil === 0) return out;
    let below = range;
    for (;;) {
      const blocks = await this.#sql.blocks(series.id, below, 4);
      for (const block of blocks) {
        if (out.length >= limit) {
          out.sort(newestFirst);
          if (block.periodEnd <= out[limit - 1]!.scheduledAt) return out.slice(0, limit);
        }
        for (const check of this.#checksOf(series, block, range, limit)) out.push(check);
      }
      if (blocks.length < 4) break;
      below = { ...range, below: blocks.at(-1)!.periodStart, inclusive: false };
    }
    return out.sort(newestFirst).slice(0, limit);
  }

  /** The newest check of each of a tenant's targets (all regions at that time), by target. */
  async latestChecks(tenant: string): Promise<CheckRow[]> {
    const newest = new Map<string, CheckRow[]>();
    const offer = (check: CheckRow) => {
      const held = newest.get(check.target);
      if (!held || held[0]!.scheduledAt < check.scheduledAt) newest.set(check.target, [check]);
      else if (held[0]!.scheduledAt === check.scheduledAt) held.push(check);
    };
    for (const row of await this.#sql.newestHot(tenant)) {
      const columns = new CheckColumns(1);
      columns.pushBody(row.scheduledAt, row.body);
      offer(columns.check(0, row.series));
    }
    // A series whose newest check is in a block (its target stopped, say): that block's last one.
    for (const block of await this.#sql.newestBlocks(tenant)) {
      const columns = decodeBlock(block.data);
      if (columns.n > 0) offer(columns.check(columns.n - 1, block.series));
    }
    for (const check of await this.#sql.newestLegacy(tenant)) offer(check);
    return [...newest.values()]
      .flat()
      .sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : a.region < b.region ? -1 : 1));
  }

  /** A series' checks in [from, to), oldest first, from every place they may be. */
  async seriesChecks(series: Series, from: number, to: number): Promise<CheckRow[]> {
    const out = await this.#sql.legacyBetween(series, from, to);
    for (const check of await this.#newerChecks(series, from, to)) out.push(check);
    return out.sort((a, b) => a.scheduledAt - b.scheduledAt);
  }

  /** A series' checks in [from, to) from its hot rows and its blocks, in no particular order. */
  async #newerChecks(series: Series, from: number, to: number): Promise<CheckRow[]> {
    const hot = await this.#sql.hotBetween(series.id, from, to);
    const columns = new CheckColumns(hot.length);
    for (const row of hot) columns.pushBody(row.scheduledAt, row.body);
    const out = columns.checks(series);
    if (series.compactedUntil <= from) return out;
    const range: Range = { below: to, inclusive: false, from };
    for (let below = range; ;) {
      const blocks = await this.#sql.blocks(series.id, below, 16);
      for (const block of blocks) for (const check of this.#checksOf(series, block, range)) out.push(check);
      if (blocks.length < 16) break;
      below = { ...range, below: blocks.at(-1)!.periodStart };
    }
    return out;
  }

  /** The first and last time a series has checks at (last exclusive), or undefined when it has none. */
  span(series: Series): Promise<{ first: number; end: number } | undefined> {
    return this.#sql.span(series);
  }

  seriesAfter(afterId: number, limit: number): Promise<Series[]> {
    return this.#sql.seriesAfter(afterId, limit);
  }

  /**
   * Minute rollups of a target that start in [from, to), summed from its checks wherever they are
   * (hot rows, blocks, legacy rows): the store keeps none (see `STORED_ROLLUP_SIZES`). Each bucket
   * holds all its checks, as a stored row did, and checks in maintenance count in none.
   */
  async minuteRollups(query: RollupQuery): Promise<Rollup[]> {
    const minute = ROLLUP_MS.minute;
    const from = Math.ceil(query.from / minute) * minute;
    const to = Math.ceil(query.to / minute) * minute;
    if (!(from < to)) return [];
    const checks = await this.#sql.legacyOfTarget(query.tenant, query.target, from, to);
    for (const series of await this.#sql.series(query.tenant, query.target))
      for (const check of await this.#newerChecks(series, from, to)) checks.push(check);
    // In slot order, as a sink keeping up adds a series' checks: a bucket sums its latencies alike.
    checks.sort((a, b) => a.scheduledAt - b.scheduledAt);
    const counted = checks.filter((c) => stateOf(c) !== 'maintenance');
    return addToRollups([], counted, ['minute']).sort(
      (a, b) => a.start - b.start || (a.region < b.region ? -1 : a.region > b.region ? 1 : 0),
    );
  }
}

/** What a backend's writer runs for check history inside a sink's transaction (SQL only). */
export interface HistoryWriteSql {
  /**
   * The series of these keys, made where missing. On PostgreSQL they are share-locked until commit,
   * so compaction of one of them (which locks it for update) waits, and is waited for.
   */
  seriesFor(keys: readonly SeriesKey[]): Promise<Series[]>;
  /** The block of a series whose period holds `at`, if there is one. */
  blockAt(series: number, at: number): Promise<Block | undefined>;
  /** True when the legacy table may hold rows (it is then asked about each check). */
  legacyNonEmpty(): Promise<boolean>;
  /** Which of these identities the legacy table holds, as indexes into `checks`. */
  inLegacy(checks: readonly CheckRow[]): Promise<Set<number>>;
  /** Inserts hot rows whose (series, scheduledAt) is new; returns the indexes of those inserted. */
  insertHot(rows: readonly (HotRow & { series: number })[]): Promise<Set<number>>;
}

const seriesId = (k: SeriesKey) => `${k.tenant}\u0000${k.target}\u0000${k.region}`;

/**
 * Stores the checks whose identity (tenant, target, region, scheduledAt) is new, in hot rows, and
 * returns them. The first of an identity in `rows` wins; a check whose identity is already a hot row,
 * a legacy row or in a block (a redundant prober's, a spool drained late) is not new.
 */
export async function insertChecks(sql: HistoryWriteSql, rows: readonly CheckRow[]): Promise<CheckRow[]> {
  if (rows.length === 0) return [];
  const firsts: CheckRow[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    const id = `${seriesId(row)}\u0000${row.scheduledAt}`;
    if (seen.has(id)) continue;
    seen.add(id);
    firsts.push(row);
  }
  const keys = [...new Map(firsts.map((r) => [seriesId(r), r])).values()];
  const series = new Map((await sql.seriesFor(keys)).map((s) => [seriesId(s), s]));
  const known = (await sql.legacyNonEmpty()) ? await sql.inLegacy(firsts) : new Set<number>();
  // A check from before its series' newest block may be in a block already: look in the block of its
  // period (each block read once per batch).
  const blocks = new Map<string, Set<number> | undefined>();
  const candidates: (HotRow & { series: number; index: number })[] = [];
  for (let i = 0; i < firsts.length; i++) {
    if (known.has(i)) continue;
    const check = firsts[i]!;
    const s = series.get(seriesId(check))!;
    if (check.scheduledAt < s.compactedUntil) {
      const block = await sql.blockAt(s.id, check.scheduledAt);
      if (block) {
        const id = `${s.id}\u0000${block.periodStart}`;
        if (!blocks.has(id)) blocks.set(id, new Set(decodeBlock(block.data).times()));
        if (blocks.get(id)!.has(check.scheduledAt)) continue;
      }
    }
    candidates.push({ series: s.id, scheduledAt: check.scheduledAt, body: encodeCheck(check), index: i });
  }
  const inserted = await sql.insertHot(candidates);
  return candidates.filter((_, k) => inserted.has(k)).map((c) => firsts[c.index]!);
}

/** One step of compaction: a range of a series to fold into one block. */
export interface CompactionStep {
  readonly series: number;
  readonly from: number;
  readonly to: number;
}

/** A range of a series and what replaces everything in it. */
export interface Replacement {
  readonly series: Series;
  readonly from: number;
  readonly to: number;
  readonly block: Block;
  /** The range held blocks (they are deleted). */
  readonly blocks: boolean;
}

/** What compaction runs on a batch of series (SQL only); {@link compactRanges} does the rest. */
export interface CompactionSql {
  /** These series (distinct ids), locked for update until the transaction ends (PostgreSQL). */
  lockSeries(ids: readonly number[]): Promise<Series[]>;
  /** Per range, the blocks of its series overlapping it, in period order. */
  blocksIn(ranges: readonly CompactionStep[]): Promise<Block[][]>;
  /** Per range, the hot rows of its series in it, oldest first. */
  hotIn(ranges: readonly CompactionStep[]): Promise<HotRun[]>;
  /** True when the legacy table may hold rows (then each range is looked up in it). */
  legacyNonEmpty(): Promise<boolean>;
  /** Legacy rows of a series in [from, to). */
  legacyIn(series: SeriesKey, from: number, to: number): Promise<CheckRow[]>;
  /**
   * Replaces everything of each series in its range (hot rows, legacy rows when `legacy`, blocks)
   * with one block, and moves the series' compacted_until to at least the range's end.
   */
  replaceRanges(replacements: readonly Replacement[], legacy: boolean): Promise<void>;
}

/** What one compaction step did. */
export interface Compacted {
  /** Checks in the new block (those it had before included). */
  readonly checks: number;
  /** Checks that were rows (hot or legacy) and are now in the block. */
  readonly moved: number;
  readonly bytes: number;
}

/**
 * Folds every check of each step's series in its range (widened to any block it overlaps) into one
 * block: its hot rows, legacy rows and blocks; a few statements for the whole batch, not a few per
 * step. Nothing happens to a range that holds nothing, or exactly one block of that range (its
 * answer is then undefined). The steps' series must be distinct.
 */
export async function compactRanges(
  sql: CompactionSql,
  steps: readonly CompactionStep[],
): Promise<(Compacted | undefined)[]> {
  const out = new Array<Compacted | undefined>(steps.length).fill(undefined);
  if (steps.length === 0) return out;
  const series = new Map((await sql.lockSeries(steps.map((s) => s.series))).map((s) => [s.id, s]));
  const present = steps.filter((s) => series.has(s.series));
  // Only a series whose blocks end after a range's start can have one overlapping it: an hour after
  // the last hour block, say, has none, and is not looked up.
  const looked = present.filter((s) => series.get(s.series)!.compactedUntil > s.from);
  const found = await sql.blocksIn(looked);
  const byStep = new Map(looked.map((s, i) => [s, found[i]!]));
  const blocks = present.map((s) => byStep.get(s) ?? []);
  const ranges = present.map((step, i) => {
    let { from, to } = step;
    for (const b of blocks[i]!) {
      from = Math.min(from, b.periodStart);
      to = Math.max(to, b.periodEnd);
    }
    return { ...step, from, to };
  });
  const hot = await sql.hotIn(ranges);
  const legacy = await sql.legacyNonEmpty();
  const replacements: Replacement[] = [];
  const done = new Map<number, Compacted>();
  for (let i = 0; i < ranges.length; i++) {
    const { from, to } = ranges[i]!;
    const s = series.get(ranges[i]!.series)!;
    const old = blocks[i]!;
    const run = hot[i]!;
    const rows = legacy ? await sql.legacyIn(s, from, to) : [];
    const whole = old.length === 1 && old[0]!.periodStart === from && old[0]!.periodEnd === to;
    const moved = run.at.length + rows.length;
    if (moved === 0 && (old.length === 0 || whole)) continue;
    let columns = new CheckColumns(old.reduce((n, b) => n + b.checks, moved));
    for (const block of old) columns.append(decodeBlock(block.data));
    columns.pushBodies(run.at, run.bodies);
    for (const check of rows) columns.push(check);
    columns = columns.normalized();
    const data = encodeBlock(columns);
    const checks = columns.n;
    replacements.push({
      series: s,
      from,
      to,
      block: { periodStart: from, periodEnd: to, checks, data },
      blocks: old.length > 0,
    });
    done.set(s.id, { checks, moved, bytes: data.length });
  }
  await sql.replaceRanges(replacements, legacy);
  steps.forEach((step, i) => (out[i] = done.get(step.series)));
  return out;
}
