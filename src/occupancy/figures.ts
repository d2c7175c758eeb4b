import type { Correction, Delta, Segment } from './model.ts';
import { lastResetAtOrBefore, nextResetAtOrAfter, type DailyReset } from './reset.ts';
import type { OccupancyReader, Period } from './store/repositories.ts';
import { afterDelta, afterSegment, clampsWithin, minuteOf, type Tally } from './segment.ts';
import { BEGINNING, LEVELS, spansOf } from './spans.ts';

/** How the corrected figures are made and when a figure becomes final; from `occupancy.*` settings. */
export interface CountSettings {
  readonly neverNegative: boolean;
  readonly reset: DailyReset | undefined;
  /** A figure for a time later than now minus this may still change as late events arrive. */
  readonly provisionalWindowMs: number;
}

/**
 * Where a corrected count starts again: a daily reset (to 0) or an operator's headcount. From instant
 * `at` the corrected count is `value`, and only crossings at `origin` or later move it: a reset at R
 * has origin R (crossings at R count after it), a headcount at T origin T + 1 (it already counts the
 * crossings at T).
 */
export interface Anchor {
  readonly kind: 'reset' | 'correction';
  readonly at: number;
  readonly origin: number;
  readonly value: number;
}

/** The reset at R as an anchor. */
export const resetAnchor = (at: number): Anchor => ({ kind: 'reset', at, origin: at, value: 0 });
/** A headcount as an anchor. */
export const correctionAnchor = (c: Pick<Correction, 'at' | 'count'>): Anchor => ({
  kind: 'correction',
  at: c.at,
  origin: c.at + 1,
  value: c.count,
});

/** The later of two anchors (a headcount at a reset's instant wins: it already counts that instant). */
function later(a: Anchor | undefined, b: Anchor | undefined): Anchor | undefined {
  if (!a || !b) return a ?? b;
  return a.at !== b.at ? (a.at > b.at ? a : b) : a.origin >= b.origin ? a : b;
}

/** The spans a fold from an anchor to t reads: before its origin only totals, after it each row. */
function foldSpans(t: number, anchor: Anchor | undefined, neverNegative: boolean) {
  const origin = anchor?.origin ?? BEGINNING;
  const folded = neverNegative || anchor !== undefined;
  const before = spansOf(BEGINNING, origin, true);
  return { before: before.length, folded, spans: [...before, ...spansOf(origin, t, !folded)] };
}

/** Folds the steps of `foldSpans`: raw adds every net change, corrected starts from the anchor's value. */
function tallyOf(
  plan: ReturnType<typeof foldSpans>,
  answers: readonly number[][],
  anchor: Anchor | undefined,
  neverNegative: boolean,
): Tally {
  let raw = 0;
  let corrected = anchor?.value ?? 0;
  for (const [i, steps] of answers.entries()) {
    if (i < plan.before || !plan.folded) {
      raw += steps[0]!;
      continue;
    }
    for (let j = 0; j < steps.length; j += 2) {
      const net = steps[j]!;
      raw += net;
      corrected = neverNegative ? Math.max(corrected + net, net - steps[j + 1]!) : corrected + net;
    }
  }
  return { raw, corrected: plan.folded ? corrected : raw };
}

/**
 * The raw and corrected count of a space counting every event with ts < t. Raw is the plain sum of
 * every row before t. Corrected folds the rows after the last anchor before t (the daily reset or
 * the latest headcount, whichever is later; the beginning when neither), never dropping below zero
 * when `neverNegative` is set: a row with net n and lowest running sum m takes a count c to
 * max(c + n, n − m), and rows compose to rows of the same shape, so folding days, hours, minutes and
 * deltas gives what applying every delta one by one would.
 *
 * The reset is known without reading; the headcount is read with the rows from the reset and the
 * space's existence (on PostgreSQL, one statement), and only when it is the later anchor are the
 * rows read again from it.
 */
export async function countBefore(
  reader: OccupancyReader,
  tenant: string,
  space: string,
  t: number,
  settings: CountSettings,
): Promise<Tally> {
  return (await count(reader, tenant, space, t, settings)).tally;
}

