import type { Level, OccupancyReader, Span } from './store/repositories.ts';
import { lastResetAtOrBefore, resetsBetween, type DailyReset } from './reset.ts';
import {
  afterDelta,
  afterSegment,
  clampsWithin,
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  minuteOf,
  type Tally,
} from './segment.ts';

/** How the corrected figures are made and when a figure becomes final; from `occupancy.*` settings. */
export interface CountSettings {
  readonly neverNegative: boolean;
  readonly reset: DailyReset | undefined;
  /** A figure for a time later than now minus this may still change as late events arrive. */
  readonly provisionalWindowMs: number;
}

/** Before any data: the origin of raw counts, and of corrected ones when no reset is set. */
const BEGINNING = -8.64e15;
/** Row levels from the largest; each period is a whole number of the next one's. */
const LEVELS: readonly (readonly [Level, number])[] = [
  ['day', DAY_MS],
  ['hour', HOUR_MS],
  ['minute', MINUTE_MS],
];

/**
 * [from, to) as the fewest rows, in time order: whole UTC days, then whole hours and whole minutes at
 * either end, then single deltas. At most 7 spans; besides the days, each covers less than two of the
 * next larger period (for a count, whose origin is a minute, under a day of hours, an hour of minutes
 * and a minute of deltas on each side).
 */
export function spansOf(from: number, to: number, total: boolean, level = 0): Span[] {
  if (from >= to) return [];
  const entry = LEVELS[level];
  if (!entry) return [{ level: 'delta', from, to, total }];
  const [name, size] = entry;
  const first = Math.ceil(from / size) * size;
  const last = Math.floor(to / size) * size;
  if (first >= last) return spansOf(from, to, total, level + 1);
  return [
    ...spansOf(from, first, total, level + 1),
    { level: name, from: first, to: last, total },
    ...spansOf(last, to, total, level + 1),
  ];
}

/**
 * The raw and corrected count of a space counting every event with ts < t. Raw is the plain sum of
 * every row before t. Corrected folds the rows from the last daily reset (or the beginning), never
 * dropping below zero when `neverNegative` is set: a row with net n and lowest running sum m takes a
 * count c to max(c + n, n − m), and rows compose to rows of the same shape, so folding days, hours,
 * minutes and deltas gives what applying every delta one by one would.
 */
export async function countBefore(
  reader: OccupancyReader,
  tenant: string,
  space: string,
  t: number,
  settings: CountSettings,
): Promise<Tally> {
  // A reset at R applies to the count at R and after: "before t" sees resets up to t − 1 ms.
  const origin = settings.reset ? lastResetAtOrBefore(t - 1, settings.reset) : BEGINNING;
  const folded = settings.neverNegative || origin !== BEGINNING;
  // Before the origin only the raw total matters; after it, each row when it is folded.
  const before = spansOf(BEGINNING, origin, true);
  const after = spansOf(origin, t, !folded);
  const answers = await reader.steps(tenant, space, [...before, ...after]);
  let raw = 0;
  let corrected = 0;
  for (const [i, steps] of answers.entries()) {
    if (i < before.length || !folded) {
      raw += steps[0]!;
      continue;
    }
    for (let j = 0; j < steps.length; j += 2) {
      const net = steps[j]!;
      raw += net;
      corrected = settings.neverNegative ? Math.max(corrected + net, net - steps[j + 1]!) : corrected + net;
    }
  }
  return { raw, corrected: folded ? corrected : raw };
}

/** One bucket of a time series. */
export interface Bucket {
  readonly start: number;
  readonly end: number;
  /** Count before the bucket's first event. */
  readonly startCount: Tally;
  /** Count after its last event. */
  readonly endCount: Tally;
  /** Highest count at any moment of the bucket (the start included). */
  readonly peak: Tally;
  readonly entries: number;
  readonly exits: number;
  /** Events in the bucket that arrived late, so changed figures already reported. */
  readonly lateEvents: number;
  readonly provisional: boolean;
}

export const MAX_BUCKETS = 10_000;

/**
 * The time series of a space over [from, from + n·interval), where `from` is floored to the minute
 * and `interval` is a whole number of minutes. Walks minute segments once; only a minute in which
 * the zero clamp engages is read event by event, so that its corrected peak is exact.
 */
export async function series(
  reader: OccupancyReader,
  tenant: string,
  space: string,
  range: { readonly from: number; readonly to: number; readonly interval: number; readonly now: number },
  settings: CountSettings,
): Promise<Bucket[]> {
  const from = minuteOf(range.from);
  const n = Math.max(1, Math.ceil((range.to - from) / range.interval));
  const end = from + n * range.interval;
  const tally = await countBefore(reader, tenant, space, from, settings);
  let { raw, corrected } = tally;
  const minutes = await reader.minutes(tenant, space, from, end);
  const resets = settings.reset ? resetsBetween(from - 1, end - 1, settings.reset) : [];
  let m = 0;
  let r = 0;
  const buckets: Bucket[] = [];
  for (let start = from; start < end; start += range.interval) {
    const stop = start + range.interval;
    while (r < resets.length && resets[r]! <= start) {
      corrected = 0;
      r += 1;
    }
    const startCount = { raw, corrected };
    let peakRaw = raw;
    let peakCorrected = corrected;
    let entries = 0;
    let exits = 0;
    let late = 0;
    while (m < minutes.length && minutes[m]![0] < stop) {
      const [minute, segment] = minutes[m]!;
      while (r < resets.length && resets[r]! <= minute) {
        corrected = 0;
        peakCorrected = Math.max(peakCorrected, 0);
        r += 1;
      }
      peakRaw = Math.max(peakRaw, raw + segment.max);
      raw += segment.net;
      if (clampsWithin(corrected, segment, settings.neverNegative)) {
        for (const d of await reader.deltas(tenant, space, minute, minute + MINUTE_MS)) {
          corrected = afterDelta(corrected, d.delta, settings.neverNegative);
          peakCorrected = Math.max(peakCorrected, corrected);
        }
      } else {
        peakCorrected = Math.max(peakCorrected, corrected + segment.max);
        corrected = afterSegment(corrected, segment, settings.neverNegative);
      }
      entries += segment.entries;
      exits += segment.exits;
      late += segment.late;
      m += 1;
    }
    while (r < resets.length && resets[r]! < stop) {
      corrected = 0;
      peakCorrected = Math.max(peakCorrected, 0);
      r += 1;
    }
    buckets.push({
      start,
      end: stop,
      startCount,
      endCount: { raw, corrected },
      peak: { raw: peakRaw, corrected: peakCorrected },
      entries,
      exits,
      lateEvents: late,
      provisional: stop > range.now - settings.provisionalWindowMs,
    });
  }
  return buckets;
}
