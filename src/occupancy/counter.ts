import { CountingModel, type Spaces } from './counting-model.ts';
import { Hierarchy } from './hierarchy.ts';
import type { Delta, Doorway, Placement, Segment, SensorEvent, SpaceMove } from './model.ts';
import type { LastEvent, MinuteRow, OccupancyWriter, PeriodEnd, SensorHour } from './store/repositories.ts';
import { eventDeltas } from './store/rows.ts';
import {
  byTsKey,
  compose,
  concat,
  DAY_MS,
  HOUR_MS,
  hourOf,
  MINUTE_MS,
  minuteOf,
  segmentOf,
} from './segment.ts';
import { BEGINNING, spansOf } from './spans.ts';

/** The placement of `sensor` in force at `ts`, if any ([from, to) intervals never overlap). */
export function placementAt(placements: readonly Placement[], ts: number): Placement | undefined {
  return placements.find((p) => p.from <= ts && (p.to === null || ts < p.to));
}

/** The deltas an event makes under a placement on a doorway, in the tree as it was at the event. */
export function deltasOf(
  event: SensorEvent,
  placement: Placement,
  doorway: Doorway,
  hierarchy: Hierarchy,
): Delta[] {
  const positive = placement.positive === 'a' ? doorway.a : doorway.b;
  const negative = placement.positive === 'a' ? doorway.b : doorway.a;
  const [from, to] = event.direction === 1 ? [negative, positive] : [positive, negative];
  return hierarchy.crossing(from, to, event.ts).map((c) => ({
    space: c.space,
    delta: c.delta,
    ts: event.ts,
    key: event.key,
    late: event.late,
  }));
}

/** Events are recounted this many at a time, so a recount of years of history stays in bounded memory. */
const RECOUNT_CHUNK = 5000;

/** A minute whose deltas changed: the deltas added to it, and whether any were removed. */
interface DirtyMinute {
  readonly space: string;
  readonly minute: number;
  readonly added: Delta[];
  removed: boolean;
}

const idOf = (space: string, at: number) => `${space}\0${at}`;

/**
 * A minute, hour or day row a flush changes, with the segment of the deltas it gained after all of
 * its own when that is all that changed (undefined when deltas were taken back or came before some).
 */
interface Change {
  readonly space: string;
  readonly at: number;
  readonly tail: Segment | undefined;
}

/** An hour or day over the changes under it, in time order. */
interface Parent extends Change {
  children: Change[];
}

/** The `size`-long periods (hours or days) holding `changes`, each with its changes in time order. */
function parentsOf(changes: readonly Change[], size: number): Parent[] {
  const parents = new Map<string, Parent>();
  for (const change of changes) {
    const at = Math.floor(change.at / size) * size;
    const id = idOf(change.space, at);
    let parent = parents.get(id);
    if (!parent) parents.set(id, (parent = { space: change.space, at, tail: undefined, children: [] }));
    parent.children.push(change);
  }
  for (const parent of parents.values()) parent.children.sort((a, b) => a.at - b.at);
  return [...parents.values()];
}

/** Two lists of spaces as an event keeps them (absent is none). */
const sameSpaces = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  (a ?? []).join('\0') === (b ?? []).join('\0');

/**
 * Applies events to one tenant's counts inside a store transaction. Counts are sums of deltas, kept
 * as minute, hour and day segments, so an event at any time, however late, corrects every figure
 * after it by rewriting one minute, and composing its hour and day again, for each space it touches.
 * Every read and write of a batch is one statement per kind of row (on PostgreSQL, one round trip),
 * whatever the number of events.
 *
 * Moves of spaces (re-parenting from a date) are counted as transfers: at the move, the people inside
 * the moved space leave its old ancestors and enter its new ones. A transfer's size is the moved
 * space's raw count just before the move, so whenever a change reaches back before a move (a late
 * event, a recount), the transfer is made again.
 */
export class Counter {
  readonly #tx: OccupancyWriter;
  readonly #tenant: string;
  /** Placements, doorways and the tree as read (possibly by earlier batches, at the same model version). */
  readonly #model: CountingModel;
  readonly #dirty = new Map<string, DirtyMinute>();
  /** By space: the earliest time whose deltas changed, for the transfers of its later moves. */
  readonly #changedFrom = new Map<string, number>();
  /** Moves whose transfers are made again whatever changed (the move itself was added or removed). */
  readonly #redo = new Set<string>();
  /** Every move at or after this time has its transfers made again (the tree changed from it on). */
  #redoFrom = Infinity;
  /** Spaces whose count changed, for the live push. */
  readonly touched = new Set<string>();