/** `countBefore`, undefined when the space does not exist: the check rides in the same read. */
export async function countOfSpace(
  reader: OccupancyReader,
  tenant: string,
  space: string,
  t: number,
  settings: CountSettings,
): Promise<Tally | undefined> {
  const { exists, tally } = await count(reader, tenant, space, t, settings);
  return exists ? tally : undefined;
}

async function count(
  reader: OccupancyReader,
  tenant: string,
  space: string,
  t: number,
  settings: CountSettings,
): Promise<{ exists: boolean; tally: Tally }> {
  // A reset at R applies to the count at R and after: "before t" sees resets up to t − 1 ms.
  const reset = settings.reset && resetAnchor(lastResetAtOrBefore(t - 1, settings.reset));
  const first = foldSpans(t, reset, settings.neverNegative);
  const read = await reader.countRead(tenant, space, t, first.spans);
  const anchor = later(reset, read.correction && correctionAnchor(read.correction));
  if (anchor === reset)
    return { exists: read.exists, tally: tallyOf(first, read.steps, reset, settings.neverNegative) };
  const plan = foldSpans(t, anchor, settings.neverNegative);
  const steps = await reader.steps(tenant, space, plan.spans);
  return { exists: read.exists, tally: tallyOf(plan, steps, anchor, settings.neverNegative) };
}

/** One bucket of a time series. */
export interface Bucket {
  readonly start: number;
  readonly end: number;
  /** Count at the bucket's first instant, before its crossings. */
  readonly startCount: Tally;
  /** Count after its last crossing. */
  readonly endCount: Tally;
  /** Highest count at any moment of the bucket (the start included). */
  readonly peak: Tally;
  /** Time-weighted average count over the bucket. */
  readonly average: Tally;
  /** How long the corrected count was above the capacity (ms); null without a capacity. */
  readonly overCapacityMs: number | null;
  readonly entries: number;
  readonly exits: number;
  /** Events in the bucket that arrived late, so changed figures already reported. */
  readonly lateEvents: number;
  readonly provisional: boolean;
}

export const MAX_BUCKETS = 10_000;
/** At most this many headcounts inside one series' range are taken into account. */
export const MAX_CORRECTIONS = 10_000;

/** What a series read, so a test can check it is bounded by the answer rather than the range. */
export interface WalkMeter {
  /** Rows read (day, hour, minute rows and single deltas). */
  rows: number;
  /** Reset instants computed. */
  resets: number;
}

interface Range {
  readonly from: number;
  readonly to: number;
  readonly interval: number;
  readonly now: number;
  /** The space's capacity, for the time over it; null when it has none. */
  readonly capacity: number | null;
}

const SIZES: Readonly<Record<Period, number>> = Object.fromEntries(LEVELS) as Record<Period, number>;
const BELOW: Readonly<Record<Period, 'hour' | 'minute' | 'delta'>> = {
  day: 'hour',
  hour: 'minute',
  minute: 'delta',
};
/** Dry walks before the walk that answers: one per level below the buckets' is enough without anchors. */
const READ_AHEAD_ROUNDS = LEVELS.length;

/** What lies under a row: the rows of the level below it, or its deltas under a minute. */
type Below = [number, Segment][] | Delta[];

/**
 * Where a walk finds what lies under a row it cannot fold whole (`level`: the level below the row's;
 * `at`, `size`: the row's start and length). Undefined when a dry walk has not read it yet.
 */
interface Beneath {
  rows(level: 'hour' | 'minute', at: number, size: number): Promise<[number, Segment][] | undefined>;
  deltas(at: number, size: number): Promise<Delta[] | undefined>;
}

const belowKey = (level: Period | 'delta', at: number) => `${level}:${at}`;

/**
 * The time series of a space over [from, from + n·interval), where `from` is floored to the minute
 * and `interval` is a whole number of minutes. Reads the largest rows that both fit the buckets:
 * whole days when `from` and `interval` are whole UTC days, whole hours when they are whole hours,
 * minutes otherwise. A row is read at the next smaller level only where its summary cannot answer
 * exactly: an anchor (reset, headcount) falls inside it, the zero clamp engages inside it, or the
 * count crosses the capacity inside it. So the work is the rows that hold crossings plus the
 * buckets, never the length of the range.
 */
