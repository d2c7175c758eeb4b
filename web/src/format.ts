const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hourCycle: 'h23',
});
const day = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const count = new Intl.NumberFormat();
const rate = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** Local wall-clock time with milliseconds, prefixed by the date when it is not today. */
export function formatClock(time: number, now: number = Date.now()): string {
  const date = new Date(time);
  const today = new Date(now).toDateString() === date.toDateString();
  return today ? clock.format(date) : `${day.format(date)} ${clock.format(date)}`;
}

/** A date and time to the minute, for prose ("nothing before Nov 23, 2026, 12:00"). */
export function formatDateTime(time: number): string {
  return dateTime.format(new Date(time));
}

/**
 * The tail of a UUIDv7. Its head is a timestamp, the same for every message of the same minute;
 * the tail is random, so it tells messages apart at a glance.
 */
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(-8) : id;
}

export function formatCount(n: number): string {
  return count.format(n);
}

export function formatRate(perSecond: number): string {
  return rate.format(perSecond);
}

/** "1 message", "2 messages". */
export function plural(n: number, one: string, many: string = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}
