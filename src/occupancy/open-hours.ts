import { Temporal } from '@js-temporal/polyfill';
import type { OpenHours, Weekday } from './model.ts';

/** Weekdays in ISO order (Temporal's dayOfWeek 1 is Monday). */
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after local midnight of `HH:MM`. */
function minutesOf(time: string): number {
  const match = TIME.exec(time);
  if (!match) throw new Error(`not a time of day (HH:MM): ${time}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Why open hours are not valid, or undefined when they are. */
export function openHoursProblem(hours: readonly OpenHours[]): string | undefined {
  for (const h of hours) {
    if (h.days.length === 0) return 'open hours need at least one day';
    if (!TIME.test(h.from) || !TIME.test(h.to)) return `open hours are HH:MM, got ${h.from}-${h.to}`;
    if (h.from === h.to) return `open hours ${h.from}-${h.to} are empty`;
  }
  return undefined;
}

/** At most this many local days are walked; a sensor silent that long is silent whatever the hours. */
const MAX_DAYS = 400;

/**
 * How long a space was open in [from, to), in ms, counting at most `cap` (the walk stops there).
 * Hours are local wall-clock times in `timeZone`, day by day (across daylight-saving changes an
 * opening keeps its wall-clock times); an opening whose `to` is not after its `from` runs past
 * midnight into the next day. Null hours mean always open.
 */
export function openTimeBetween(
  hours: readonly OpenHours[] | null,
  timeZone: string,
  from: number,
  to: number,
  cap: number,
): number {
  if (to <= from) return 0;
  if (hours === null) return Math.min(cap, to - from);
  if (hours.length === 0) return 0;
  // Start the day before: an opening past midnight may reach into `from`'s day.
  let date = Temporal.Instant.fromEpochMilliseconds(from)
    .toZonedDateTimeISO(timeZone)
    .toPlainDate()
    .subtract({ days: 1 });
  let open = 0;
  for (let days = 0; days < MAX_DAYS; days++, date = date.add({ days: 1 })) {
    const midnight = date.toZonedDateTime({ timeZone }).epochMilliseconds;
    if (midnight >= to) break;
    const weekday = WEEKDAYS[date.dayOfWeek - 1]!;
    for (const h of hours) {
      if (!h.days.includes(weekday)) continue;
      const start = at(date, minutesOf(h.from), timeZone);
      const endMinutes = minutesOf(h.to);
      const end =
        endMinutes > minutesOf(h.from)
          ? at(date, endMinutes, timeZone)
          : at(date.add({ days: 1 }), endMinutes, timeZone);
      open += Math.max(0, Math.min(end, to) - Math.max(start, from));
      if (open >= cap) return cap;
    }
  }
  return Math.min(open, cap);
}

/** The instant of `minutes` after local midnight on `date` (a time skipped by DST moves later). */
function at(date: Temporal.PlainDate, minutes: number, timeZone: string): number {
  return date.toZonedDateTime({
    timeZone,
    plainTime: new Temporal.PlainTime(Math.floor(minutes / 60), minutes % 60),
  }).epochMilliseconds;
}

/** Whether a space with these hours is open at instant `t`. */
export function isOpenAt(hours: readonly OpenHours[] | null, timeZone: string, t: number): boolean {
  return openTimeBetween(hours, timeZone, t, t + 1, 1) > 0;
}
