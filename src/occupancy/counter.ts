import type { Delta, Doorway, Placement, Segment, SensorEvent, Space } from './model.ts';
import type { MinuteRow, OccupancyWriter } from './store/repositories.ts';
import { concat, DAY_MS, dayOf, HOUR_MS, hourOf, MINUTE_MS, minuteOf, segmentOf } from './segment.ts';

/** The segment of consecutive rows; undefined when there are none. */
function composed(rows: readonly (readonly [number, Segment])[]): Segment | undefined {
  let out: Segment | undefined;
  for (const [, segment] of rows) out = out ? concat(out, segment) : segment;
  return out;
}

/** The (ts, key) order every fold over deltas uses. */
const byTsKey = (a: { ts: number; key: string }, b: { ts: number; key: string }): number =>
  a.ts - b.ts || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The spaces a person is in when inside `space`: itself and every ancestor (the roll-up). */
export function enclosing(space: string | null, spaces: ReadonlyMap<string, Space>): string[] {
  const chain: string[] = [];
  for (let id = space; id !== null && !chain.includes(id); id = spaces.get(id)?.parent ?? null) {
    chain.push(id);
  }
  return chain;
}

/**
 * The count changes of one crossing from space `from` to space `to` (null is the outside): +1 for
 * every space entered, −1 for every space left. A space that encloses both sides does not change.
 */
export function crossing(
  from: string | null,
  to: string | null,
  spaces: ReadonlyMap<string, Space>,
): { space: string; delta: 1 | -1 }[] {
  const left = enclosing(from, spaces);
  const entered = enclosing(to, spaces);
  return [
    ...entered.filter((s) => !left.includes(s)).map((space) => ({ space, delta: 1 as const })),
    ...left.filter((s) => !entered.includes(s)).map((space) => ({ space, delta: -1 as const })),
  ];
}

/** The placement of `sensor` in force at `ts`, if any ([from, to) intervals never overlap). */
export function placementAt(placements: readonly Placement[], ts: number): Placement | undefined {
  return placements.find((p) => p.from <= ts && (p.to === null || ts < p.to));
}

/** The deltas an event makes under a placement on a doorway. */
export function deltasOf(
  event: SensorEvent,
  placement: Placement,
  doorway: Doorway,
  spaces: ReadonlyMap<string, Space>,
): Delta[] {
  const positive = placement.positive === 'a' ? doorway.a : doorway.b;
  const negative = placement.positive === 'a' ? doorway.b : doorway.a;
  const [from, to] = event.direction === 1 ? [negative, positive] : [positive, negative];
  return crossing(from, to, spaces).map((c) => ({
    space: c.space,
    delta: c.delta,
    ts: event.ts,
    key: event.key,
    late: event.late,
  }));
}

/**
 * Applies events to one tenant's counts inside a store transaction. Counts are sums of deltas, kept
 * as minute, hour and day segments, so an event at any time, however late, corrects every figure
 * after it by rewriting one minute, and composing its hour and day again, for each space it touches.
 */
export class Counter {
  readonly #tx: OccupancyWriter;
  readonly #tenant: string;
  #spaces: Map<string, Space> | undefined;
  readonly #doorways = new Map<string, Doorway | undefined>();
  readonly #placements = new Map<string, Placement[]>();
  /**
   * Every minute whose deltas changed, by "space\0minute": the deltas added to it, and whether any
   * were removed (then the minute is summed again from its stored deltas).
   */
  readonly #dirty = new Map<string, { added: Delta[]; removed: boolean }>();
  /** Spaces whose count changed, for the live push. */
  readonly touched = new Set<string>();

  constructor(tx: OccupancyWriter, tenant: string) {
    this.#tx = tx;
    this.#tenant = tenant;
  }

