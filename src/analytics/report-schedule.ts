/**
 * When a scheduled report is due and what period it covers, in the site's zone: weekly reports cover
 * Monday to Sunday and are due when Monday begins; monthly ones cover a calendar month and are due
 * when the next one begins.
 */
import type { ReportFrequency } from './model.ts';
import { DAY, formatLocal, fromLocal, startOfMonth, startOfWeek, toLocal } from './time-zone.ts';

/** The start of the local month after the one holding `local`. */
const nextMonth = (local: number) => {
  const d = new Date(local);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

/** The instant the first period ending after `now` ends: when that report is due. */
export function nextDue(frequency: ReportFrequency, zone: string, now: number): number {
  const local = toLocal(now, zone);
  const end = frequency === 'weekly' ? startOfWeek(local) + 7 * DAY : nextMonth(local);
  return fromLocal(end, zone);
}

/** The period a report due at `due` covers: local [from, to) and its label (`2026-11-23/2026-11-29`). */
export function periodEndingAt(
  frequency: ReportFrequency,
  zone: string,
  due: number,
): { from: number; to: number; label: string } {
  // A minute before the due instant is inside the period, whatever the zone did to midnight.
  const inside = toLocal(due - 60_000, zone);
  const from = frequency === 'weekly' ? startOfWeek(inside) : startOfMonth(inside);
  const to = frequency === 'weekly' ? from + 7 * DAY : nextMonth(inside);
  return { from, to, label: `${formatLocal(from, false)}/${formatLocal(to - 1, false)}` };
}
