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

/** The latest reset instant at or before `t` (epoch ms). */
export function lastResetAtOrBefore(t: number, reset: DailyReset): number {
  const date = Temporal.Instant.fromEpochMilliseconds(t).toZonedDateTimeISO(reset.timeZone).toPlainDate();
  const today = resetOn(date, reset);
  return today <= t ? today : resetOn(date.subtract({ days: 1 }), reset);
}

/** The earliest reset instant at or after `t` (epoch ms). */
export function nextResetAtOrAfter(t: number, reset: DailyReset): number {
  const last = lastResetAtOrBefore(t, reset);
  if (last === t) return t;
  const date = Temporal.Instant.fromEpochMilliseconds(last).toZonedDateTimeISO(reset.timeZone).toPlainDate();
  return resetOn(date.add({ days: 1 }), reset);
}

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
