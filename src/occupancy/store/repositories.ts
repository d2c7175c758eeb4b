import type { Store } from '../../store/store.ts';
import type {
  Alert,
  AlertKind,
  AuditEntry,
  Correction,
  Delta,
  Doorway,
  OpenHours,
  OutboxEntry,
  Placement,
  Segment,
  Sensor,
  SensorEvent,
  Space,
  SpaceMove,
} from '../model.ts';

/** A stored minute: its segment and the (ts, key) of its last delta. */
export interface MinuteRow extends Segment {
  readonly lastTs: number;
  readonly lastKey: string;
}

/** An hour's or a day's stored row, and whether a row under it starts after a given time. */
export interface PeriodEnd {
  readonly row: Segment | undefined;
  readonly later: boolean;
}

/**
 * The levels counts are rolled up at: UTC days and hours of minutes, minutes of deltas, and the
 * single deltas. A count folds the largest rows that fit its range, so it reads a few dozen rows
 * however long the history (see `spans.ts#spansOf`).
 */
export type Level = 'day' | 'hour' | 'minute' | 'delta';

/** The rolled-up levels: minute, hour and UTC day rows. */
export type Period = Exclude<Level, 'delta'>;

/** The rows of one level that start in [from, to). */
export interface Span {
  readonly level: Level;
  readonly from: number;
  readonly to: number;
  /** Only their total net change is wanted (a raw count), not each row. */
  readonly total?: boolean;
}