export async function series(
  reader: OccupancyReader,
  tenant: string,
  space: string,
  range: Range,
  settings: CountSettings,
  meter: WalkMeter = { rows: 0, resets: 0 },
): Promise<Bucket[]> {
  const from = minuteOf(range.from);
  const n = Math.max(1, Math.ceil((range.to - from) / range.interval));
  const end = from + n * range.interval;
  const [start, corrections] = await Promise.all([
    countBefore(reader, tenant, space, from, settings),
    reader.corrections({ tenant, space, from, to: end, limit: MAX_CORRECTIONS }),
  ]);
  const level = LEVELS.find(([, size]) => from % size === 0 && range.interval % size === 0)![0];
  const rows = await reader.segments(level, tenant, space, from, end);
  meter.rows += rows.length;
  const walkWith = (beneath: Beneath, walkMeter: WalkMeter) =>
    walkBuckets(
      new Walk(beneath, settings, range.capacity, start, from, corrections, walkMeter),
      level,
      rows,
      { from, end, interval: range.interval, now: range.now },
      settings,
    );
  // On a server database (reader.readsAhead) every read is a round trip, and a month of a room near zero can hold
  // hundreds of rows the walk must open. A dry walk over what has been read so far folds unread rows
  // whole (exact unless an anchor falls inside one) and notes them; each level is then read in one
  // statement, so the walk that answers reads from memory. Anything still unread is read on the way.
  const read = new Map<string, Below>();
  for (let round = 0; reader.readsAhead && round < READ_AHEAD_ROUNDS; round++) {
    const wanted = new Map<string, { level: Period | 'delta'; at: number; size: number }>();
    const note = (level: Period | 'delta', at: number, size: number) => {
      const got = read.get(belowKey(level, at));
      if (!got) wanted.set(belowKey(level, at), { level, at, size });
      return got;
    };
    await walkWith(
      {
        rows: (below, at, size) => Promise.resolve(note(below, at, size) as [number, Segment][] | undefined),
        deltas: (at, size) => Promise.resolve(note('delta', at, size) as Delta[] | undefined),
      },
      { rows: 0, resets: 0 },
    );
    if (wanted.size === 0) break;
    await readAhead(reader, tenant, space, [...wanted.values()], read, meter);
  }
  return walkWith(
    {
      async rows(below, at, size) {
        const got = read.get(belowKey(below, at));
        if (got) return got as [number, Segment][];
        const rows = await reader.segments(below, tenant, space, at, at + size);
        meter.rows += rows.length;
        return rows;
      },
      async deltas(at, size) {
        const got = read.get(belowKey('delta', at));
        if (got) return got as Delta[];
        const deltas = await reader.deltas(tenant, space, at, at + size);
        meter.rows += deltas.length;
        return deltas;
      },
    },
    meter,
  );
}

/** Reads what lies under the rows `wanted` names, one statement per level, into `read`. */
async function readAhead(
  reader: OccupancyReader,
  tenant: string,
  space: string,
  wanted: readonly { level: Period | 'delta'; at: number; size: number }[],
  read: Map<string, Below>,
  meter: WalkMeter,
): Promise<void> {
  for (const level of ['hour', 'minute', 'delta'] as const) {
    const under = wanted.filter((w) => w.level === level);
    if (under.length === 0) continue;
    const parents = under.map((w) => ({ space, at: w.at }));
    // Every row of a level has the same length; a delta range is a minute.
    const found =
      level === 'delta'
        ? await reader.deltasIn(tenant, parents)
        : await reader.rowsIn(level, tenant, parents, under[0]!.size);
    for (const [i, w] of under.entries()) {
      read.set(belowKey(level, w.at), found[i]!);
      meter.rows += found[i]!.length;
    }
  }
}

