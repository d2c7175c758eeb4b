import { postgresColumns as c, type Columns } from '../../store/columns.ts';
import { copyIn, csv } from '../../store/postgres/copy.ts';
import type { QueryOptions, Queryable } from '../../store/postgres/errors.ts';
import { sequence, type Sequence } from '../../store/postgres/sequence.ts';
import type { PostgresTx, PostgresWing } from '../../store/postgres/wing.ts';
import type {
  Alert,
  AlertKind,
  AuditEntry,
  Correction,
  Delta,
  Doorway,
  OutboxEntry,
  Placement,
  Segment,
  Sensor,
  SensorEvent,
  Space,
  SpaceMove,
} from '../model.ts';
import { postgresMigrations } from './postgres-migrations.ts';
import type {
  AlertQuery,
  AuditQuery,
  CorrectionQuery,
  LastEvent,
  ListQuery,
  MinuteRow,
  Named,
  OccupancyReader,
  OccupancyRepositories,
  OccupancyWriter,
  OccupancyWriters,
  Period,
  PeriodEnd,
  SensorHour,
  SpaceSettings,
  SpaceTime,
  Span,
  UnplacedQuery,
} from './repositories.ts';
import {
  NAMED_TABLES,
  PERIOD_UNDER,
  ROLLUPS,
  rowValues,
  SEGMENT_COLUMNS,
  settingValues,
  toAlert,
  toAudit,
  toCorrection,
  toDoorway,
  toEvent,
  toMinute,
  toMove,
  toOutbox,
  toPlacement,
  toSensor,
  toSpace,
  toTimedSegment,
  toTransfer,
  minuteOfTs,
  spaceToken,
  spacesValue,
  type AlertRow,
  type AuditRow,
  type CorrectionRow,
  type DoorwayRow,
  type EventRow,
  type MinuteDbRow,
  type MoveRow,
  type OutboxRow,
  type PlacementRow,
  type SpaceRow,
  type TimedSegmentRow,
  type TransferRow,
} from './rows.ts';
import { occupancyStorage } from './storage.ts';

/**
 * Where each level's rows live, their step (net change, lowest running sum), their order, and the
 * letter that names a span of them (capital: its total) in a statement name (at most 63 bytes). The
 * delta level reads the events that entered or left the space ($3 is its token) and its transfers.
 */
const LEVEL_ROWS = {
  day: {
    table: 'occupancy_days',
    time: 'day',
    net: 'net',
    min: 'min_prefix',
    order: 'day',
    code: 'd',
    totalCode: 'D',
  },
  hour: {
    table: 'occupancy_hours',
    time: 'hour',
    net: 'net',
    min: 'min_prefix',
    order: 'hour',
    code: 'h',
    totalCode: 'H',
  },
  minute: {
    table: 'occupancy_minutes',
    time: 'minute',
    net: 'net',
    min: 'min_prefix',
    order: 'minute',
    code: 'm',
    totalCode: 'M',
  },
  delta: {
    table: '',
    time: 'ts',
    net: 'delta',
    min: 'least(delta, 0)',
    order: 'ts, kind, key',
    code: 'e',
    totalCode: 'E',
  },
} as const;

/** True for an event (`e`) that entered or left the space whose token is `token`. */
const crosses = (e: string, token: string) =>
  `(strpos(${e}.enters, ${token}) > 0 OR strpos(${e}.leaves, ${token}) > 0)`;
/** An event's delta for the space whose token is `token`: +1 where it entered, −1 where it left. */
const deltaFor = (e: string, token: string) =>
  `CASE WHEN strpos(${e}.enters, ${token}) > 0 THEN 1 ELSE -1 END`;

/**
 * A space's deltas and transfers in each of the ranges [at, at + $5) of `unnest($2, $3, $4)` (space,
 * its token, at), tagged with the range's position `n`, in fold order. Each range is its own index
 * range scan (LATERAL … OFFSET 0): as a join on a range, the planner may hash the ranges and scan
 * every row of the tenant instead.
 */
const DELTAS_IN_RANGES = `
  SELECT k.n, e.ts, 1 AS kind, e.key, ${deltaFor('e', 'k.token')} AS delta, e.late
  FROM unnest($2::text[], $3::text[], $4::int8[]) WITH ORDINALITY AS k(space, token, at, n)
  CROSS JOIN LATERAL (
    SELECT ts, key, enters, leaves, late FROM occupancy_events
    WHERE tenant = $1 AND minute >= k.at - ((k.at % 60000) + 60000) % 60000 AND minute < k.at + $5::int8
      AND ts >= k.at AND ts < k.at + $5::int8
    OFFSET 0) AS e
  WHERE ${crosses('e', 'k.token')}
  UNION ALL
  SELECT k.n, t.ts, 0, t.source, t.amount, false
  FROM unnest($2::text[], $3::text[], $4::int8[]) WITH ORDINALITY AS k(space, token, at, n)
  CROSS JOIN LATERAL (
    SELECT ts, source, amount FROM occupancy_transfers
    WHERE tenant = $1 AND space = k.space AND ts >= k.at AND ts < k.at + $5::int8
    OFFSET 0) AS t
  ORDER BY 1, 2, 3, 4`;

/** Postgres array types of each rolled-up column, for writing rows with unnest. */
const COLUMN_TYPES: Readonly<Record<string, string>> = {
  net: 'int4',
  min_prefix: 'int4',
  max_prefix: 'int4',
  entries: 'int4',
  exits: 'int4',
  late: 'int4',
  area: 'int8',
  last_ts: 'int8',
  last_key: 'text',
};

