import type { Columns } from '../../store/columns.ts';
import type {
  Alert,
  AlertKind,
  AuditEntry,
  Correction,
  Delta,
  Doorway,
  OccupancyEvent,
  OpenHours,
  OutboxEntry,
  Placement,
  Segment,
  Sensor,
  SensorEvent,
  Side,
  Space,
  SpaceMove,
} from '../model.ts';
import type { MinuteRow, Named, Period } from './repositories.ts';

/** An `occupancy_spaces` row as either driver returns it (see `Columns`). */
export interface SpaceRow {
  readonly id: string;
  readonly name: string;
  readonly parent: string | null;
  readonly created_at: unknown;
  readonly capacity: unknown;
  readonly alert_after_minutes: unknown;
  readonly open_hours: unknown;
}

/** An `occupancy_space_moves` row as either driver returns it. */
export interface MoveRow {
  readonly space: string;
  readonly at: unknown;
  readonly parent: string | null;
  readonly created_at: unknown;
}

/** An `occupancy_transfers` row as either driver returns it. */
export interface TransferRow {
  readonly space: string;
  readonly ts: unknown;
  readonly source: string;
  readonly amount: unknown;
}

/** An `occupancy_corrections` row as either driver returns it. */
export interface CorrectionRow {
  readonly id: string;
  readonly space: string;
  readonly at: unknown;
  readonly count: unknown;
  readonly note: string;
  readonly created_at: unknown;
  readonly created_by: string;
}

/** An `occupancy_audit` row as either driver returns it. */
export interface AuditRow {
  readonly id: string;
  readonly at: unknown;
  readonly actor: string;
  readonly action: string;
  readonly space: string;
  readonly detail: unknown;
}

/** An `occupancy_alerts` row as either driver returns it. */
export interface AlertRow {
  readonly id: string;
  readonly kind: string;
  readonly subject: string;
  readonly space: string | null;
  readonly opened_at: unknown;
  readonly closed_at: unknown;
  readonly detail: unknown;
}

/** An `occupancy_outbox` row as either driver returns it. */
export interface OutboxRow {
  readonly id: string;
  readonly tenant: string;
  readonly event: unknown;
  readonly created_at: unknown;
  readonly attempts: unknown;
  readonly next_attempt_at: unknown;
  readonly delivered_at: unknown;
  readonly last_error: string | null;
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
  readonly enters: string | null;
  readonly leaves: string | null;
}