/** Walks `rows` of `level` bucket by bucket over [from, end). */
async function walkBuckets(
  walk: Walk,
  level: Period,
  rows: readonly [number, Segment][],
  range: { from: number; end: number; interval: number; now: number },
  settings: CountSettings,
): Promise<Bucket[]> {
  const buckets: Bucket[] = [];
  let r = 0;
  for (let bucket = range.from; bucket < range.end; bucket += range.interval) {
    const stop = bucket + range.interval;
    walk.begin(bucket);
    const startCount = walk.tally();
    while (r < rows.length && rows[r]![0] < stop) {
      const [at, segment] = rows[r]!;
      await walk.row(level, at, segment);
      r += 1;
    }
    const figures = walk.finish(stop);
    buckets.push({
      start: bucket,
      end: stop,
      startCount,
      ...figures,
      provisional: stop > range.now - settings.provisionalWindowMs,
    });
  }
  return buckets;
}

/**
 * The walk of a series through time: the raw and corrected counts, and per bucket their peaks,
 * integrals (for averages), time over capacity, entries, exits and late events. Between rows the
 * count holds still, so only rows and anchors move it.
 */
class Walk {
  readonly #beneath: Beneath;
  readonly #settings: CountSettings;
  readonly #capacity: number | null;
  readonly #meter: WalkMeter;
  /** Headcounts in the range, in time order, not yet reached. */
  readonly #corrections: Anchor[];
  /** The next reset at or after the walk's position (lazily sought: never stepped day by day). */
  #reset: number | undefined;
  #raw: number;
  #corrected: number;
  /** The time up to which integrals and time over capacity are accumulated. */
  #at: number;
  #peakRaw = 0;
  #peakCorrected = 0;
  #areaRaw = 0;
  #areaCorrected = 0;
  #over = 0;
  #bucketStart = 0;
  #entries = 0;
  #exits = 0;
  #late = 0;

  constructor(
    beneath: Beneath,
    settings: CountSettings,
    capacity: number | null,
    start: Tally,
    from: number,
    corrections: readonly Correction[],
    meter: WalkMeter,
  ) {
    this.#beneath = beneath;
    this.#settings = settings;
    this.#capacity = capacity;
    this.#meter = meter;
    this.#corrections = corrections.map(correctionAnchor);
    this.#raw = start.raw;
    this.#corrected = start.corrected;
    this.#at = from;
    this.#seekReset(from);
  }