/** Replacing and deleting many rolled-up rows of a period, each in one statement. */
function putSql(period: Period): { readonly upsert: string; readonly remove: string } {
  const { table, columns } = ROLLUPS[period];
  const arrays = columns.map((k, i) => `$${i + 4}::${COLUMN_TYPES[k]}[]`);
  return {
    upsert: `INSERT INTO ${table} (tenant, space, ${period}, ${columns.join(', ')})
       SELECT $1, * FROM unnest($2::text[], $3::int8[], ${arrays.join(', ')})
       ON CONFLICT (tenant, space, ${period}) DO UPDATE SET ${columns.map((k) => `${k} = excluded.${k}`).join(', ')}`,
    remove: `DELETE FROM ${table} t USING unnest($2::text[], $3::int8[]) AS k(space, at)
       WHERE t.tenant = $1 AND t.space = k.space AND t.${period} = k.at`,
  };
}
const PUT_SQL = { minute: putSql('minute'), hour: putSql('hour'), day: putSql('day') };

const EVENT_COLUMNS = 'minute, sensor, ts, key, direction, received_at, late, placement, enters, leaves';
const HOUR_MS = 3_600_000;

/** Advisory lock a process holds (for its transaction) while it evaluates occupancy alerts. */
const ALERTING_LOCK = 0x62636e04;

/**
 * Occupancy rows in PostgreSQL: the same tables, keys and answers as the SQLite store
 * (sqlite-occupancy.ts). Text keys are `COLLATE "C"`, so every ORDER BY and keyset comparison is
 * bytewise as in SQLite. Reads outside a transaction go through the pool.
 */
interface StepRow {
  readonly span: number;
  readonly n: unknown;
  readonly net: unknown;
  readonly min: unknown;
}

/** The rows of a steps statement (span, n order) as `steps()` answers them. */
function stepsOf(spans: readonly Span[], rows: readonly StepRow[]): number[][] {
  const out = spans.map((): number[] => []);
  for (const r of rows) {
    const steps = out[r.span]!;
    if (spans[r.span]!.total) steps.push(c.int(r.net));
    else steps.push(c.int(r.net), c.int(r.min));
  }
  return out;
}

