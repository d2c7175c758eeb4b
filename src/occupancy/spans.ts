import type { Span, Level } from './store/repositories.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './segment.ts';

/** Before any data: the origin of raw counts, and of corrected ones when no anchor precedes. */
export const BEGINNING = -8.64e15;

/** Row levels from the largest, with their period; each period is a whole number of the next one's. */
export const LEVELS: readonly (readonly [Exclude<Level, 'delta'>, number])[] = [
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
