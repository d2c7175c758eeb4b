import type { Delta, Segment } from './model.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const minuteOf = (ts: number): number => Math.floor(ts / MINUTE_MS) * MINUTE_MS;
export const hourOf = (ts: number): number => Math.floor(ts / HOUR_MS) * HOUR_MS;
export const dayOf = (ts: number): number => Math.floor(ts / DAY_MS) * DAY_MS;

/** Summarizes deltas already in (ts, key) order. */
export function segmentOf(deltas: readonly Pick<Delta, 'delta' | 'late'>[]): Segment {
  let net = 0;
  let min = 0;
  let max = 0;
  let entries = 0;
  let exits = 0;
  let late = 0;
  for (const d of deltas) {
    net += d.delta;
    if (net < min) min = net;
    if (net > max) max = net;
    if (d.delta > 0) entries += 1;
    else exits += 1;
    if (d.late) late += 1;
  }
  return { net, min, max, entries, exits, late };
}

/** The segment of `a` followed by `b`. */
export function concat(a: Segment, b: Segment): Segment {
  return {
    net: a.net + b.net,
    min: Math.min(a.min, a.net + b.min),
    max: Math.max(a.max, a.net + b.max),
    entries: a.entries + b.entries,
    exits: a.exits + b.exits,
    late: a.late + b.late,
  };
}

/**
 * A running count: the raw sum of deltas, and the corrected figure that is never negative (when
 * `neverNegative` is on) and restarts from zero at each daily reset. Both are reported.
 */
export interface Tally {
  raw: number;
  corrected: number;
}

/**
 * The corrected count after a segment, starting from `corrected`. With clamping this is the
 * reflected walk: the count cannot drop below zero, so c' = max(c + net, net − min).
 */
export function afterSegment(corrected: number, segment: Segment, neverNegative: boolean): number {
  if (!neverNegative) return corrected + segment.net;
  return Math.max(corrected + segment.net, segment.net - segment.min);
}

/** True when the clamp engages inside the segment, so its corrected peak needs the single deltas. */
export function clampsWithin(corrected: number, segment: Segment, neverNegative: boolean): boolean {
  return neverNegative && corrected + segment.min < 0;
}

/** Applies one delta to a corrected count. */
export function afterDelta(corrected: number, delta: number, neverNegative: boolean): number {
  const next = corrected + delta;
  return neverNegative && next < 0 ? 0 : next;
}