export class PostgresOccupancyReader implements OccupancyReader {
  readonly readsAhead = true;
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  protected async rows<R extends object>(sql: string | QueryOptions, params: unknown[]): Promise<R[]> {
    return (await this.#db.query<R>(sql, params)).rows;
  }
  protected async row<R extends object>(sql: string, params: unknown[]): Promise<R | undefined> {
    return (await this.rows<R>(sql, params))[0];
  }
  /** bigint counts arrive as text; Beacon's counts are small, so `Number` is exact. */
  protected async count(sql: string, params: unknown[]): Promise<number> {
    return Number((await this.row<{ n: unknown }>(sql, params))?.n ?? 0);
  }

  async #byId<R extends object, T>(
    table: string,
    tenant: string,
    id: string,
    map: (r: R, c: Columns) => T,
  ): Promise<T | undefined> {
    const row = await this.row<R>(`SELECT * FROM ${table} WHERE tenant = $1 AND id = $2`, [tenant, id]);
    return row && map(row, c);
  }
  async #list<R extends object, T>(
    table: string,
    query: ListQuery,
    map: (r: R, c: Columns) => T,
    filters: readonly (readonly [(p: string) => string, unknown])[] = [],
  ): Promise<T[]> {
    const params: unknown[] = [query.tenant, query.after ?? '', query.limit];
    const extra = filters
      .filter(([, v]) => v !== undefined)
      .map(([w, v]) => ` AND ${w(`$${params.push(v)}`)}`)
      .join('');
    const rows = await this.rows<R>(
      `SELECT * FROM ${table} WHERE tenant = $1 AND id > $2${extra} ORDER BY id LIMIT $3`,
      params,
    );
    return rows.map((r) => map(r, c));
  }

  space(tenant: string, id: string) {
    return this.#byId('occupancy_spaces', tenant, id, toSpace);
  }
  spaces(query: ListQuery) {
    return this.#list('occupancy_spaces', query, toSpace);
  }
  async allSpaces(tenant: string) {
    const rows = await this.rows<SpaceRow>('SELECT * FROM occupancy_spaces WHERE tenant = $1 ORDER BY id', [
      tenant,
    ]);
    return rows.map((r) => toSpace(r, c));
  }
  async moves(tenant: string) {
    const rows = await this.rows<MoveRow>(
      'SELECT space, at, parent, created_at FROM occupancy_space_moves WHERE tenant = $1 ORDER BY at, space',
      [tenant],
    );
    return rows.map((r) => toMove(r, c));
  }
  doorway(tenant: string, id: string) {
    return this.#byId('occupancy_doorways', tenant, id, toDoorway);
  }
  doorways(query: ListQuery & { readonly space?: string | undefined }) {
    return this.#list('occupancy_doorways', query, toDoorway, [
      [(p) => `(side_a = ${p} OR side_b = ${p})`, query.space],
    ]);
  }
  async doorwaysById(tenant: string, ids: readonly string[]) {
    const rows = await this.rows<DoorwayRow>(
      'SELECT * FROM occupancy_doorways WHERE tenant = $1 AND id = ANY ($2) ORDER BY id',
      [tenant, [...new Set(ids)]],
    );
    return rows.map((r): Doorway => toDoorway(r, c));
  }
  sensor(tenant: string, id: string) {
    return this.#byId('occupancy_sensors', tenant, id, toSensor);
  }
  sensors(query: ListQuery) {
    return this.#list('occupancy_sensors', query, toSensor);
  }
  async knownSensors(tenant: string, ids: readonly string[]) {
    // One round trip for any number of ids: the primary key is probed once per distinct id.
    const rows = await this.rows<{ id: string }>(
      'SELECT id FROM occupancy_sensors WHERE tenant = $1 AND id = ANY ($2)',
      [tenant, [...new Set(ids)]],
    );
    return new Set(rows.map((r) => r.id));
  }
  placement(tenant: string, id: string) {
    return this.#byId('occupancy_placements', tenant, id, toPlacement);
  }
  placements(
    query: ListQuery & { readonly sensor?: string | undefined; readonly doorway?: string | undefined },
  ) {
    return this.#list('occupancy_placements', query, toPlacement, [
      [(p) => `sensor = ${p}`, query.sensor],
      [(p) => `doorway = ${p}`, query.doorway],
    ]);
  }
  placementsOf(tenant: string, sensors: readonly string[]) {
    return this.#placementsBy('sensor', tenant, sensors);
  }
  placementsOn(tenant: string, doorways: readonly string[]) {
    return this.#placementsBy('doorway', tenant, doorways);
  }
  async #placementsBy(column: 'sensor' | 'doorway', tenant: string, ids: readonly string[]) {
    const rows = await this.rows<PlacementRow>(
      `SELECT * FROM occupancy_placements WHERE tenant = $1 AND ${column} = ANY ($2)
       ORDER BY ${column}, valid_from`,
      [tenant, [...new Set(ids)]],
    );
    return rows.map((r) => toPlacement(r, c));
  }
  placementsOnDoorway(tenant: string, doorway: string) {
    return this.count('SELECT count(*) AS n FROM occupancy_placements WHERE tenant = $1 AND doorway = $2', [
      tenant,
      doorway,
    ]);
  }
  referencesToSpace(tenant: string, space: string) {
    return this.count(
      `SELECT (SELECT count(*) FROM occupancy_spaces WHERE tenant = $1 AND parent = $2)
            + (SELECT count(*) FROM occupancy_space_moves WHERE tenant = $1 AND parent = $2)
            + (SELECT count(*) FROM occupancy_doorways WHERE tenant = $1 AND (side_a = $2 OR side_b = $2)) AS n`,
      [tenant, space],
    );
  }
  async unplaced(query: UnplacedQuery) {
    const params: unknown[] = [query.tenant];
    const where = ['tenant = $1', 'placement IS NULL'];
    if (query.sensor !== undefined) where.push(`sensor = $${params.push(query.sensor)}`);
    if (query.after) {
      const ts = `$${params.push(query.after.ts)}`;
      where.push(`(ts, key) > (${ts}::int8, $${params.push(query.after.key)})`);
    }
    const rows = await this.rows<EventRow>(
      `SELECT * FROM occupancy_events WHERE ${where.join(' AND ')} ORDER BY ts, key LIMIT $${params.push(query.limit)}`,
      params,
    );
    return rows.map((r) => toEvent(r, c));
  }
  unplacedCount(tenant: string, sensor: string) {
    return this.count(
      'SELECT count(*) AS n FROM occupancy_events WHERE tenant = $1 AND sensor = $2 AND placement IS NULL',
      [tenant, sensor],
    );
  }
  async lastEvents(tenant: string, sensors: readonly string[]) {
    const rows = await this.rows<{ sensor: string; ts: unknown; received_at: unknown }>(
      'SELECT sensor, ts, received_at FROM occupancy_sensor_last WHERE tenant = $1 AND sensor = ANY ($2)',
      [tenant, [...new Set(sensors)]],
    );
    return new Map(rows.map((r) => [r.sensor, { ts: c.int(r.ts), receivedAt: c.int(r.received_at) }]));
  }
  async directions(tenant: string, placement: Pick<Placement, 'id' | 'sensor'>, from: number, to: number) {
    // Whole hours from the hourly counts, the rest of the hours at either end from the events.
    const first = Math.ceil(from / HOUR_MS) * HOUR_MS;
    const last = Math.max(first, Math.floor(to / HOUR_MS) * HOUR_MS);
    const hours = await this.row<{ up: unknown; down: unknown }>(
      `SELECT coalesce(sum(up), 0) AS up, coalesce(sum(down), 0) AS down FROM occupancy_sensor_hours
       WHERE tenant = $1 AND sensor = $2 AND hour >= $3 AND hour < $4 AND placement = $5`,
      [tenant, placement.sensor, first, last, placement.id],
    );
    const totals = { up: c.int(hours?.up ?? 0), down: c.int(hours?.down ?? 0) };
    const edges =
      first >= to
        ? [[from, to]]
        : [
            [from, first],
            [last, to],
          ];
    for (const [a, b] of edges) {
      if (a! >= b!) continue;
      for (const e of await this.sensorEvents(tenant, placement.sensor, a!, b!)) {
        if (e.placement !== placement.id) continue;
        if (e.direction === 1) totals.up += 1;
        else totals.down += 1;
      }
    }
    return totals;
  }
  /**
   * A sensor's events in [from, to) in (ts, key) order: the hours it has events in come from the
   * hourly counts, and each hour's events are found minute by minute, in one statement.
   */
  protected async sensorEvents(
    tenant: string,
    sensor: string,
    from: number,
    to: number,
  ): Promise<SensorEvent[]> {
    const rows = await this.rows<EventRow>(
      `SELECT e.* FROM (SELECT DISTINCT hour FROM occupancy_sensor_hours
                        WHERE tenant = $1 AND sensor = $2 AND hour >= $3 AND hour < $4) AS h
       CROSS JOIN LATERAL generate_series(h.hour, h.hour + 3540000, 60000) AS m(minute)
       JOIN occupancy_events e ON e.tenant = $1 AND e.minute = m.minute AND e.sensor = $2
       WHERE e.ts >= $5 AND e.ts < $4
       ORDER BY e.ts, e.key`,
      [tenant, sensor, Math.floor(from / HOUR_MS) * HOUR_MS, to, from],
    );
    return rows.map((r) => toEvent(r, c));
  }
  /**
   * Every span in one statement (one round trip): each arm numbers its rows in time order, and the
   * union is sorted by span and that number.
   */
  async steps(tenant: string, space: string, spans: readonly Span[]) {
    if (spans.length === 0) return [];
    const { arms, params, shape } = this.#stepArms(tenant, space, spans);
    const text = `${arms.join('\nUNION ALL\n')}\nORDER BY span, n`;
    const rows = await this.rows<StepRow>({ name: `occupancy-steps:${shape}`, text }, params);
    return stepsOf(spans, rows);
  }
  /**
   * The space's existence and latest headcount ride in the steps' statement as a first row (span −1:
   * n is 1 when the space exists, net and min the headcount's time and count, null without one), so
   * a count is one statement on one connection rather than three at once.
   */
  async countRead(tenant: string, space: string, before: number, spans: readonly Span[]) {
    const { arms, params, shape } = this.#stepArms(tenant, space, spans);
    const head = `SELECT -1 AS span,
                    (SELECT count(*) FROM occupancy_spaces WHERE tenant = $1 AND id = $2) AS n,
                    h.at AS net, h.count AS min
                  FROM (SELECT 1) AS one LEFT JOIN LATERAL (
                    SELECT at, count FROM occupancy_corrections
                    WHERE tenant = $1 AND space = $2 AND at < $${params.push(before)}
                    ORDER BY at DESC LIMIT 1) AS h ON true`;
    const text = `${[head, ...arms].join('\nUNION ALL\n')}\nORDER BY span, n`;
    const [first, ...rows] = await this.rows<StepRow>({ name: `occupancy-count:${shape}`, text }, params);
    return {
      exists: c.int(first!.n) > 0,
      correction: first!.net === null ? undefined : { at: c.int(first!.net), count: c.int(first!.min) },
      steps: stepsOf(spans, rows),
    };
  }
  /**
   * One SELECT a span, each numbering its rows in time order; the caller unions and sorts them.
   *
   * Each span's bounds are read through a scalar subquery, `(SELECT $n::int8)`: the planner learns
   * their values only when the statement runs, in a custom plan as in a generic one, so both are the
   * same plan at the same estimated cost, and PostgreSQL keeps the generic plan after the fifth
   * execution (a custom plan's cost includes its planning). With the bounds as plain parameters, a
   * custom plan estimated T's minute of events at about a row and the generic plan at 0.5% of the
   * table (50,000 rows at 10 million events, 40 times the cost), so every count was planned afresh
   * (0.3–0.4 ms of its 1.1 ms at 10 million events), though both plans were the same index scans.
   */
  #stepArms(tenant: string, space: string, spans: readonly Span[]) {
    const params: unknown[] = [tenant, space];
    const bound = (value: number) => `(SELECT $${params.push(value)}::int8)`;
    let token: string | undefined;
    const arms = spans.map((span, i) => {
      if (span.level === 'delta') {
        token ??= `$${params.push(spaceToken(space))}`;
        const [from, to, minute] = [bound(span.from), bound(span.to), bound(minuteOfTs(span.from))];
        const d = `SELECT e.ts, 1 AS kind, e.key, ${deltaFor('e', token)} AS delta FROM occupancy_events e
                   WHERE e.tenant = $1 AND e.minute >= ${minute} AND e.minute < ${to} AND e.ts >= ${from}
                     AND e.ts < ${to} AND ${crosses('e', token)}
                   UNION ALL
                   SELECT ts, 0, source, amount FROM occupancy_transfers
                   WHERE tenant = $1 AND space = $2 AND ts >= ${from} AND ts < ${to}`;
        return span.total
          ? `SELECT ${i} AS span, 0::int8 AS n, coalesce(sum(delta), 0) AS net, 0 AS min FROM (${d}) AS d`
          : `SELECT ${i} AS span, row_number() OVER (ORDER BY ts, kind, key) AS n, delta AS net,
                    least(delta, 0) AS min FROM (${d}) AS d`;
      }
      const { table, time, net, min, order } = LEVEL_ROWS[span.level];
      const where = `WHERE tenant = $1 AND space = $2 AND ${time} >= ${bound(span.from)} AND ${time} < ${bound(span.to)}`;
      return span.total
        ? `SELECT ${i} AS span, 0::int8 AS n, coalesce(sum(${net}), 0) AS net, 0 AS min FROM ${table} ${where}`
        : `SELECT ${i} AS span, row_number() OVER (ORDER BY ${order}) AS n, ${net} AS net, ${min} AS min
           FROM ${table} ${where}`;
    });
    // A count has one of a few dozen shapes of spans; each is a named statement, so the server stops
    // planning it (about a third of its time per count) once it keeps the generic plan.
    const shape = spans.map((span) => LEVEL_ROWS[span.level][span.total ? 'totalCode' : 'code']).join('');
    return { arms, params, shape };
  }
  /** Read as arrays, the form SQLite reads them in, so both backends map them alike. */
  async segments(period: Period, tenant: string, space: string, from: number, to: number) {
    const rows = await this.rows<TimedSegmentRow>(
      {
        name: `occupancy-segments:${period}`,
        text: `SELECT ${period}, ${SEGMENT_COLUMNS.join(', ')} FROM ${ROLLUPS[period].table}
               WHERE tenant = $1 AND space = $2 AND ${period} >= $3 AND ${period} < $4 ORDER BY ${period}`,
        rowMode: 'array',
      },
      [tenant, space, from, to],
    );
    return rows.map((r) => toTimedSegment(r, c));
  }
  async deltas(tenant: string, space: string, from: number, to: number) {
    const [deltas] = await this.deltaRanges(tenant, [{ space, at: from }], to - from);
    return deltas!;
  }
  async eventsCrossing(tenant: string, space: string, from: number, to: number) {
    const rows = await this.rows<EventRow>(
      `SELECT * FROM occupancy_events e WHERE e.tenant = $1 AND e.minute >= $2 AND e.minute < $4
         AND e.ts >= $3 AND e.ts < $4 AND ${crosses('e', '$5')}
       ORDER BY e.ts, e.key`,
      [tenant, minuteOfTs(from), from, to, spaceToken(space)],
    );
    return rows.map((r) => toEvent(r, c));
  }
  /** The deltas and transfers of each [at, at + size) of a space, in fold order. */
  protected async deltaRanges(
    tenant: string,
    ranges: readonly SpaceTime[],
    size: number,
  ): Promise<Delta[][]> {
    const out = ranges.map((): Delta[] => []);
    if (ranges.length === 0) return out;
    const rows = await this.rows<{
      n: unknown;
      ts: unknown;
      kind: number;
      key: string;
      delta: number;
      late: boolean;
    }>({ name: 'occupancy-deltas-in', text: DELTAS_IN_RANGES }, [
      tenant,
      ranges.map((r) => r.space),
      ranges.map((r) => spaceToken(r.space)),
      ranges.map((r) => r.at),
      size,
    ]);
    for (const r of rows) {
      const i = c.int(r.n) - 1;
      const space = ranges[i]!.space;
      out[i]!.push(
        r.kind === 0
          ? { space, ts: c.int(r.ts), key: r.key, delta: r.delta, late: false, transfer: true }
          : { space, ts: c.int(r.ts), key: r.key, delta: r.delta, late: r.late },
      );
    }
    return out;
  }
  deltasIn(tenant: string, minutes: readonly SpaceTime[]) {
    return this.deltaRanges(tenant, minutes, 60_000);
  }
  async rowsIn(period: 'minute' | 'hour', tenant: string, parents: readonly SpaceTime[], size: number) {
    const out = parents.map((): [number, Segment][] => []);
    if (parents.length === 0) return out;
    const rows = await this.rows<unknown[]>(
      {
        // Each parent's rows by its own range of the primary key. As a plain join on a range the
        // planner hashes the parents and scans the whole table (a space has many rows, and it cannot
        // tell how few a range keeps): at 2 million events that took 290 ms a batch and grew with the
        // table. OFFSET 0 keeps the subquery apart, so it is an index range scan per parent.
        text: `SELECT k.n, r.*
               FROM unnest($2::text[], $3::int8[]) WITH ORDINALITY AS k(space, at, n)
               CROSS JOIN LATERAL (
                 SELECT ${period}, ${SEGMENT_COLUMNS.join(', ')} FROM ${ROLLUPS[period].table}
                 WHERE tenant = $1 AND space = k.space AND ${period} >= k.at AND ${period} < k.at + $4
                 OFFSET 0) AS r
               ORDER BY 1, 2`,
        rowMode: 'array',
      },
      [tenant, parents.map((p) => p.space), parents.map((p) => p.at), size],
    );
    for (const [n, ...row] of rows)
      out[c.int(n) - 1]!.push(toTimedSegment(row as unknown as TimedSegmentRow, c));
    return out;
  }
  async correctionBefore(tenant: string, space: string, before: number) {
    const row = await this.row<CorrectionRow>(
      `SELECT * FROM occupancy_corrections WHERE tenant = $1 AND space = $2 AND at < $3 ORDER BY at DESC LIMIT 1`,
      [tenant, space, before],
    );
    return row && toCorrection(row, c);
  }
  async corrections(query: CorrectionQuery) {
    const after = query.after ?? { at: query.from - 1, id: '\u{10ffff}' };
    const rows = await this.rows<CorrectionRow>(
      `SELECT * FROM occupancy_corrections WHERE tenant = $1 AND space = $2 AND at >= $3 AND at < $4
         AND (at, id) > ($5::int8, $6::text)
       ORDER BY at, id LIMIT $7`,
      [query.tenant, query.space, query.from, query.to, after.at, after.id, query.limit],
    );
    return rows.map((r) => toCorrection(r, c));
  }
  correction(tenant: string, id: string) {
    return this.#byId('occupancy_corrections', tenant, id, toCorrection);
  }
  async audit(query: AuditQuery) {
    const params: unknown[] = [query.tenant, query.before ?? '\u{10ffff}', query.limit];
    const space = query.space === undefined ? '' : ` AND space = $${params.push(query.space)}`;
    const rows = await this.rows<AuditRow>(
      `SELECT * FROM occupancy_audit WHERE tenant = $1 AND id < $2${space} ORDER BY id DESC LIMIT $3`,
      params,
    );
    return rows.map((r) => toAudit(r, c));
  }
  async openAlerts(tenant: string, kind?: AlertKind) {
    const rows = await this.rows<AlertRow>(
      `SELECT * FROM occupancy_alerts WHERE tenant = $1 AND closed_at IS NULL${kind ? ' AND kind = $2' : ''} ORDER BY id`,
      kind ? [tenant, kind] : [tenant],
    );
    return rows.map((r) => toAlert(r, c));
  }
  async alerts(query: AlertQuery) {
    const params: unknown[] = [query.tenant, query.before ?? '\u{10ffff}', query.limit];
    let where = '';
    if (query.kind !== undefined) where += ` AND kind = $${params.push(query.kind)}`;
    if (query.subject !== undefined) {
      const p = `$${params.push(query.subject)}`;
      where += ` AND (subject = ${p} OR space = ${p})`;
    }
    const rows = await this.rows<AlertRow>(
      `SELECT * FROM occupancy_alerts WHERE tenant = $1 AND id < $2${where} ORDER BY id DESC LIMIT $3`,
      params,
    );
    return rows.map((r) => toAlert(r, c));
  }
  async outbox(query: { tenant: string; limit: number; before?: string | undefined }) {
    const rows = await this.rows<OutboxRow>(
      'SELECT * FROM occupancy_outbox WHERE tenant = $1 AND id < $2 ORDER BY id DESC LIMIT $3',
      [query.tenant, query.before ?? '\u{10ffff}', query.limit],
    );
    return rows.map((r) => toOutbox(r, c));
  }
  modelVersion(tenant: string) {
    return this.count('SELECT version AS n FROM occupancy_model WHERE tenant = $1', [tenant]);
  }
  async tenants() {
    const rows = await this.rows<{ tenant: string }>(
      'SELECT DISTINCT tenant FROM occupancy_spaces ORDER BY tenant',
      [],
    );
    return rows.map((r) => r.tenant);
  }
}

