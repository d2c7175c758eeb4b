import { Temporal } from '@js-temporal/polyfill';

/** When counts restart from zero: a local wall-clock time in an IANA time zone, every day. */
export interface DailyReset {
  readonly hour: number;
  readonly minute: number;
  readonly timeZone: string;
}

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/**
 * Parses `HH:MM` and a time zone; an empty time means no daily reset. Throws with a message naming
 * what is wrong, for configuration validation.
 */
export function parseDailyReset(time: string, timeZone: string): DailyReset | undefined {
  if (time === '') return undefined;
  const match = TIME.exec(time);
  if (!match) throw new Error(`occupancy.resetTime must be HH:MM (24 h) or empty, got ${time}`);
  try {
    Temporal.Now.instant().toZonedDateTimeISO(timeZone);
  } catch {
    throw new Error(`occupancy.timeZone is not an IANA time zone: ${timeZone}`);
  }
  return { hour: Number(match[1]), minute: Number(match[2]), timeZone };
}

/** The reset instant on the local calendar day of `zdt`; a time skipped by DST moves later. */
function resetOn(date: Temporal.PlainDate, reset: DailyReset): number {
  return date
    .toZonedDateTime({
      timeZone: reset.timeZone,
      plainTime: new Temporal.PlainTime(reset.hour, reset.minute),
    })
    .toInstant().epochMilliseconds;
}

const DAY_MS = 86_400_000;

/**
 * Each UTC day's reset instants (none, or one; two at most where a zone's offset jumps by a day),
 * per reset setting, as Temporal computed them. The polyfill's time-zone arithmetic cost about
 * 0.1 ms and a few KB of garbage per call, and every `count?at=T` asked for a reset (issue 18);
 * a setting's days are cached, at most MAX_CACHED_DAYS of them (about 11 years), then the cache
 * of that setting starts again.
 */
const cached = new Map<string, Map<number, readonly number[]>>();
const MAX_CACHED_DAYS = 4096;

function resetsOnUtcDay(day: number, reset: DailyReset): readonly number[] {
  const key = `${reset.hour}:${reset.minute} ${reset.timeZone}`;
  let days = cached.get(key);
  if (days === undefined) cached.set(key, (days = new Map<number, readonly number[]>()));
  let resets = days.get(day);
  if (resets === undefined) {
    if (days.size >= MAX_CACHED_DAYS) days.clear();
    resets = resetsBetween(day * DAY_MS - 1, (day + 1) * DAY_MS - 1, reset);
    days.set(day, resets);
  }
  return resets;
}

/** The latest reset instant at or before `t` (epoch ms). */
export function lastResetAtOrBefore(t: number, reset: DailyReset): number {
  // A local day is 23-25 hours long (48 where a zone skipped a day), so a few UTC days back have it.
  const day = Math.floor(t / DAY_MS);
  for (let d = day; d >= day - SEARCH_DAYS; d--) {
    const resets = resetsOnUtcDay(d, reset);
    for (let i = resets.length - 1; i >= 0; i--) if (resets[i]! <= t) return resets[i]!;
  }
  throw new Error(`no daily reset within ${SEARCH_DAYS} days before ${t}`);
}

/** The earliest reset instant at or after `t` (epoch ms). */
export function nextResetAtOrAfter(t: number, reset: DailyReset): number {
  const day = Math.floor(t / DAY_MS);
  for (let d = day; d <= day + SEARCH_DAYS; d++) {
    for (const at of resetsOnUtcDay(d, reset)) if (at >= t) return at;
  }
  throw new Error(`no daily reset within ${SEARCH_DAYS} days after ${t}`);
}

/** How many UTC days a search for a reset goes through, beyond the day it starts on. */
const SEARCH_DAYS = 3;

/** Every reset instant in (from, to], in order. */
export function resetsBetween(from: number, to: number, reset: DailyReset): number[] {
  const out: number[] = [];
  let date = Temporal.Instant.fromEpochMilliseconds(from).toZonedDateTimeISO(reset.timeZone).toPlainDate();
  for (;;) {
    const at = resetOn(date, reset);
    if (at > to) return out;
    if (at > from) out.push(at);
    date = date.add({ days: 1 });
  }
}