/** The segment columns of a minute, hour or day row, as either driver returns them. */
export interface SegmentRow {
  readonly net: unknown;
  readonly min_prefix: unknown;
  readonly max_prefix: unknown;
  readonly entries: unknown;
  readonly exits: unknown;
  readonly late: unknown;
  readonly area: unknown;
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
export const SEGMENT_COLUMNS = [
  'net',
  'min_prefix',
  'max_prefix',
  'entries',
  'exits',
  'late',
  'area',
] as const;

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
  area: unknown,
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

/** The level of rows under an hour and under a day, and the period's length. */
export const PERIOD_UNDER = {
  hour: { child: 'minute', size: 3_600_000 },
  day: { child: 'hour', size: 86_400_000 },
} as const;

/** The space a row holds. */
export const toSpace = (r: SpaceRow, c: Columns): Space => ({
  id: r.id,
  name: r.name,
  parent: r.parent,
  createdAt: c.int(r.created_at),
  capacity: c.intOrNull(r.capacity),
  alertAfterMinutes: c.intOrNull(r.alert_after_minutes),
  openHours: r.open_hours === null ? null : c.json<OpenHours[]>(r.open_hours),
});

/** A space's settings as the values of (capacity, alert_after_minutes, open_hours). */
export const settingValues = (s: Pick<Space, 'capacity' | 'alertAfterMinutes' | 'openHours'>): unknown[] => [
  s.capacity ?? null,
  s.alertAfterMinutes ?? null,
  s.openHours == null ? null : JSON.stringify(s.openHours),
];

/** The move a row holds. */
export const toMove = (r: MoveRow, c: Columns): SpaceMove => ({
  space: r.space,
  at: c.int(r.at),
  parent: r.parent,
  createdAt: c.int(r.created_at),
});

/** A transfer row as the delta it counts as. */
export const toTransfer = (r: TransferRow, c: Columns): Delta => ({
  space: r.space,
  ts: c.int(r.ts),
  key: r.source,
  delta: c.int(r.amount),
  late: false,
  transfer: true,
});

/** The correction a row holds. */
export const toCorrection = (r: CorrectionRow, c: Columns): Correction => ({
  id: r.id,
  space: r.space,
  at: c.int(r.at),
  count: c.int(r.count),
  note: r.note,
  createdAt: c.int(r.created_at),
  createdBy: r.created_by,
});

/** The audit entry a row holds. */
export const toAudit = (r: AuditRow, c: Columns): AuditEntry => ({
  id: r.id,
  at: c.int(r.at),
  actor: r.actor,
  action: r.action,
  space: r.space,
  detail: c.json<Record<string, unknown>>(r.detail),
});

/** The alert a row holds. */
export const toAlert = (r: AlertRow, c: Columns): Alert => ({
  id: r.id,
  kind: r.kind as AlertKind,
  subject: r.subject,
  space: r.space,
  openedAt: c.int(r.opened_at),
  closedAt: c.intOrNull(r.closed_at),
  detail: c.json<Record<string, unknown>>(r.detail),
});

/** The outbox entry a row holds. */
export const toOutbox = (r: OutboxRow, c: Columns): OutboxEntry => ({
  id: r.id,
  tenant: r.tenant,
  event: c.json<OccupancyEvent>(r.event),
  createdAt: c.int(r.created_at),
  attempts: c.int(r.attempts),
  nextAttemptAt: c.intOrNull(r.next_attempt_at),
  deliveredAt: c.intOrNull(r.delivered_at),
  lastError: r.last_error,
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
  ...(r.enters === null ? {} : { enters: JSON.parse(r.enters) as string[] }),
  ...(r.leaves === null ? {} : { leaves: JSON.parse(r.leaves) as string[] }),
});

/**
 * The `enters` or `leaves` column of an event: a JSON array of space ids, NULL for none. A space is
 * found in it by its JSON text (`spaceToken`): inside the array that text can only be a whole element.
 */
export function spacesValue(spaces: readonly string[] | undefined): string | null {
  if (!spaces || spaces.length === 0) return null;
  let json = spacesJson.get(spaces);
  if (json === undefined) spacesJson.set(spaces, (json = JSON.stringify(spaces)));
  return json;
}
/** The text of lists the counter shares between events (one per placement, direction and tree). */
const spacesJson = new WeakMap<readonly string[], string>();

/** What a space's id looks like inside an `enters` or `leaves` column. */
export const spaceToken = (space: string): string => JSON.stringify(space);

/** The deltas an event's row stands for: +1 in each space it entered, −1 in each it left. */
export const eventDeltas = (e: SensorEvent): Delta[] => [
  ...(e.enters ?? []).map((space) => ({ space, ts: e.ts, key: e.key, delta: 1, late: e.late })),
  ...(e.leaves ?? []).map((space) => ({ space, ts: e.ts, key: e.key, delta: -1, late: e.late })),
];

/** The minute an event is kept under. */
export const minuteOfTs = (ts: number): number => Math.floor(ts / 60_000) * 60_000;

/** The segment of a minute, hour or day row. */
export const toSegment = (r: SegmentRow, c: Columns): Segment => ({
  net: c.int(r.net),
  min: c.int(r.min_prefix),
  max: c.int(r.max_prefix),
  entries: c.int(r.entries),
  exits: c.int(r.exits),
  late: c.int(r.late),
  area: c.int(r.area),
});

/** A minute row: its segment and its last delta. */
export const toMinute = (r: MinuteDbRow, c: Columns): MinuteRow => ({
  ...toSegment(r, c),
  lastTs: c.int(r.last_ts),
  lastKey: r.last_key,
});

/** A row's start and segment. */
export const toTimedSegment = (
  [at, net, min_prefix, max_prefix, entries, exits, late, area]: TimedSegmentRow,
  c: Columns,
): [number, Segment] => [
  c.int(at),
  toSegment({ net, min_prefix, max_prefix, entries, exits, late, area }, c),
];

/** A segment's values in the order of `SEGMENT_COLUMNS`. */
export const segmentValues = (s: Segment): unknown[] => [
  s.net,
  s.min,
  s.max,
  s.entries,
  s.exits,
  s.late,
  s.area,
];

/** A row's values in the order of its period's columns (`ROLLUPS`): a minute also keeps its last delta. */
export const rowValues = (period: Period, row: Segment | MinuteRow): unknown[] =>
  period === 'minute'
    ? [...segmentValues(row), (row as MinuteRow).lastTs, (row as MinuteRow).lastKey]
    : segmentValues(row);