/**
 * Occupancy writes on the connection of one store transaction; its reads see the transaction's own
 * writes. Every write of a sink batch is one statement per kind of row: events are COPYed into a
 * session-local staging table and moved by one `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING
 * key` (the primary key decides which are new, and only those are counted); deltas, minute, hour and
 * day rows go as arrays through `unnest`.
 */
export class PostgresOccupancyWriter extends PostgresOccupancyReader implements OccupancyWriter {
  readonly #tx: PostgresTx;
  /** The transaction's connection, one statement at a time: callers may read several things at once. */
  readonly #sequence: Sequence;
  /** The staging table holds this transaction's earlier batch (it is emptied at commit). */
  #staging = false;

  /** Writes in `tx`. */
  constructor(tx: PostgresTx, sequenced = sequence(tx.client)) {
    super(sequenced);
    this.#tx = tx;
    this.#sequence = sequenced;
  }

  async #run(sql: string, params: unknown[]): Promise<number> {
    return (await this.#sequence.query(sql, params)).rowCount ?? 0;
  }
  /** Raises the tenant's model version: its spaces, moves, doorways, sensors or placements change. */
  async #changed(tenant: string): Promise<void> {
    await this.#run(
      `INSERT INTO occupancy_model AS m (tenant, version) VALUES ($1, 1)
       ON CONFLICT (tenant) DO UPDATE SET version = m.version + 1`,
      [tenant],
    );
  }
  /** Runs a statement that changes at most one row; true when it did. */
  async #one(sql: string, params: unknown[]): Promise<boolean> {
    return (await this.#run(sql, params)) === 1;
  }
  /**
   * A change to the tenant's spaces, moves, doorways, sensors or placements: raises its model version,
   * runs `first`, then `sql`, which changes at most one row; true when it did.
   */
  async #modelChange(
    tenant: string,
    sql: string,
    params: unknown[],
    first: readonly (readonly [string, unknown[]])[] = [],
  ): Promise<boolean> {
    await this.#changed(tenant);
    for (const [before, values] of first) await this.#run(before, values);
    return this.#one(sql, params);
  }

  async rename(kind: Named, tenant: string, id: string, name: string) {
    return this.#modelChange(
      tenant,
      `UPDATE ${NAMED_TABLES[kind]} SET name = $1 WHERE tenant = $2 AND id = $3`,
      [name, tenant, id],
    );
  }
  async delete(kind: Named, tenant: string, id: string) {
    return this.#modelChange(
      tenant,
      `DELETE FROM ${NAMED_TABLES[kind]} WHERE tenant = $1 AND id = $2`,
      [tenant, id],
      kind === 'space'
        ? [
            ['DELETE FROM occupancy_space_moves WHERE tenant = $1 AND space = $2', [tenant, id]],
            ['DELETE FROM occupancy_corrections WHERE tenant = $1 AND space = $2', [tenant, id]],
          ]
        : [],
    );
  }
  async insertSpace(tenant: string, s: Space) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_spaces (tenant, id, name, parent, created_at, capacity, alert_after_minutes, open_hours)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [tenant, s.id, s.name, s.parent, s.createdAt, ...settingValues(s)],
    );
  }
  async updateSpace(tenant: string, id: string, settings: SpaceSettings) {
    return this.#modelChange(
      tenant,
      `UPDATE occupancy_spaces SET capacity = $1, alert_after_minutes = $2, open_hours = $3 WHERE tenant = $4 AND id = $5`,
      [...settingValues(settings), tenant, id],
    );
  }
  async insertMove(tenant: string, m: SpaceMove) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_space_moves (tenant, space, at, parent, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [tenant, m.space, m.at, m.parent, m.createdAt],
    );
  }
  async deleteMove(tenant: string, space: string, at: number) {
    return this.#modelChange(
      tenant,
      'DELETE FROM occupancy_space_moves WHERE tenant = $1 AND space = $2 AND at = $3',
      [tenant, space, at],
    );
  }
  async insertDoorway(tenant: string, d: Doorway) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_doorways (tenant, id, name, side_a, side_b, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING`,
      [tenant, d.id, d.name, d.a, d.b, d.createdAt],
    );
  }
  async insertSensor(tenant: string, s: Sensor) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_sensors (tenant, id, name, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [tenant, s.id, s.name, s.createdAt],
    );
  }
  async insertPlacement(tenant: string, p: Placement) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_placements (tenant, id, sensor, doorway, positive_side, valid_from, valid_to, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [tenant, p.id, p.sensor, p.doorway, p.positive, p.from, p.to, p.createdAt],
    );
  }
  async updatePlacement(tenant: string, p: Placement) {
    await this.#modelChange(
      tenant,
      `UPDATE occupancy_placements SET doorway = $1, positive_side = $2, valid_from = $3, valid_to = $4
       WHERE tenant = $5 AND id = $6`,
      [p.doorway, p.positive, p.from, p.to, tenant, p.id],
    );
  }
  async deletePlacement(tenant: string, id: string) {
    return this.#modelChange(tenant, 'DELETE FROM occupancy_placements WHERE tenant = $1 AND id = $2', [
      tenant,
      id,
    ]);
  }

  async insertEvents(tenant: string, events: readonly SensorEvent[]) {
    if (events.length === 0) return [];
    const lines = events.map(
      (e, n) =>
        `${n},${minuteOfTs(e.ts)},${csv(e.sensor)},${e.ts},${csv(e.key)},${e.direction},${e.receivedAt},${e.late},${csv(e.placement)},${csv(spacesValue(e.enters))},${csv(spacesValue(e.leaves))}\n`,
    );
    // Staging, COPY and the move belong together: nothing else runs on the connection between them.
    const rows = await this.#sequence.run(async (client) => {
      // ON COMMIT DELETE ROWS: the table is emptied by every commit, so batches never see each other.
      const made = await this.#tx.stage(
        'stage_occupancy_events',
        `CREATE TEMP TABLE IF NOT EXISTS stage_occupancy_events (
          n integer NOT NULL, minute bigint NOT NULL, sensor text COLLATE "C" NOT NULL, ts bigint NOT NULL,
          key text COLLATE "C" NOT NULL, direction smallint NOT NULL, received_at bigint NOT NULL,
          late boolean NOT NULL, placement text COLLATE "C", enters text, leaves text
        ) ON COMMIT DELETE ROWS`,
      );
      if (!made && this.#staging) await client.query('TRUNCATE stage_occupancy_events');
      this.#staging = true;
      await copyIn(
        client,
        `COPY stage_occupancy_events (n, ${EVENT_COLUMNS}) FROM STDIN (FORMAT csv)`,
        lines,
      );
      // Rows go in batch order, so of two with one key the first is kept, as in SQLite.
      const moved = await client.query<{ key: string }>(
        `INSERT INTO occupancy_events (tenant, ${EVENT_COLUMNS})
         SELECT $1, ${EVENT_COLUMNS} FROM stage_occupancy_events ORDER BY n
         ON CONFLICT DO NOTHING
         RETURNING key`,
        [tenant],
      );
      return moved.rows;
    });
    const fresh = new Set(rows.map((r) => r.key));
    return events.filter((e) => fresh.delete(e.key));
  }
  eventsOf(tenant: string, sensor: string, from: number, to: number | null) {
    return this.sensorEvents(tenant, sensor, from, to ?? Number.MAX_SAFE_INTEGER);
  }
  async setCounted(tenant: string, events: readonly SensorEvent[]) {
    if (events.length === 0) return;
    await this.#run(
      `UPDATE occupancy_events e SET placement = v.placement, enters = v.enters, leaves = v.leaves
       FROM unnest($2::int8[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[])
         AS v(minute, sensor, ts, key, placement, enters, leaves)
       WHERE e.tenant = $1 AND e.minute = v.minute AND e.sensor = v.sensor AND e.ts = v.ts AND e.key = v.key`,
      [
        tenant,
        events.map((e) => minuteOfTs(e.ts)),
        events.map((e) => e.sensor),
        events.map((e) => e.ts),
        events.map((e) => e.key),
        events.map((e) => e.placement),
        events.map((e) => spacesValue(e.enters)),
        events.map((e) => spacesValue(e.leaves)),
      ],
    );
  }
  async addSensorHours(tenant: string, counts: readonly SensorHour[]) {
    if (counts.length === 0) return;
    const columns = [
      counts.map((h) => h.hour),
      counts.map((h) => h.sensor),
      counts.map((h) => h.placement),
      counts.map((h) => h.up),
      counts.map((h) => h.down),
    ];
    await this.#run(
      `INSERT INTO occupancy_sensor_hours AS h (tenant, hour, sensor, placement, up, down)
       SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::text[], $5::int4[], $6::int4[])
       ON CONFLICT (tenant, hour, sensor, placement) DO UPDATE SET up = h.up + excluded.up, down = h.down + excluded.down`,
      [tenant, ...columns],
    );
    if (counts.some((h) => h.up < 0 || h.down < 0)) {
      await this.#run(
        `DELETE FROM occupancy_sensor_hours h USING unnest($2::int8[], $3::text[], $4::text[]) AS k(hour, sensor, placement)
         WHERE h.tenant = $1 AND h.hour = k.hour AND h.sensor = k.sensor AND h.placement = k.placement
           AND h.up = 0 AND h.down = 0`,
        [tenant, ...columns.slice(0, 3)],
      );
    }
  }
  async noteLastEvents(tenant: string, events: readonly (LastEvent & { readonly sensor: string })[]) {
    if (events.length === 0) return;
    await this.#run(
      `INSERT INTO occupancy_sensor_last AS l (tenant, sensor, ts, received_at)
       SELECT $1, * FROM unnest($2::text[], $3::int8[], $4::int8[])
       ON CONFLICT (tenant, sensor) DO UPDATE
       SET ts = greatest(l.ts, excluded.ts), received_at = greatest(l.received_at, excluded.received_at)`,
      [tenant, events.map((e) => e.sensor), events.map((e) => e.ts), events.map((e) => e.receivedAt)],
    );
  }
  async transfersOf(tenant: string, source: string, at: number) {
    const rows = await this.rows<TransferRow>(
      `SELECT space, ts, source, amount FROM occupancy_transfers WHERE tenant = $1 AND source = $2 AND ts = $3
       ORDER BY space`,
      [tenant, source, at],
    );
    return rows.map((r) => toTransfer(r, c));
  }
  async takeTransfers(tenant: string, source: string, at: number) {
    const rows = await this.rows<TransferRow>(
      `DELETE FROM occupancy_transfers WHERE tenant = $1 AND source = $2 AND ts = $3
       RETURNING space, ts, source, amount`,
      [tenant, source, at],
    );
    return rows.map((r) => toTransfer(r, c));
  }
  async insertTransfers(tenant: string, transfers: readonly Delta[]) {
    if (transfers.length === 0) return;
    await this.#run(
      `INSERT INTO occupancy_transfers (tenant, space, ts, source, amount)
       SELECT $1, * FROM unnest($2::text[], $3::int8[], $4::text[], $5::int4[])`,
      [
        tenant,
        transfers.map((t) => t.space),
        transfers.map((t) => t.ts),
        transfers.map((t) => t.key),
        transfers.map((t) => t.delta),
      ],
    );
  }
  async minuteRows(tenant: string, minutes: readonly SpaceTime[]) {
    if (minutes.length === 0) return [];
    const rows = await this.rows<MinuteDbRow & { n: unknown }>(
      `SELECT k.n, m.* FROM unnest($2::text[], $3::int8[]) WITH ORDINALITY AS k(space, at, n)
       JOIN occupancy_minutes m ON m.tenant = $1 AND m.space = k.space AND m.minute = k.at`,
      [tenant, minutes.map((m) => m.space), minutes.map((m) => m.at)],
    );
    const out: (MinuteRow | undefined)[] = minutes.map(() => undefined);
    for (const r of rows) out[c.int(r.n) - 1] = toMinute(r, c);
    return out;
  }
  async periodEnds(
    period: 'hour' | 'day',
    tenant: string,
    probes: readonly (SpaceTime & { after: number })[],
  ): Promise<PeriodEnd[]> {
    if (probes.length === 0) return [];
    const { child, size } = PERIOD_UNDER[period];
    const rows = await this.rows<unknown[]>(
      {
        // Each probe its own primary-key lookups (LATERAL … OFFSET 0), as in rowsIn.
        text: `SELECT k.n, r.*, EXISTS (
                 SELECT 1 FROM ${ROLLUPS[child].table}
                 WHERE tenant = $1 AND space = k.space AND ${child} > k.after AND ${child} < k.at + $5) AS later
               FROM unnest($2::text[], $3::int8[], $4::int8[]) WITH ORDINALITY AS k(space, at, after, n)
               LEFT JOIN LATERAL (
                 SELECT ${period}, ${SEGMENT_COLUMNS.join(', ')} FROM ${ROLLUPS[period].table}
                 WHERE tenant = $1 AND space = k.space AND ${period} = k.at
                 OFFSET 0) AS r ON true`,
        rowMode: 'array',
      },
      [tenant, probes.map((p) => p.space), probes.map((p) => p.at), probes.map((p) => p.after), size],
    );
    const out = probes.map((): PeriodEnd => ({ row: undefined, later: false }));
    for (const [n, ...rest] of rows) {
      const later = rest.pop() === true;
      const row = rest[0] === null ? undefined : toTimedSegment(rest as unknown as TimedSegmentRow, c)[1];
      out[c.int(n) - 1] = { row, later };
    }
    return out;
  }
  async putRows(
    period: Period,
    tenant: string,
    rows: readonly (SpaceTime & { row: Segment | MinuteRow | undefined })[],
  ) {
    const { upsert, remove } = PUT_SQL[period];
    const kept = rows.filter((r) => r.row !== undefined);
    const gone = rows.filter((r) => r.row === undefined);
    if (kept.length > 0) {
      const values = kept.map((r) => rowValues(period, r.row!));
      const columns = ROLLUPS[period].columns.map((_, i) => values.map((v) => v[i]));
      await this.#run(upsert, [tenant, kept.map((r) => r.space), kept.map((r) => r.at), ...columns]);
    }
    if (gone.length > 0) await this.#run(remove, [tenant, gone.map((r) => r.space), gone.map((r) => r.at)]);
  }
  async resetProjection() {
    // TRUNCATE rather than DELETE: replay empties tables of any size at once, inside its transaction.
    await this.#sequence.query(
      `TRUNCATE occupancy_events, occupancy_transfers, occupancy_minutes, occupancy_hours, occupancy_days,
         occupancy_sensor_hours, occupancy_sensor_last`,
    );
  }
  async putCorrection(tenant: string, k: Correction) {
    const old = await this.row<CorrectionRow>(
      'DELETE FROM occupancy_corrections WHERE tenant = $1 AND space = $2 AND at = $3 RETURNING *',
      [tenant, k.space, k.at],
    );
    await this.#run(
      `INSERT INTO occupancy_corrections (tenant, id, space, at, count, note, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [tenant, k.id, k.space, k.at, k.count, k.note, k.createdAt, k.createdBy],
    );
    return old && toCorrection(old, c);
  }
  deleteCorrection(tenant: string, id: string) {
    return this.#one('DELETE FROM occupancy_corrections WHERE tenant = $1 AND id = $2', [tenant, id]);
  }
  async insertAudit(tenant: string, e: AuditEntry) {
    await this.#run(
      'INSERT INTO occupancy_audit (tenant, id, at, actor, action, space, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [tenant, e.id, e.at, e.actor, e.action, e.space, JSON.stringify(e.detail)],
    );
  }
  async claimAlerting() {
    const { rows } = await this.#sequence.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_xact_lock($1) AS ok',
      [ALERTING_LOCK],
    );
    return rows[0]!.ok;
  }
  async openAlert(tenant: string, a: Alert) {
    await this.#run(
      `INSERT INTO occupancy_alerts (tenant, id, kind, subject, space, opened_at, closed_at, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [tenant, a.id, a.kind, a.subject, a.space, a.openedAt, a.closedAt, JSON.stringify(a.detail)],
    );
  }
  async closeAlert(tenant: string, id: string, closedAt: number) {
    await this.#run('UPDATE occupancy_alerts SET closed_at = $1 WHERE tenant = $2 AND id = $3', [
      closedAt,
      tenant,
      id,
    ]);
  }
  async enqueue(e: OutboxEntry) {
    await this.#run(
      `INSERT INTO occupancy_outbox (id, tenant, event, created_at, attempts, next_attempt_at, lease_until, delivered_at, last_error)
       VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)`,
      [
        e.id,
        e.tenant,
        JSON.stringify(e.event),
        e.createdAt,
        e.attempts,
        e.nextAttemptAt,
        e.deliveredAt,
        e.lastError,
      ],
    );
  }
  async claimOutbox(now: number, leaseMs: number, limit: number) {
    // SKIP LOCKED: two processes claiming at once take different rows instead of waiting.
    const rows = await this.rows<OutboxRow>(
      `UPDATE occupancy_outbox SET lease_until = $1, attempts = attempts + 1
       WHERE id IN (SELECT id FROM occupancy_outbox WHERE next_attempt_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                    ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now + leaseMs, now, limit],
    );
    return rows.map((r) => toOutbox(r, c)).sort((a, b) => (a.id < b.id ? -1 : 1));
  }
  async settleOutbox(
    id: string,
    outcome: { deliveredAt: number } | { error: string; retryAt: number | null },
  ) {
    if ('deliveredAt' in outcome) {
      await this.#run(
        `UPDATE occupancy_outbox SET delivered_at = $1, next_attempt_at = NULL, lease_until = NULL, last_error = NULL
         WHERE id = $2`,
        [outcome.deliveredAt, id],
      );
    } else {
      await this.#run(
        'UPDATE occupancy_outbox SET next_attempt_at = $1, lease_until = NULL, last_error = $2 WHERE id = $3',
        [outcome.retryAt, outcome.error, id],
      );
    }
  }
}

/** Occupancy on PostgreSQL: the reader on the pool, the writer on each transaction's connection. */
export const postgresOccupancy: PostgresWing<OccupancyRepositories, OccupancyWriters> = {
  name: 'occupancy',
  storage: occupancyStorage,
  migrations: postgresMigrations,
  open: ({ db }) => ({
    repositories: { occupancy: new PostgresOccupancyReader(db) },
    writers: (tx) => ({ occupancy: new PostgresOccupancyWriter(tx) }),
  }),
};