/** One row's place: a space and the start of its period (or a time). */
export interface SpaceTime {
  readonly space: string;
  readonly at: number;
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

/** One page of a space's corrections in [from, to), in (at, id) order. */
export interface CorrectionQuery {
  readonly tenant: string;
  readonly space: string;
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  /** Keyset position (at, id) of the last item of the previous page. */
  readonly after?: { readonly at: number; readonly id: string } | undefined;
}

/** One page of the audit trail, newest first, optionally of one space. */
export interface AuditQuery {
  readonly tenant: string;
  readonly limit: number;
  readonly space?: string | undefined;
  /** Only entries whose id sorts before this (ids rise with time). */
  readonly before?: string | undefined;
}

/** One page of alerts, newest first. */
export interface AlertQuery {
  readonly tenant: string;
  readonly limit: number;
  readonly kind?: AlertKind | undefined;
  readonly subject?: string | undefined;
  /** Only alerts whose id sorts before this (ids rise with time). */
  readonly before?: string | undefined;
}

/** A sensor's latest event time, and the latest time Beacon received one of its events. */
export interface LastEvent {
  readonly ts: number;
  readonly receivedAt: number;
}

/** A sensor's events in one UTC hour under one placement ('' while unplaced), by direction. */
export interface SensorHour {
  readonly hour: number;
  readonly sensor: string;
  readonly placement: string;
  readonly up: number;
  readonly down: number;
}

/** A space's settings, as `PATCH /v1/spaces/:id` changes them. */
export interface SpaceSettings {
  readonly capacity: number | null;
  readonly alertAfterMinutes: number | null;
  readonly openHours: readonly OpenHours[] | null;
}

/** What `countRead` answers. */
export interface CountRead {
  readonly exists: boolean;
  readonly correction: Pick<Correction, 'at' | 'count'> | undefined;
  readonly steps: number[][];
}

/**
 * Reads the occupancy model and the projected rows. Every backend answers with the same values;
 * ranges are half-open [from, to) in epoch milliseconds.
 */
export interface OccupancyReader {
  /**
   * Each read is a round trip (a server database): `series()` then reads what a walk will open ahead,
   * one statement per level (`rowsIn`, `deltasIn`). Where reads are calls into an embedded database,
   * the dry walks that find those rows cost more than the reads they batch.
   */
  readonly readsAhead: boolean;
  space(tenant: string, id: string): Promise<Space | undefined>;
  spaces(query: ListQuery): Promise<Space[]>;
  /** Every space of the tenant; the hierarchy is walked in memory. */
  allSpaces(tenant: string): Promise<Space[]>;
  /** Every move of the tenant's spaces, in (at, space) order. */
  moves(tenant: string): Promise<SpaceMove[]>;
  doorway(tenant: string, id: string): Promise<Doorway | undefined>;
  doorways(query: ListQuery & { readonly space?: string | undefined }): Promise<Doorway[]>;
  /** The doorways among `ids` that exist. */
  doorwaysById(tenant: string, ids: readonly string[]): Promise<Doorway[]>;
  sensor(tenant: string, id: string): Promise<Sensor | undefined>;
  sensors(query: ListQuery): Promise<Sensor[]>;
  /** Ids among `ids` that are registered sensors. */
  knownSensors(tenant: string, ids: readonly string[]): Promise<Set<string>>;
  placement(tenant: string, id: string): Promise<Placement | undefined>;
  placements(
    query: ListQuery & { readonly sensor?: string | undefined; readonly doorway?: string | undefined },
  ): Promise<Placement[]>;
  /** Every placement of these sensors, ordered by sensor then `from`. */
  placementsOf(tenant: string, sensors: readonly string[]): Promise<Placement[]>;
  /** Every placement on these doorways, ordered by doorway then `from`. */
  placementsOn(tenant: string, doorways: readonly string[]): Promise<Placement[]>;
  /** How many placements name the doorway. */
  placementsOnDoorway(tenant: string, doorway: string): Promise<number>;
  /** How many doorways, child spaces or moves refer to the space. */
  referencesToSpace(tenant: string, space: string): Promise<number>;
  /** Events stored without a placement, in (ts, key) order. */
  unplaced(query: UnplacedQuery): Promise<SensorEvent[]>;
  unplacedCount(tenant: string, sensor: string): Promise<number>;
  /** The latest event time and receipt of each of these sensors that has events. */
  lastEvents(tenant: string, sensors: readonly string[]): Promise<Map<string, LastEvent>>;
  /** How many of a placement's events in [from, to) went each way: +1 (`up`) and −1 (`down`). */
  directions(
    tenant: string,
    placement: Pick<Placement, 'id' | 'sensor'>,
    from: number,
    to: number,
  ): Promise<{ up: number; down: number }>;
  /**
   * For each span, the net change and lowest running sum of each of its rows in time order,
   * flattened (a delta d is the step d, min(d, 0)); for a `total` span, one number: the sum of the
   * rows' net changes. All spans in one read, so one round trip on a server database. Deltas
   * include transfers.
   */
  steps(tenant: string, space: string, spans: readonly Span[]): Promise<number[][]>;
  /**
   * What a count of the space before `before` reads first, in one read (one statement, one round trip
   * on a server database): whether the space exists, its latest headcount before `before` (as
   * `correctionBefore`), and `steps(spans)`.
   */
  countRead(tenant: string, space: string, before: number, spans: readonly Span[]): Promise<CountRead>;
  /** Rows of a period starting in [from, to), in time order, keyed by start. */
  segments(
    period: Period,
    tenant: string,
    space: string,
    from: number,
    to: number,
  ): Promise<[number, Segment][]>;
  /** Deltas and transfers with ts in [from, to), in (ts, transfer first, key) order. */
  deltas(tenant: string, space: string, from: number, to: number): Promise<Delta[]>;
  /**
   * The deltas and transfers of each of these minutes, each in fold order: many minutes in one read
   * (one round trip on a server database).
   */
  deltasIn(tenant: string, minutes: readonly SpaceTime[]): Promise<Delta[][]>;
  /** The `period` rows under each of these `size`-long parents (hours or days), each in time order. */
  rowsIn(
    period: 'minute' | 'hour',
    tenant: string,
    parents: readonly SpaceTime[],
    size: number,
  ): Promise<[number, Segment][][]>;
  /** The latest correction of `space` at a time before `before`. */
  correctionBefore(tenant: string, space: string, before: number): Promise<Correction | undefined>;
  corrections(query: CorrectionQuery): Promise<Correction[]>;
  correction(tenant: string, id: string): Promise<Correction | undefined>;
  audit(query: AuditQuery): Promise<AuditEntry[]>;
  /** The alerts still open, of every kind or one. */
  openAlerts(tenant: string, kind?: AlertKind): Promise<Alert[]>;
  alerts(query: AlertQuery): Promise<Alert[]>;
  /** The notifications an alert (or every alert of the tenant) queued, newest first. */
  outbox(query: { tenant: string; limit: number; before?: string | undefined }): Promise<OutboxEntry[]>;
  /** Tenants that have spaces, doorways or sensors: the ones alerts are watched for. */
  tenants(): Promise<string[]>;
  /**
   * The tenant's model version: raised by every writer method that changes its spaces, moves,
   * doorways, sensors or placements, in the same transaction; 0 before the first change.
   */
  modelVersion(tenant: string): Promise<number>;
}

/** Writes inside a store transaction; reads through it see the transaction's own writes. */
export interface OccupancyWriter extends OccupancyReader {
  insertSpace(tenant: string, space: Space): Promise<boolean>;
  updateSpace(tenant: string, id: string, settings: SpaceSettings): Promise<boolean>;
  insertMove(tenant: string, move: SpaceMove): Promise<boolean>;
  deleteMove(tenant: string, space: string, at: number): Promise<boolean>;
  insertDoorway(tenant: string, doorway: Doorway): Promise<boolean>;
  insertSensor(tenant: string, sensor: Sensor): Promise<boolean>;
  /** Renames a space, doorway or sensor; false if there is none. */
  rename(kind: Named, tenant: string, id: string, name: string): Promise<boolean>;
  /** Deletes a space (with its moves and corrections), doorway or sensor; false if there is none. */
  delete(kind: Named, tenant: string, id: string): Promise<boolean>;
  insertPlacement(tenant: string, placement: Placement): Promise<boolean>;
  updatePlacement(tenant: string, placement: Placement): Promise<void>;
  deletePlacement(tenant: string, id: string): Promise<boolean>;
  /**
   * Stores events whose key is new, with the placement they count against and the spaces they enter
   * and leave; returns those that were new (of two with one key, the first).
   */
  insertEvents(tenant: string, events: readonly SensorEvent[]): Promise<SensorEvent[]>;
  /** A sensor's events with ts in [from, to), in (ts, key) order; `to` null is open-ended. */
  eventsOf(tenant: string, sensor: string, from: number, to: number | null): Promise<SensorEvent[]>;
  /**
   * The events that entered or left `space` with ts in [from, to), in (ts, key) order; callers keep
   * the window short (an hour), since every event of the tenant in it is looked at.
   */
  eventsCrossing(tenant: string, space: string, from: number, to: number): Promise<SensorEvent[]>;
  /** Stores the placement events now count against and the spaces they enter and leave. */
  setCounted(tenant: string, events: readonly SensorEvent[]): Promise<void>;
  /**
   * Adds to the per-sensor hourly counts by direction (negative numbers take away); an hour whose
   * counts reach zero keeps no row.
   */
  addSensorHours(tenant: string, counts: readonly SensorHour[]): Promise<void>;
  /** Raises each sensor's latest event time and latest receipt to these, where they are later. */
  noteLastEvents(tenant: string, events: readonly (LastEvent & { readonly sensor: string })[]): Promise<void>;
  /** The transfers of the move of `source` at `at`. */
  transfersOf(tenant: string, source: string, at: number): Promise<Delta[]>;
  /** Removes the transfers of the move of `source` at `at` and returns them. */
  takeTransfers(tenant: string, source: string, at: number): Promise<Delta[]>;
  insertTransfers(tenant: string, transfers: readonly Delta[]): Promise<void>;
  /** The stored rows of these minutes, in the same order. */
  minuteRows(tenant: string, minutes: readonly SpaceTime[]): Promise<(MinuteRow | undefined)[]>;
  /**
   * For each of these hours (or days), in the same order: its stored row, and whether a row of the
   * level under it (minutes, or hours) starts after `after` inside it. A sink batch whose new deltas
   * all follow the period's old ones extends the row with them instead of composing it again from
   * every row under it.
   */
  periodEnds(
    period: 'hour' | 'day',
    tenant: string,
    probes: readonly (SpaceTime & { readonly after: number })[],
  ): Promise<PeriodEnd[]>;
  /** Replaces rows of a period (a minute's with its last delta); an undefined row is deleted. */
  putRows(
    period: Period,
    tenant: string,
    rows: readonly (SpaceTime & { readonly row: Segment | MinuteRow | undefined })[],
  ): Promise<void>;
  /**
   * Deletes every projected row (events, transfers, minutes, hours, days, sensor hours and last
   * events) of every tenant, for replay. The model, moves and corrections stay.
   */
  resetProjection(): Promise<void>;
  /** Stores a correction, replacing one of the space at the same time; returns the one replaced. */
  putCorrection(tenant: string, correction: Correction): Promise<Correction | undefined>;
  deleteCorrection(tenant: string, id: string): Promise<boolean>;
  insertAudit(tenant: string, entry: AuditEntry): Promise<void>;
  /**
   * True when this transaction may evaluate alerts: on a server database only one process at a
   * time does (a transaction-scoped advisory lock); an embedded store has one writer anyway.
   */
  claimAlerting(): Promise<boolean>;
  openAlert(tenant: string, alert: Alert): Promise<void>;
  closeAlert(tenant: string, id: string, closedAt: number): Promise<void>;
  enqueue(entry: OutboxEntry): Promise<void>;
  /**
   * Leases up to `limit` undelivered notifications due at `now` (of every tenant) for `leaseMs`, so
   * another process does not send them meanwhile; returns them oldest first.
   */
  claimOutbox(now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]>;
  /** Records a delivery attempt: delivered, or failed with when to try again (null: give up). */
  settleOutbox(
    id: string,
    outcome: { deliveredAt: number } | { error: string; retryAt: number | null },
  ): Promise<void>;
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
