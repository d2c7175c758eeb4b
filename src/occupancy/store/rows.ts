import type { Columns } from '../../store/columns.ts';
import type { Delta, Doorway, Placement, Segment, Sensor, SensorEvent, Side, Space } from '../model.ts';
import type { MinuteRow, Named } from './repositories.ts';

/** An `occupancy_spaces` row as either driver returns it (see `Columns`). */
export interface SpaceRow {
  readonly id: string;
  readonly name: string;
  readonly parent: string | null;
  readonly created_at: unknown;
}

/** An `occupancy_doorways` row as either driver returns it. */
export interface DoorwayRow {
  readonly id: string;
  readonly name: string;
  readonly side_a: string;
  readonly side_b: string | null;
  readonly created_at: unknown;
}

/** An `occupancy_sensors` row as either driver returns it. */
export interface SensorRow {
  readonly id: string;
  readonly name: string;
  readonly created_at: unknown;
}

/** An `occupancy_placements` row as either driver returns it. */
export interface PlacementRow {
  readonly id: string;
  readonly sensor: string;
  readonly doorway: string;
  readonly positive_side: Side;
  readonly valid_from: unknown;
  readonly valid_to: unknown;
  readonly created_at: unknown;
}

/** An `occupancy_events` row as either driver returns it. */
export interface EventRow {
  readonly key: string;
  readonly sensor: string;
  readonly ts: unknown;
  readonly direction: unknown;
  readonly received_at: unknown;
  readonly late: unknown;
  readonly placement: string | null;
}

/** An `occupancy_deltas` row as either driver returns it. */
export interface DeltaRow {
  readonly space: string;
  readonly ts: unknown;
  readonly key: string;
  readonly delta: unknown;
  readonly late: unknown;
}

/** The segment columns of a minute, hour or day row, as either driver returns them. */
export interface SegmentRow {
  readonly net: unknown;
  readonly min_prefix: unknown;
  readonly max_prefix: unknown;
  readonly entries: unknown;
  readonly exits: unknown;
  readonly late: unknown;
}

/** An `occupancy_minutes` row as either driver returns it. */
export interface MinuteDbRow extends SegmentRow {
  readonly last_ts: unknown;
  readonly last_key: string;
}

/** The table of each kind of named thing. */
export const NAMED_TABLES = {
  space: 'occupancy_spaces',
  doorway: 'occupancy_doorways',
  sensor: 'occupancy_sensors',
} as const satisfies Record<Named, string>;

/** The segment columns, in the order `segmentValues` and `TimedSegmentRow` hold them. */
export const SEGMENT_COLUMNS = ['net', 'min_prefix', 'max_prefix', 'entries', 'exits', 'late'] as const;

/**
 * A minute or hour row read as an array (a sink batch reads hundreds of them, and SQLite makes an
 * array faster than an object): its start, then `SEGMENT_COLUMNS`.
 */
export type TimedSegmentRow = readonly [
  at: unknown,
  net: unknown,
  min_prefix: unknown,
  max_prefix: unknown,
  entries: unknown,
  exits: unknown,
  late: unknown,
];

/**
 * The rolled-up tables by period (the name of the column that holds a row's start) and their
 * columns besides tenant, space and start: a minute also keeps its last delta.
 */
export const ROLLUPS = {
  minute: { table: 'occupancy_minutes', columns: [...SEGMENT_COLUMNS, 'last_ts', 'last_key'] },
  hour: { table: 'occupancy_hours', columns: SEGMENT_COLUMNS },
  day: { table: 'occupancy_days', columns: SEGMENT_COLUMNS },
} as const;

/** A rolled-up period: minute, hour or UTC day. */
export type Period = keyof typeof ROLLUPS;

/** The space a row holds. */
export const toSpace = (r: SpaceRow, c: Columns): Space => ({
  id: r.id,
  name: r.name,
  parent: r.parent,
  createdAt: c.int(r.created_at),
});

/** The doorway a row holds. */
export const toDoorway = (r: DoorwayRow, c: Columns): Doorway => ({
  id: r.id,
  name: r.name,
  a: r.side_a,
  b: r.side_b,
  createdAt: c.int(r.created_at),
});

/** The sensor a row holds. */
export const toSensor = (r: SensorRow, c: Columns): Sensor => ({
  id: r.id,
  name: r.name,
  createdAt: c.int(r.created_at),
});

/** The placement a row holds. */
export const toPlacement = (r: PlacementRow, c: Columns): Placement => ({
  id: r.id,
  sensor: r.sensor,
  doorway: r.doorway,
  positive: r.positive_side,
  from: c.int(r.valid_from),
  to: c.intOrNull(r.valid_to),
  createdAt: c.int(r.created_at),
});

/** The event a row holds. */
export const toEvent = (r: EventRow, c: Columns): SensorEvent => ({
  key: r.key,
  sensor: r.sensor,
  ts: c.int(r.ts),
  direction: c.int(r.direction) as 1 | -1,
  receivedAt: c.int(r.received_at),
  late: c.bool(r.late),
  placement: r.placement,
});

/** The delta a row holds. */
export const toDelta = (r: DeltaRow, c: Columns): Delta => ({
  space: r.space,
  ts: c.int(r.ts),
  key: r.key,
  delta: c.int(r.delta) as 1 | -1,
  late: c.bool(r.late),
});

/** The segment of a minute, hour or day row. */
export const toSegment = (r: SegmentRow, c: Columns): Segment => ({
  net: c.int(r.net),
  min: c.int(r.min_prefix),
  max: c.int(r.max_prefix),
  entries: c.int(r.entries),
  exits: c.int(r.exits),
  late: c.int(r.late),
});

/** A minute row: its segment and its last delta. */
export const toMinute = (r: MinuteDbRow, c: Columns): MinuteRow => ({
  ...toSegment(r, c),
  lastTs: c.int(r.last_ts),
  lastKey: r.last_key,
});

/** A minute's or hour's start and segment. */
export const toTimedSegment = (
  [at, net, min_prefix, max_prefix, entries, exits, late]: TimedSegmentRow,
  c: Columns,
): [number, Segment] => [c.int(at), toSegment({ net, min_prefix, max_prefix, entries, exits, late }, c)];

/** A segment's values in the order of `SEGMENT_COLUMNS`. */
export const segmentValues = (s: Segment): unknown[] => [s.net, s.min, s.max, s.entries, s.exits, s.late];

/** A minute's values in the order of `ROLLUPS.minute.columns`. */
export const minuteValues = (m: MinuteRow): unknown[] => [...segmentValues(m), m.lastTs, m.lastKey];
