import type { Store } from '../../store/store.ts';
import type { Delta, Doorway, Placement, Segment, Sensor, SensorEvent, Space } from '../model.ts';

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

/** The kinds of thing a client names, renames and deletes alike: spaces, doorways and sensors. */
export type Named = 'space' | 'doorway' | 'sensor';

/** One page of spaces, doorways, sensors or placements, in id order. */
export interface ListQuery {
  readonly tenant: string;
  readonly limit: number;
  /** Only items whose id sorts after this. */
  readonly after?: string | undefined;
}

/** One page of the events kept without a placement, in (ts, key) order. */
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
  insertDoorway(tenant: string, doorway: Doorway): Promise<boolean>;
  insertSensor(tenant: string, sensor: Sensor): Promise<boolean>;
  /** Renames a space, doorway or sensor; false if there is none. */
  rename(kind: Named, tenant: string, id: string, name: string): Promise<boolean>;
  /** Deletes a space, doorway or sensor; false if there is none. */
  delete(kind: Named, tenant: string, id: string): Promise<boolean>;
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

/** The occupancy wing's members of an opened store. */
export interface OccupancyRepositories {
  readonly occupancy: OccupancyReader;
}

/** The occupancy wing's members of a store transaction. */
export interface OccupancyWriters {
  readonly occupancy: OccupancyWriter;
}

/** The store as the occupancy domain sees it: the engine and this wing's repositories. */
export type OccupancyStore = Store<OccupancyWriters> & OccupancyRepositories;