  tally(): Tally {
    return { raw: this.#raw, corrected: this.#corrected };
  }

  /** Starts a bucket at `start`; anchors at its first instant apply before it. */
  begin(start: number): void {
    this.#move(start, true);
    this.#bucketStart = start;
    this.#peakRaw = this.#raw;
    this.#peakCorrected = this.#corrected;
    this.#areaRaw = 0;
    this.#areaCorrected = 0;
    this.#over = 0;
    this.#entries = 0;
    this.#exits = 0;
    this.#late = 0;
  }

  /** Ends the bucket at `stop` (anchors before it applied) and returns its figures. */
  finish(stop: number) {
    this.#move(stop, false);
    const span = stop - this.#bucketStart;
    return {
      endCount: this.tally(),
      peak: { raw: this.#peakRaw, corrected: this.#peakCorrected },
      average: { raw: this.#areaRaw / span, corrected: this.#areaCorrected / span },
      overCapacityMs: this.#capacity === null ? null : this.#over,
      entries: this.#entries,
      exits: this.#exits,
      lateEvents: this.#late,
    };
  }

  /**
   * A row of `level` starting at `at`: applied whole when its summary answers exactly, else read
   * below (a dry walk that has not read it yet applies it whole all the same).
   */
  async row(level: Period, at: number, segment: Segment): Promise<void> {
    const size = SIZES[level];
    this.#move(at, true);
    const c = this.#corrected;
    const capacity = this.#capacity;
    const whole =
      !this.#anchorWithin(at, at + size) &&
      !clampsWithin(c, segment, this.#settings.neverNegative) &&
      (capacity === null || c + segment.min > capacity || c + segment.max <= capacity);
    if (!whole) {
      const below = BELOW[level];
      if (below === 'delta') {
        const deltas = await this.#beneath.deltas(at, size);
        if (deltas) {
          for (const d of deltas) this.#delta(d.ts, d.delta, d.transfer === true, d.late);
          return;
        }
      } else {
        const rows = await this.#beneath.rows(below, at, size);
        if (rows) {
          for (const [start, s] of rows) await this.row(below, start, s);
          return;
        }
      }
    }
    this.#peakRaw = Math.max(this.#peakRaw, this.#raw + segment.max);
    this.#peakCorrected = Math.max(this.#peakCorrected, c + segment.max);
    this.#areaRaw += this.#raw * size + segment.area;
    this.#areaCorrected += c * size + segment.area;
    if (capacity !== null && c + segment.min > capacity) this.#over += size;
    this.#raw += segment.net;
    this.#corrected = afterSegment(c, segment, this.#settings.neverNegative);
    this.#at = at + size;
    this.#entries += segment.entries;
    this.#exits += segment.exits;
    this.#late += segment.late;
  }

  /** One delta (or transfer) at `ts`. */
  #delta(ts: number, delta: number, transfer: boolean, late: boolean): void {
    this.#move(ts, true);
    this.#raw += delta;
    this.#peakRaw = Math.max(this.#peakRaw, this.#raw);
    // A headcount at this very instant already counts it.
    if (this.#corrections[0]?.at !== ts) {
      this.#corrected = afterDelta(this.#corrected, delta, this.#settings.neverNegative);
      this.#peakCorrected = Math.max(this.#peakCorrected, this.#corrected);
    }
    if (transfer) return;
    if (delta > 0) this.#entries += 1;
    else this.#exits += 1;
    if (late) this.#late += 1;
  }

  /** True when an anchor falls inside [from, to) in a way the row's summary cannot fold. */
  #anchorWithin(from: number, to: number): boolean {
    const next = this.#corrections[0];
    if (next && next.at < to && next.origin > from) return true;
    return this.#reset !== undefined && this.#reset > from && this.#reset < to;
  }

  /**
   * Moves the walk to instant `t`, no crossing lying in between, applying the anchors due on the way
   * where they fall: headcounts before `t`, resets before it (or at it, when `resets` is set: a reset
   * at `t` comes before `t`'s crossings). The count holds still until each one, so the integrals and
   * the time over capacity are taken up to it first. Resets that follow one another with nothing
   * between all set the same zero: the walk seeks past them at once, never stepping day by day.
   */
  #move(t: number, resets: boolean): void {
    for (;;) {
      const correction = this.#corrections[0];
      const reset = this.#reset;
      const c = correction && correction.at < t ? correction : undefined;
      const r =
        reset !== undefined && (reset < t || (resets && reset === t)) ? resetAnchor(reset) : undefined;
      const anchor = c && r ? (c.at < r.at ? c : r) : (c ?? r);
      if (!anchor) break;
      this.#integrate(anchor.at);
      this.#corrected = anchor.value;
      this.#peakCorrected = Math.max(this.#peakCorrected, anchor.value);
      if (anchor === c) {
        this.#corrections.shift();
        continue;
      }
      const limit = this.#corrections[0] && this.#corrections[0].at < t ? this.#corrections[0].at : t;
      const last = this.#lastResetAtOrBefore(resets && limit === t ? limit : limit - 1);
      this.#seekReset(Math.max(anchor.at + 1, last));
    }
    this.#integrate(t);
  }

  /** Accumulates the integrals and the time over capacity from the walk's position to `t`. */
  #integrate(t: number): void {
    if (t <= this.#at) return;
    const span = t - this.#at;
    this.#areaRaw += this.#raw * span;
    this.#areaCorrected += this.#corrected * span;
    if (this.#capacity !== null && this.#corrected > this.#capacity) this.#over += span;
    this.#at = t;
  }

  #seekReset(t: number): void {
    const reset = this.#settings.reset;
    if (!reset) return;
    this.#meter.resets += 1;
    this.#reset = nextResetAtOrAfter(t, reset);
  }

  /** The last reset at or before `t` (for skipping resets that all set the same zero). */
  #lastResetAtOrBefore(t: number): number {
    const reset = this.#settings.reset!;
    this.#meter.resets += 1;
    return lastResetAtOrBefore(t, reset);
  }
}
