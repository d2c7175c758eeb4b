import { Temporal } from '@js-temporal/polyfill';
import { placementAt } from './counter.ts';
import { Hierarchy } from './hierarchy.ts';
import type { Doorway, OpenHours, Placement, Sensor } from './model.ts';
import { openTimeBetween } from './open-hours.ts';
import type { OccupancyReader } from './store/repositories.ts';

/** How sensor health and drift are judged; from `occupancy.*` settings. */
export interface HealthRules {
  /** A placed sensor with no event for this much open time is silent. */
  readonly silentAfterMs: number;
  /** Days and open hours are local to this IANA zone. */
  readonly timeZone: string;
  /** A day's in/out imbalance above this share of its larger side suggests a correction… */
  readonly driftRatio: number;
  /** …when it is also at least this many people. */
  readonly driftMinImbalance: number;
}

/** What a sensor's health is: sending, silent, or not placed on any doorway now. */
export type SensorStatus = 'ok' | 'silent' | 'unplaced';

/** One sensor's health now. */
export interface SensorHealth {
  readonly sensor: Sensor;
  /** The placement in force now, its doorway and the doorway's inner side (side a). */
  readonly placement: Placement | null;
  readonly doorway: Doorway | null;
  readonly space: string | null;
  readonly lastEventAt: number | null;
  readonly lastReceivedAt: number | null;
  /** Open time (of the space it watches) since its last event, or since its placement began; null unplaced. */
  readonly silentForMs: number | null;
  readonly status: SensorStatus;
}

/** The open hours a space keeps: its own, else the nearest ancestor's; null (always open) when none has. */
export function openHoursOf(tree: Hierarchy, space: string, t: number): readonly OpenHours[] | null {
  for (const id of tree.enclosing(space, t)) {
    const hours = tree.space(id)?.openHours;
    if (hours != null) return hours;
  }
  return null;
}

/** The health of these sensors at `now`: where each is placed, when it last sent, and whether it is silent. */
export async function sensorHealth(
  reader: OccupancyReader,
  tenant: string,
  sensors: readonly Sensor[],
  now: number,
  rules: HealthRules,
): Promise<SensorHealth[]> {
  const ids = sensors.map((s) => s.id);
  const [placements, last, spaces, moves] = await Promise.all([
    reader.placementsOf(tenant, ids),
    reader.lastEvents(tenant, ids),
    reader.allSpaces(tenant),
    reader.moves(tenant),
  ]);
  const tree = new Hierarchy(spaces, moves);
  const current = new Map<string, Placement>();
  for (const s of ids) {
    const p = placementAt(
      placements.filter((q) => q.sensor === s),
      now,
    );
    if (p) current.set(s, p);
  }
  const doorways = new Map(
    (await reader.doorwaysById(tenant, [...new Set([...current.values()].map((p) => p.doorway))])).map(
      (d) => [d.id, d],
    ),
  );
  return sensors.map((sensor) => {
    const placement = current.get(sensor.id) ?? null;
    const doorway = placement ? (doorways.get(placement.doorway) ?? null) : null;
    const seen = last.get(sensor.id);
    const base = {
      sensor,
      placement,
      doorway,
      space: doorway?.a ?? null,
      lastEventAt: seen?.ts ?? null,
      lastReceivedAt: seen?.receivedAt ?? null,
    };
    if (!placement || !doorway) return { ...base, silentForMs: null, status: 'unplaced' as const };
    const since = Math.max(placement.from, seen?.ts ?? -Infinity);
    const hours = openHoursOf(tree, doorway.a, now);
    // Counted up to the threshold and a little past it, so the figure reads as "at least".
    const silentForMs = openTimeBetween(hours, rules.timeZone, since, now, rules.silentAfterMs * 2);
    return {
      ...base,
      silentForMs,
      status: silentForMs >= rules.silentAfterMs ? ('silent' as const) : ('ok' as const),
    };
  });
}

/** One local day of a doorway: people in (onto side a) and out, and whether the imbalance looks like drift. */
export interface DoorwayDay {
  /** The local date, YYYY-MM-DD. */
  readonly day: string;
  readonly from: number;
  readonly to: number;
  readonly in: number;
  readonly out: number;
  /** True once the day is over; a day still running is never flagged. */
  readonly complete: boolean;
  readonly flagged: boolean;
}

/** The local days in `timeZone` from `count − 1` days before the day of `now`, up to and including it. */
export function localDays(
  timeZone: string,
  now: number,
  count: number,
): { day: string; from: number; to: number }[] {
  const today = Temporal.Instant.fromEpochMilliseconds(now).toZonedDateTimeISO(timeZone).toPlainDate();
  const out: { day: string; from: number; to: number }[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const date = today.subtract({ days: i });
    out.push({
      day: date.toString(),
      from: date.toZonedDateTime({ timeZone }).epochMilliseconds,
      to: date.add({ days: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds,
    });
  }
  return out;
}

/** True when a day's in/out imbalance is beyond the rules' threshold. */
export function drifts(inCount: number, outCount: number, rules: HealthRules): boolean {
  const imbalance = Math.abs(inCount - outCount);
  return imbalance >= rules.driftMinImbalance && imbalance > rules.driftRatio * Math.max(inCount, outCount);
}

/**
 * A doorway's people in and out per local day, from the per-sensor hourly counts of the placements
 * on it during each day (a +1 crossing goes in when the placement's positive side is a).
 */
export async function doorwayDays(
  reader: OccupancyReader,
  tenant: string,
  doorway: string,
  placements: readonly Placement[],
  days: readonly { day: string; from: number; to: number }[],
  now: number,
  rules: HealthRules,
): Promise<DoorwayDay[]> {
  const out: DoorwayDay[] = [];
  for (const day of days) {
    let inCount = 0;
    let outCount = 0;
    for (const p of placements) {
      if (p.doorway !== doorway) continue;
      const from = Math.max(day.from, p.from);
      const to = Math.min(day.to, p.to ?? Infinity);
      if (from >= to) continue;
      const { up, down } = await reader.directions(tenant, p, from, to);
      if (p.positive === 'a') {
        inCount += up;
        outCount += down;
      } else {
        inCount += down;
        outCount += up;
      }
    }
    const complete = day.to <= now;
    out.push({
      ...day,
      in: inCount,
      out: outCount,
      complete,
      flagged: complete && drifts(inCount, outCount, rules),
    });
  }
  return out;
}
