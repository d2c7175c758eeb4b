/**
 * Local wall-clock time in a site's time zone, as epoch-style milliseconds ("the UTC instant whose
 * digits read like the local time"). Rollups are bucketed on it, so days, weeks and months in the
 * site's zone are plain arithmetic, in SQL on any backend.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, number>();
const QUARTER_HOUR = 15 * 60_000;

/** Lengths of local wall-clock time, ms. */
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** True when `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Offset of `zone` from UTC at instant `ts`, in ms. Zones change offset only on quarter hours. */
function offsetAt(ts: number, zone: string): number {
  const slot = Math.floor(ts / QUARTER_HOUR);
  const key = `${zone}|${slot}`;
  const hit = offsets.get(key);
  if (hit !== undefined) return hit;
  const at = slot * QUARTER_HOUR;
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(at))
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
  );
  const offset = wall - at;
  if (offsets.size > 100_000) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

/** The local wall-clock reading of instant `ts` in `zone`. */
export function toLocal(ts: number, zone: string): number {
  return ts + offsetAt(ts, zone);
}

/** The instant at which `zone` reads `local` (the earlier one across a backward DST change). */
export function fromLocal(local: number, zone: string): number {
  const guess = local - offsetAt(local, zone);
  return local - offsetAt(guess, zone);
}

/** The start of the local hour holding `local`. */
export const startOfHour = (local: number) => Math.floor(local / HOUR) * HOUR;
/** The start of the local day holding `local`. */
export const startOfDay = (local: number) => Math.floor(local / DAY) * DAY;
/** Weeks start on Monday (ISO 8601); 1970-01-01 was a Thursday. */
export const startOfWeek = (local: number) => {
  const day = Math.floor(local / DAY);
  return (day - ((day + 3) % 7)) * DAY;
};
/** The start of the local month holding `local`. */
export const startOfMonth = (local: number) => {
  const d = new Date(local);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};

/** `2026-11-23`, `2026-11-23 14:00` or `2026-11-23 14:05` for a local bucket start. */
export function formatLocal(local: number, withTime: boolean): string {
  const iso = new Date(local).toISOString();
  return withTime ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso.slice(0, 10);
}