  /** Counts in `tx`; `model` is what earlier batches read of the tenant's model, when still current. */
  constructor(tx: OccupancyWriter, tenant: string, model = new CountingModel()) {
    this.#tx = tx;
    this.#tenant = tenant;
    this.#model = model;
  }

  /** Stores new events and counts those a placement covers; returns how many were new. */
  async add(events: readonly SensorEvent[]): Promise<number> {
    await this.#loadPlacements([...new Set(events.map((e) => e.sensor))]);
    const hierarchy = await this.#hierarchyOf();
    // Each event is stored with the placement it counts against and the spaces it enters and leaves,
    // so it is written once; its deltas are those spaces.
    const placed = events.map((event) => this.#counted(event, hierarchy));
    const fresh = await this.#tx.insertEvents(this.#tenant, placed);
    const hours = new Map<string, SensorHour & { up: number; down: number }>();
    const last = new Map<string, LastEvent>();
    for (const event of fresh) {
      for (const d of eventDeltas(event)) this.#mark(d, false);
      this.#countHour(hours, event, 1);
      const seen = last.get(event.sensor);
      last.set(event.sensor, {
        ts: Math.max(seen?.ts ?? -Infinity, event.ts),
        receivedAt: Math.max(seen?.receivedAt ?? -Infinity, event.receivedAt),
      });
    }
    await this.#tx.addSensorHours(this.#tenant, [...hours.values()]);
    await this.#tx.noteLastEvents(
      this.#tenant,
      [...last].map(([sensor, e]) => ({ sensor, ...e })),
    );
    return fresh.length;
  }

  /**
   * Counts a sensor's events in [from, to) again under the placements now stored: after a placement
   * is added, moved or removed. Events that lose their placement become unplaced, and the reverse.
   */
  async recount(sensor: string, from: number, to: number | null): Promise<number> {
    this.#model.placements.delete(sensor);
    await this.#loadPlacements([sensor]);
    const events = await this.#tx.eventsOf(this.#tenant, sensor, from, to);
    for (let i = 0; i < events.length; i += RECOUNT_CHUNK)
      await this.#again(events.slice(i, i + RECOUNT_CHUNK));
    return events.length;
  }