  /** Stores new events and counts those a placement covers; returns how many were new. */
  async add(events: readonly SensorEvent[]): Promise<number> {
    await this.#loadPlacements([...new Set(events.map((e) => e.sensor))]);
    // Each event is stored with the placement it counts against, so it is written once.
    const placed: SensorEvent[] = [];
    for (const event of events)
      placed.push({ ...event, placement: (await this.#placementOf(event))?.id ?? null });
    const fresh = await this.#tx.insertEvents(this.#tenant, placed);
    for (const event of fresh) await this.#count(event);
    return fresh.length;
  }

  /**
   * Counts a sensor's events in [from, to) again under the placements now stored: after a placement
   * is added, moved or removed. Events that lose their placement become unplaced, and the reverse.
   */
  async recount(sensor: string, from: number, to: number | null): Promise<number> {
    this.#placements.delete(sensor);
    await this.#loadPlacements([sensor]);
    const events = await this.#tx.eventsOf(this.#tenant, sensor, from, to);
    for (const event of events) {
      for (const d of await this.#tx.takeDeltas(this.#tenant, event.key)) this.#mark(d, true);
      await this.#count(event);
    }
    return events.length;
  }

  /** The placement an event counts against: in force at its time, on a doorway that exists. */
  async #placementOf(event: SensorEvent): Promise<(Placement & { side: Doorway }) | undefined> {
    const placement = placementAt(this.#placements.get(event.sensor) ?? [], event.ts);
    const doorway = placement && (await this.#doorway(placement.doorway));
    return placement && doorway && { ...placement, side: doorway };
  }

  async #count(event: SensorEvent): Promise<void> {
    const placement = await this.#placementOf(event);
    const counted = placement?.id ?? null;
    if (counted !== event.placement) await this.#tx.setPlacementOf(this.#tenant, event.key, counted);
    if (!placement) return;
    const deltas = deltasOf(event, placement, placement.side, await this.#spaceMap());
    await this.#tx.insertDeltas(this.#tenant, deltas);
    for (const d of deltas) this.#mark(d, false);
  }

  #mark(delta: Delta, removed: boolean): void {
    const id = `${delta.space}\0${minuteOf(delta.ts)}`;
    let entry = this.#dirty.get(id);
    if (!entry) this.#dirty.set(id, (entry = { added: [], removed: false }));
    if (removed) entry.removed = true;
    else entry.added.push(delta);
    this.touched.add(delta.space);
  }

  /**
   * Rewrites every changed minute, then composes the hours and days they lie in again. Deltas that all
   * follow the minute's last one (events arriving in order) extend its row; anything else sums the
   * minute again. An hour is composed from its (at most 60) minutes and a day from its (24) hours, so
   * every row stays exactly the segment of the deltas under it, however late an event arrived.
   */
  async flush(): Promise<void> {
    const hours = new Set<string>();
    for (const [entry, change] of this.#dirty) {
      const [space, at] = entry.split('\0') as [string, string];
      const minute = Number(at);
      const before = await this.#tx.minute(this.#tenant, space, minute);
      const added = change.added.sort(byTsKey);
      const first = added[0];
      let after: MinuteRow | undefined;
      if (
        !change.removed &&
        first &&
        (!before || byTsKey({ ts: before.lastTs, key: before.lastKey }, first) < 0)
      ) {
        const last = added.at(-1)!;
        const tail = segmentOf(added);
        after = { ...(before ? concat(before, tail) : tail), lastTs: last.ts, lastKey: last.key };
      } else {
        const deltas = await this.#tx.deltas(this.#tenant, space, minute, minute + MINUTE_MS);
        const last = deltas.at(-1);
        after = last && { ...segmentOf(deltas), lastTs: last.ts, lastKey: last.key };
      }
      await this.#tx.putMinute(this.#tenant, space, minute, after);
      hours.add(`${space}\0${hourOf(minute)}`);
    }
    this.#dirty.clear();
    const days = new Set<string>();
    for (const entry of hours) {
      const [space, at] = entry.split('\0') as [string, string];
      const hour = Number(at);
      const minutes = await this.#tx.minutes(this.#tenant, space, hour, hour + HOUR_MS);
      await this.#tx.putHour(this.#tenant, space, hour, composed(minutes));
      days.add(`${space}\0${dayOf(hour)}`);
    }
    for (const entry of days) {
      const [space, at] = entry.split('\0') as [string, string];
      const day = Number(at);
      const hoursOfDay = await this.#tx.hours(this.#tenant, space, day, day + DAY_MS);
      // A day whose deltas were all taken back (a recount) keeps no row, as if it never had one, so a
      // replay rebuilds exactly the rows the live sink left.
      await this.#tx.putDay(this.#tenant, space, day, composed(hoursOfDay));
    }
  }

  async #loadPlacements(sensors: readonly string[]): Promise<void> {
    const missing = sensors.filter((s) => !this.#placements.has(s));
    if (missing.length === 0) return;
    for (const s of missing) this.#placements.set(s, []);
    for (const p of await this.#tx.placementsOf(this.#tenant, missing))
      this.#placements.get(p.sensor)!.push(p);
  }

  async #doorway(id: string): Promise<Doorway | undefined> {
    if (!this.#doorways.has(id)) this.#doorways.set(id, await this.#tx.doorway(this.#tenant, id));
    return this.#doorways.get(id);
  }

  async #spaceMap(): Promise<Map<string, Space>> {
    this.#spaces ??= new Map((await this.#tx.allSpaces(this.#tenant)).map((s) => [s.id, s]));
    return this.#spaces;
  }
}
