import type { Delta, Segment } from './model.ts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const minuteOf = (ts: number): number => Math.floor(ts / MINUTE_MS) * MINUTE_MS;
export const hourOf = (ts: number): number => Math.floor(ts / HOUR_MS) * HOUR_MS;
export const dayOf = (ts: number): number => Math.floor(ts / DAY_MS) * DAY_MS;

/** The segment of no deltas. */
export const EMPTY: Segment = { net: 0, min: 0, max: 0, entries: 0, exits: 0, late: 0, area: 0 };

/**
 * Summarizes deltas already in (ts, transfer first, key) order, over a period ending at `end` (the
 * area counts each delta from its time to the end). Transfers move the count but are neither
 * entries, exits nor late events.
 */
export function segmentOf(
  deltas: readonly Pick<Delta, 'delta' | 'late' | 'ts' | 'transfer'>[],
  end: number,
): Segment {
  let net = 0;
  let min = 0;
  let max = 0;
  let entries = 0;
  let exits = 0;
  let late = 0;
  let area = 0;
  for (const d of deltas) {
    net += d.delta;
    if (net < min) min = net;
    if (net > max) max = net;
    area += d.delta * (end - d.ts);
    if (d.transfer) continue;
    if (d.delta > 0) entries += 1;
    else exits += 1;
    if (d.late) late += 1;
  }
  return { net, min, max, entries, exits, late, area };
}

/**
 * The segment of `a` followed by `b`, where `b`'s period ends `gap` ms after `a`'s (0 when both
 * summarize deltas of one period, as when a minute's row is extended by later deltas of that minute).
 */
export function concat(a: Segment, b: Segment, gap: number): Segment {
  return {
    net: a.net + b.net,
    min: Math.min(a.min, a.net + b.min),
    max: Math.max(a.max, a.net + b.max),
    entries: a.entries + b.entries,
    exits: a.exits + b.exits,
    late: a.late + b.late,
    area: a.area + a.net * gap + b.area,
  };
}

/**
 * The segment of a period ending at `end`, from the rows of the next smaller period under it (each
 * `size` long, keyed by start, in time order); undefined when there are none.
 */
export function compose(
  rows: readonly (readonly [number, Segment])[],
  size: number,
  end: number,
): Segment | undefined {
  let out: Segment | undefined;
  let outEnd = 0;
  for (const [start, segment] of rows) {
    out = out ? concat(out, segment, start + size - outEnd) : segment;
    outEnd = start + size;
  }
  return out && { ...out, area: out.area + out.net * (end - outEnd) };
}

/**
 * A running count: the raw sum of deltas, and the corrected figure that is never negative (when
 * `neverNegative` is on) and restarts from each anchor (a daily reset, an operator's headcount).
 * Both are reported.
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

/** True when the clamp engages inside the segment, so its corrected walk needs the single deltas. */
export function clampsWithin(corrected: number, segment: Segment, neverNegative: boolean): boolean {
  return neverNegative && corrected + segment.min < 0;
}

/** Applies one delta to a corrected count. */
export function afterDelta(corrected: number, delta: number, neverNegative: boolean): number {
  const next = corrected + delta;
  return neverNegative && next < 0 ? 0 : next;
}

/**
 * Keys in the stores' order: by UTF-8 bytes (SQLite's BINARY, PostgreSQL's "C"), which is code point
 * order. JavaScript compares UTF-16 units, which puts a surrogate pair (U+10000 and up) before
 * U+E000–U+FFFF; that is the one place the two orders differ.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    return xs === ys ? x - y : xs ? 1 : -1;
  }
  return a.length - b.length;
}

/** The (ts, transfer first, key) order of every fold over deltas. */
export function byTsKey(
  a: Pick<Delta, 'ts' | 'key' | 'transfer'>,
  b: Pick<Delta, 'ts' | 'key' | 'transfer'>,
): number {
  return a.ts - b.ts || (a.transfer ? 0 : 1) - (b.transfer ? 0 : 1) || compareKeys(a.key, b.key);
}