  /**
   * Counts again every event that changed `space`'s count in [from, to), in the tree now stored:
   * after a move of `space` changed its ancestors over that time. Events inside it that did not cross
   * its boundary change no ancestor of it, so they stay as they are. The space's hour rows say which
   * hours hold such events; each is read on its own.
   */
  async recountSpace(space: string, from: number, to: number | null): Promise<number> {
    const end = to ?? Number.MAX_SAFE_INTEGER;
    const hours = await this.#tx.segments('hour', this.#tenant, space, hourOf(from), end);
    let n = 0;
    for (const [hour] of hours) {
      const events = await this.#tx.eventsCrossing(
        this.#tenant,
        space,
        Math.max(from, hour),
        Math.min(end, hour + HOUR_MS),
      );
      await this.#loadPlacements([...new Set(events.map((e) => e.sensor))]);
      await this.#again(events);
      n += events.length;
    }
    return n;
  }

  /**
   * Makes the transfers of `move` again on the next flush (it was just added, or just removed), and
   * those of every move after it: a move's transfers go from the ancestors a space had just before it
   * to those it has from it on, and an earlier move (of this space or of one above it) changes those.
   */
  redo(move: Pick<SpaceMove, 'space' | 'at'>): void {
    this.#redo.add(idOf(move.space, move.at));
    this.#redoFrom = Math.min(this.#redoFrom, move.at);
  }

  /** Counts stored events again: their old deltas are taken back, their new ones made. */
  async #again(events: readonly SensorEvent[]): Promise<void> {
    const hierarchy = await this.#hierarchyOf();
    const changed: SensorEvent[] = [];
    const hours = new Map<string, SensorHour & { up: number; down: number }>();
    for (const event of events) {
      const now = this.#counted(event, hierarchy);
      const same =
        now.placement === event.placement &&
        sameSpaces(now.enters, event.enters) &&
        sameSpaces(now.leaves, event.leaves);
      if (same) continue;
      changed.push(now);
      for (const d of eventDeltas(event)) this.#mark(d, true);
      for (const d of eventDeltas(now)) this.#mark(d, false);
      if (now.placement !== event.placement) {
        this.#countHour(hours, event, -1);
        this.#countHour(hours, now, 1);
      }
    }
    await this.#tx.setCounted(this.#tenant, changed);
    await this.#tx.addSensorHours(this.#tenant, [...hours.values()]);
  }

  /** The event with the placement it counts against now, and the spaces it enters and leaves. */
  #counted(event: SensorEvent, hierarchy: Hierarchy): SensorEvent {
    // The placement in force at its time, on a doorway that exists.
    const placement = placementAt(this.#model.placements.get(event.sensor) ?? [], event.ts);
    const doorway = placement && this.#model.doorways.get(placement.doorway);
    const counted: { -readonly [K in keyof SensorEvent]: SensorEvent[K] } = {
      key: event.key,
      sensor: event.sensor,
      ts: event.ts,
      direction: event.direction,
      receivedAt: event.receivedAt,
      late: event.late,
      placement: null,
    };
    if (!placement || !doorway) return counted;
    counted.placement = placement.id;
    const { enters, leaves } = this.#spacesOf(event, placement, doorway, hierarchy);
    if (enters) counted.enters = enters;
    if (leaves) counted.leaves = leaves;
    return counted;
  }

  /**
   * The spaces a crossing under `placement` enters and leaves: the same for every crossing of one
   * direction while the tree stays as it is, so worked out once for each and shared (never changed).
   */
  #spacesOf(event: SensorEvent, placement: Placement, doorway: Doorway, hierarchy: Hierarchy): Spaces {
    let known = this.#model.spaces.get(placement);
    if (!known) this.#model.spaces.set(placement, (known = []));
    const at = hierarchy.epochAt(event.ts) * 2 + (event.direction === 1 ? 0 : 1);
    let spaces = known[at];
    if (!spaces) {
      const deltas = deltasOf(event, placement, doorway, hierarchy);
      const enters = deltas.filter((d) => d.delta > 0).map((d) => d.space);
      const leaves = deltas.filter((d) => d.delta < 0).map((d) => d.space);
      known[at] = spaces = {
        ...(enters.length > 0 ? { enters } : {}),
        ...(leaves.length > 0 ? { leaves } : {}),
      };
    }
    return spaces;
  }

  /** Adds `n` to the event's sensor, hour, placement and direction in `hours`. */
  #countHour(
    hours: Map<string, SensorHour & { up: number; down: number }>,
    event: SensorEvent,
    n: number,
  ): void {
    const hour = hourOf(event.ts);
    const placement = event.placement ?? '';
    const id = `${hour}\0${event.sensor}\0${placement}`;
    let entry = hours.get(id);
    if (!entry) hours.set(id, (entry = { hour, sensor: event.sensor, placement, up: 0, down: 0 }));
    if (event.direction === 1) entry.up += n;
    else entry.down += n;
  }

  #mark(delta: Delta, removed: boolean): void {
    const id = idOf(delta.space, minuteOf(delta.ts));
    let entry = this.#dirty.get(id);
    if (!entry) {
      entry = { space: delta.space, minute: minuteOf(delta.ts), added: [], removed: false };
      this.#dirty.set(id, entry);
    }
    // A transfer has its minute summed again from the stored rows, like a removal.
    if (removed || delta.transfer) entry.removed = true;
    else entry.added.push(delta);
    this.touched.add(delta.space);
    const from = this.#changedFrom.get(delta.space);
    if (from === undefined || delta.ts < from) this.#changedFrom.set(delta.space, delta.ts);
  }

  /**
   * Rewrites every changed minute, then composes the hours and days they lie in again, then makes
   * again the transfers of moves that a change reached back before (in time order, since a transfer
   * itself changes the counts that later moves transfer).
   */
  async flush(): Promise<void> {
    let after = -Infinity;
    for (;;) {
      await this.#flushRows();
      const done = await this.#transfersAfter(after);
      if (done === undefined) return;
      after = done;
    }
  }

  /**
   * Deltas that all follow the minute's last one (events arriving in order) extend its row; anything
   * else sums the minute again. Hours and days are extended the same way when every delta they gain
   * follows all of their own; otherwise an hour is composed again from its (at most 60) minutes and a
   * day from its (24) hours. Either way every row stays exactly the segment of the deltas under it.
   */
  async #flushRows(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const tenant = this.#tenant;
    const entries = [...this.#dirty.values()];
    this.#dirty.clear();
    const before = await this.#tx.minuteRows(
      tenant,
      entries.map((e) => ({ space: e.space, at: e.minute })),
    );
    const after: (MinuteRow | undefined)[] = [];
    const minutes: Change[] = [];
    const again: number[] = [];
    for (const [i, change] of entries.entries()) {
      const old = before[i];
      const added = change.added.sort(byTsKey);
      const first = added[0];
      if (change.removed || !first || (old && byTsKey({ ts: old.lastTs, key: old.lastKey }, first) >= 0)) {
        again.push(i);
        minutes.push({ space: change.space, at: change.minute, tail: undefined });
        continue;
      }
      const last = added.at(-1)!;
      const tail = segmentOf(added, change.minute + MINUTE_MS);
      after[i] = { ...(old ? concat(old, tail, 0) : tail), lastTs: last.ts, lastKey: last.key };
      minutes.push({ space: change.space, at: change.minute, tail });
    }
    const sums = await this.#tx.deltasIn(
      tenant,
      again.map((i) => ({ space: entries[i]!.space, at: entries[i]!.minute })),
    );
    for (const [j, i] of again.entries()) {
      const deltas = sums[j]!;
      const last = deltas.at(-1);
      // A transfer last in its minute is kept with the empty key, which sorts before any crossing.
      after[i] = last && {
        ...segmentOf(deltas, entries[i]!.minute + MINUTE_MS),
        lastTs: last.ts,
        lastKey: last.transfer ? '' : last.key,
      };
    }
    // Hours and days are read before any row under them is written: whether a period's new deltas
    // follow all of its old ones is a question about the rows it had.
    const hours = parentsOf(minutes, HOUR_MS);
    const hourEnds = await this.#endsOf('hour', hours, (h) => h.children.every((m) => m.tail));
    const days = parentsOf(hours, DAY_MS);
    const dayEnds = await this.#endsOf('day', days, (d) =>
      d.children.every((h) => {
        const end = hourEnds.get(h);
        return end !== undefined && !end.later;
      }),
    );
    await this.#tx.putRows(
      'minute',
      tenant,
      entries.map((e, i) => ({ space: e.space, at: e.minute, row: after[i] })),
    );
    const hourChanges = await this.#rollUp('minute', hours, hourEnds, MINUTE_MS, HOUR_MS);
    for (const day of days) day.children = day.children.map((h) => hourChanges.get(h)!);
    await this.#rollUp('hour', days, dayEnds, HOUR_MS, DAY_MS);
  }

  /** The stored rows of the `parents` (hours or days) that `extensible` picks, and what lies after. */
  async #endsOf(
    period: 'hour' | 'day',
    parents: readonly Parent[],
    extensible: (p: Parent) => boolean,
  ): Promise<Map<Change, PeriodEnd>> {
    const probed = parents.filter(extensible);
    const ends = await this.#tx.periodEnds(
      period,
      this.#tenant,
      probed.map((p) => ({ space: p.space, at: p.at, after: p.children[0]!.at })),
    );
    return new Map(probed.map((p, i) => [p, ends[i]!]));
  }

  /**
   * Writes the rows of `parents` (hours or days): a parent whose rows under it only gained deltas
   * after all of its own (its end says no row under it starts after the first that changed) is its
   * old row followed by what they gained; any other is composed again from its `child` rows. A
   * period whose rows were all taken back keeps no row, so a replay rebuilds exactly the rows the
   * live sink left. Returns each parent as a change of the level above.
   */
  async #rollUp(
    child: 'minute' | 'hour',
    parents: readonly Parent[],
    ends: ReadonlyMap<Change, PeriodEnd>,
    childSize: number,
    size: number,
  ): Promise<Map<Change, Change>> {
    const rows: (Segment | undefined)[] = [];
    const changes = new Map<Change, Change>();
    const again: number[] = [];
    for (const [i, p] of parents.entries()) {
      const end = ends.get(p);
      if (!end || end.later || !p.children.every((c) => c.tail)) {
        again.push(i);
        changes.set(p, { space: p.space, at: p.at, tail: undefined });
        continue;
      }
      const tail = compose(
        p.children.map((c) => [c.at, c.tail!] as const),
        childSize,
        p.at + size,
      )!;
      rows[i] = end.row ? concat(end.row, tail, 0) : tail;
      changes.set(p, { space: p.space, at: p.at, tail });
    }
    const children = await this.#tx.rowsIn(
      child,
      this.#tenant,
      again.map((i) => parents[i]!),
      size,
    );
    for (const [j, i] of again.entries()) rows[i] = compose(children[j]!, childSize, parents[i]!.at + size);
    await this.#tx.putRows(
      child === 'minute' ? 'hour' : 'day',
      this.#tenant,
      parents.map((p, i) => ({ space: p.space, at: p.at, row: rows[i] })),
    );
    return changes;
  }

  /**
   * Makes again the transfers of the earliest moves after `after` that need it: those a change
   * reached back before, and those marked to redo. Returns their time, or undefined when none need it.
   */
  async #transfersAfter(after: number): Promise<number | undefined> {
    const hierarchy = await this.#hierarchyOf();
    const due = hierarchy.moves.filter((m) => {
      if (m.at <= after) return false;
      const changed = this.#changedFrom.get(m.space);
      return m.at >= this.#redoFrom || (changed !== undefined && changed < m.at);
    });
    // A redo of a move that no longer exists (it was deleted) takes its transfers back.
    const gone = [...this.#redo]
      .map((id) => id.split('\0') as [string, string])
      .filter(
        ([space, at]) =>
          Number(at) > after && !hierarchy.moves.some((m) => m.space === space && m.at === Number(at)),
      );
    const at = Math.min(...due.map((m) => m.at), ...gone.map(([, t]) => Number(t)));
    if (!Number.isFinite(at)) return undefined;
    for (const [space, t] of gone) {
      if (Number(t) !== at) continue;
      this.#redo.delete(idOf(space, at));
      for (const d of await this.#tx.takeTransfers(this.#tenant, space, at)) this.#mark(d, true);
    }
    const movers = hierarchy.moves.filter((m) => m.at === at);
    const raw = new Map<string, number>();
    for (const m of movers) raw.set(m.space, await this.#rawBefore(m.space, at));
    for (const m of movers) {
      this.#redo.delete(idOf(m.space, at));
      // People inside a space that moves at the same instant go with that space's own transfer.
      const inner = movers.filter(
        (o) =>
          o.space !== m.space &&
          hierarchy.within(o.space, m.space, at - 1) &&
          !movers.some(
            (p) =>
              p.space !== m.space &&
              p.space !== o.space &&
              hierarchy.within(o.space, p.space, at - 1) &&
              hierarchy.within(p.space, m.space, at - 1),
          ),
      );
      const amount = raw.get(m.space)! - inner.reduce((n, o) => n + raw.get(o.space)!, 0);
      const old = hierarchy.enclosing(hierarchy.parentAt(m.space, at - 1), at - 1);
      const now = hierarchy.enclosing(hierarchy.parentAt(m.space, at), at);
      const wanted: Delta[] =
        amount === 0
          ? []
          : [
              ...now.filter((s) => !old.includes(s)).map((space) => ({ space, delta: amount })),
              ...old.filter((s) => !now.includes(s)).map((space) => ({ space, delta: -amount })),
            ].map((t) => ({ ...t, ts: at, key: m.space, late: false, transfer: true }));
      const stored = await this.#tx.transfersOf(this.#tenant, m.space, at);
      const same =
        stored.length === wanted.length &&
        wanted.every((w) => stored.some((s) => s.space === w.space && s.delta === w.delta));
      if (same) continue;
      for (const d of await this.#tx.takeTransfers(this.#tenant, m.space, at)) this.#mark(d, true);
      await this.#tx.insertTransfers(this.#tenant, wanted);
      for (const d of wanted) this.#mark(d, true);
    }
    return at;
  }

  /** The raw count of `space` just before `t`: the sum of its rows, after the rows are flushed. */
  async #rawBefore(space: string, t: number): Promise<number> {
    const steps = await this.#tx.steps(this.#tenant, space, spansOf(BEGINNING, t, true));
    return steps.reduce((n, s) => n + (s[0] ?? 0), 0);
  }

  async #loadPlacements(sensors: readonly string[]): Promise<void> {
    const model = this.#model;
    const missing = sensors.filter((s) => !model.placements.has(s));
    if (missing.length === 0) return;
    const placements = await this.#tx.placementsOf(this.#tenant, missing);
    const doorways = [...new Set(placements.map((p) => p.doorway))].filter((d) => !model.doorways.has(d));
    const found = doorways.length === 0 ? [] : await this.#tx.doorwaysById(this.#tenant, doorways);
    // Only once both reads are in: a model kept across batches never holds half of one.
    for (const d of doorways) model.doorways.set(d, undefined);
    for (const d of found) model.doorways.set(d.id, d);
    for (const s of missing) model.placements.set(s, []);
    for (const p of placements) model.placements.get(p.sensor)!.push(p);
  }

  async #hierarchyOf(): Promise<Hierarchy> {
    this.#model.hierarchy ??= new Hierarchy(
      await this.#tx.allSpaces(this.#tenant),
      await this.#tx.moves(this.#tenant),
    );
    return this.#model.hierarchy;
  }
}
