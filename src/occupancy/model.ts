/**
 * The occupancy domain (seed 004): spaces in a hierarchy, doorways between them, sensors watching
 * doorways through effective-dated placements, and the counts derived from sensor events.
 */

/** A place people are counted in. `parent` makes the hierarchy (building › floor › room). */
export interface Space {
  readonly id: string;
  readonly name: string;
  readonly parent: string | null;
  readonly createdAt: number;
}

/** A passage between space `a` and space `b`; `b` null means the outside. */
export interface Doorway {
  readonly id: string;
  readonly name: string;
  readonly a: string;
  readonly b: string | null;
  readonly createdAt: number;
}

/** A people-counting device (seed 004's DPU). Its id is what it sends with every event. */
export interface Sensor {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export type Side = 'a' | 'b';

/**
 * Which doorway a sensor watched, and when. A +1 crossing enters the `positive` side's space (and
 * leaves the other); a -1 crossing goes the other way. Effective over [from, to); `to` null is open.
 */
export interface Placement {
  readonly id: string;
  readonly sensor: string;
  readonly doorway: string;
  readonly positive: Side;
  readonly from: number;
  readonly to: number | null;
  readonly createdAt: number;
}

/** One crossing as the projection keeps it: the raw event plus the placement it counted against. */
export interface SensorEvent {
  /** The record's idempotency key. */
  readonly key: string;
  readonly sensor: string;
  readonly ts: number;
  readonly direction: 1 | -1;
  readonly receivedAt: number;
  /** Arrived more than `occupancy.lateAfterMs` after its timestamp. */
  readonly late: boolean;
  /** The placement in force at `ts`; null while none covers it (kept, reported, not counted). */
  readonly placement: string | null;
}

/** The change one event makes to one space's count (roll-up included). */
export interface Delta {
  readonly space: string;
  readonly ts: number;
  readonly key: string;
  readonly delta: 1 | -1;
  readonly late: boolean;
}

/**
 * A summary of consecutive deltas of one space: net change, the lowest and highest running sum
 * (both counting the empty prefix, so min ≤ 0 ≤ max), entries, exits and late events.
 */
export interface Segment {
  readonly net: number;
  readonly min: number;
  readonly max: number;
  readonly entries: number;
  readonly exits: number;
  readonly late: number;
}

/** A stored minute: its segment and the (ts, key) of its last delta. */
export interface MinuteRow extends Segment {
  readonly lastTs: number;
  readonly lastKey: string;
}

/**
 * The levels counts are rolled up at: UTC days and hours of minutes, minutes of deltas, and the
 * single deltas. A count folds the largest rows that fit its range, so it reads a few dozen rows
 * however long the history (see `figures.ts#spansOf`).
 */
export type Level = 'day' | 'hour' | 'minute' | 'delta';

/** The rows of one level that start in [from, to). */
export interface Span {
  readonly level: Level;
  readonly from: number;
  readonly to: number;
  /** Only their total net change is wanted (a raw count), not each row. */
  readonly total?: boolean;
}

export interface Page<T> {
  readonly items: T[];
  /** Sort key of the last item, when there may be more. */
  readonly last: string | undefined;
}

export interface ListQuery {
  readonly tenant: string;
  readonly limit: number;
  /** Only items whose id sorts after this. */
  readonly after?: string | undefined;
}

export interface UnplacedQuery {
  readonly tenant: string;
  readonly limit: number;
  readonly sensor?: string | undefined;
  /** Keyset position (ts, key) of the last item of the previous page. */
  readonly after?: { readonly ts: number; readonly key: string } | undefined;
}

/**
 * Reads the occupancy model and the projected rows. Every backend answers with the same values;
 * ranges are half-open [from, to) in epoch milliseconds.
 */
export interface OccupancyReader {
  space(tenant: string, id: string): Promise<Space | undefined>;
  spaces(query: ListQuery): Promise<Space[]>;
  /** Every space of the tenant; the hierarchy is walked in memory. */
  allSpaces(tenant: string): Promise<Space[]>;
  doorway(tenant: string, id: string): Promise<Doorway | undefined>;
  doorways(query: ListQuery): Promise<Doorway[]>;
  sensor(tenant: string, id: string): Promise<Sensor | undefined>;
  sensors(query: ListQuery): Promise<Sensor[]>;
  /** Ids among `ids` that are registered sensors. */
  knownSensors(tenant: string, ids: readonly string[]): Promise<Set<string>>;
  placement(tenant: string, id: string): Promise<Placement | undefined>;
  placements(query: ListQuery & { readonly sensor?: string | undefined }): Promise<Placement[]>;
  /** Every placement of these sensors, ordered by sensor then `from`. */
  placementsOf(tenant: string, sensors: readonly string[]): Promise<Placement[]>;
  /** How many placements name the doorway. */
  placementsOnDoorway(tenant: string, doorway: string): Promise<number>;
  /** How many doorways or child spaces refer to the space. */
  referencesToSpace(tenant: string, space: string): Promise<number>;
  /** Events stored without a placement, in (ts, key) order. */
  unplaced(query: UnplacedQuery): Promise<SensorEvent[]>;
  unplacedCount(tenant: string, sensor: string): Promise<number>;
  /**
   * For each span, the net change and lowest running sum of each of its rows in time order,
   * flattened (a delta d is the step d, min(d, 0)); for a `total` span, one number: the sum of the
   * rows' net changes. All spans in one read, so one round trip on a server database.
   */
  steps(tenant: string, space: string, spans: readonly Span[]): Promise<number[][]>;
  /** Minute segments starting in [from, to), in time order, keyed by minute start. */
  minutes(tenant: string, space: string, from: number, to: number): Promise<[number, Segment][]>;
  /** Hour segments starting in [from, to), in time order, keyed by hour start. */
  hours(tenant: string, space: string, from: number, to: number): Promise<[number, Segment][]>;
  /** Deltas with ts in [from, to), in (ts, key) order. */
  deltas(tenant: string, space: string, from: number, to: number): Promise<Delta[]>;
}

/** Writes inside a store transaction; reads through it see the transaction's own writes. */
export interface OccupancyWriter extends OccupancyReader {
  insertSpace(tenant: string, space: Space): Promise<boolean>;
  renameSpace(tenant: string, id: string, name: string): Promise<boolean>;
  deleteSpace(tenant: string, id: string): Promise<boolean>;
  insertDoorway(tenant: string, doorway: Doorway): Promise<boolean>;
  renameDoorway(tenant: string, id: string, name: string): Promise<boolean>;
  deleteDoorway(tenant: string, id: string): Promise<boolean>;
  insertSensor(tenant: string, sensor: Sensor): Promise<boolean>;
  renameSensor(tenant: string, id: string, name: string): Promise<boolean>;
  deleteSensor(tenant: string, id: string): Promise<boolean>;
  insertPlacement(tenant: string, placement: Placement): Promise<boolean>;
  updatePlacement(tenant: string, placement: Placement): Promise<void>;
  deletePlacement(tenant: string, id: string): Promise<boolean>;
  /** Stores events whose key is new; returns those that were. */
  insertEvents(tenant: string, events: readonly SensorEvent[]): Promise<SensorEvent[]>;
  /** A sensor's events with ts in [from, to); `to` null is open-ended. */
  eventsOf(tenant: string, sensor: string, from: number, to: number | null): Promise<SensorEvent[]>;
  setPlacementOf(tenant: string, key: string, placement: string | null): Promise<void>;
  /** Removes an event's deltas and returns them. */
  takeDeltas(tenant: string, key: string): Promise<Delta[]>;
  insertDeltas(tenant: string, deltas: readonly Delta[]): Promise<void>;
  minute(tenant: string, space: string, minute: number): Promise<MinuteRow | undefined>;
  /** Replaces a minute's row; undefined deletes it. */
  putMinute(tenant: string, space: string, minute: number, row: MinuteRow | undefined): Promise<void>;
  /** Replaces an hour's row (the concatenation of its minutes); undefined deletes it. */
  putHour(tenant: string, space: string, hour: number, row: Segment | undefined): Promise<void>;
  /** Replaces a UTC day's row (the concatenation of its hours); undefined deletes it. */
  putDay(tenant: string, space: string, day: number, row: Segment | undefined): Promise<void>;
  /** Deletes every projected row (events, deltas, minutes, hours, days) of every tenant, for replay. */
  resetProjection(): Promise<void>;
}
