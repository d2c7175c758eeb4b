import { sqliteColumns as c, type Columns } from '../../store/columns.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import type { SqliteDatabase, Statement } from '../../sqlite/database.ts';
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
import { sqliteMigrations } from './sqlite-migrations.ts';
import { occupancyStorage } from './storage.ts';

/** Up to this many ids are looked up one by one; more, and the tenant's rows are scanned once. */
const FEW = 32;
const HOUR_MS = 3_600_000;
/** Rows per INSERT: one statement per row spent most of the sink's time crossing into SQLite. */
const ROWS_PER_INSERT = 100;

/** Where each level's rows live, and their step (net change, lowest running sum). */
const LEVEL_ROWS = {
  day: { table: 'occupancy_days', time: 'day', net: 'net', min: 'min_prefix' },
  hour: { table: 'occupancy_hours', time: 'hour', net: 'net', min: 'min_prefix' },
  minute: { table: 'occupancy_minutes', time: 'minute', net: 'net', min: 'min_prefix' },
} as const;

/** The events of [@from, @to) that entered or left the space whose token is @token. */
const CROSSING = `FROM occupancy_events
  WHERE tenant = @tenant AND minute >= @minute AND minute < @to AND ts >= @from AND ts < @to
    AND (instr(enters, @token) > 0 OR instr(leaves, @token) > 0)`;

/**
 * A space's deltas and transfers with ts in [@from, @to) (parameters: `crossingParams`), in fold
 * order: by time, a transfer before the crossings of its millisecond, then by key. A crossing's delta
 * is +1 where it entered the space, −1 where it left.
 */
const DELTAS_AND_TRANSFERS = `
  SELECT ts, 1 AS kind, key, CASE WHEN instr(enters, @token) > 0 THEN 1 ELSE -1 END, late ${CROSSING}
  UNION ALL
  SELECT ts, 0 AS kind, source, amount, 0 FROM occupancy_transfers
  WHERE tenant = @tenant AND space = @space AND ts >= @from AND ts < @to
  ORDER BY 1, 2, 3`;

/** The parameters of `DELTAS_AND_TRANSFERS` and `CROSSING`. */
const crossingParams = (tenant: string, space: string, from: number, to: number) => ({
  tenant,
  space,
  from,
  to,
  token: spaceToken(space),
  minute: minuteOfTs(from),
});

/** A row of `DELTAS_AND_TRANSFERS`, read as an array. */
type DeltaOrTransfer = [ts: number, kind: number, key: string, delta: number, late: number];
const toFoldDelta = (space: string, [ts, kind, key, delta, late]: DeltaOrTransfer): Delta =>
  kind === 0
    ? { space, ts, key, delta, late: false, transfer: true }
    : { space, ts, key, delta, late: late === 1 };

/** Replacing and deleting one rolled-up row of a period. */
function putSql(period: Period): { readonly upsert: string; readonly remove: string } {
  const { table, columns } = ROLLUPS[period];
  return {
    upsert: `INSERT INTO ${table} (tenant, space, ${period}, ${columns.join(', ')})
       VALUES (${['?', '?', '?', ...columns.map(() => '?')].join(', ')})
       ON CONFLICT (tenant, space, ${period}) DO UPDATE SET ${columns.map((k) => `${k} = excluded.${k}`).join(', ')}`,
    remove: `DELETE FROM ${table} WHERE tenant = ? AND space = ? AND ${period} = ?`,
  };
}
const PUT_SQL = { minute: putSql('minute'), hour: putSql('hour'), day: putSql('day') };

const EVENT_COLUMNS = [
  'tenant',
  'minute',
  'sensor',
  'ts',
  'key',
  'direction',
  'received_at',
  'late',
  'placement',
  'enters',
  'leaves',
];
/** Minutes of an hour, as the parameters of `minute IN (…)`: a sensor's events are found minute by minute. */
const MINUTES_OF_HOUR = Array.from({ length: 60 }, () => '?').join(', ');

/**
 * Occupancy rows in SQLite: the same tables, keys and answers as the PostgreSQL store
 * (postgres-occupancy.ts); all counting logic lives in src/occupancy/. Reads outside a transaction use
 * the read connection.
 */
export class SqliteOccupancyReader implements OccupancyReader {
  readonly readsAhead = false;
  readonly #db: SqliteDatabase;
  /** Prepared statements by their SQL, or by a name for the composed ones read as arrays. */
  readonly #statements = new Map<string, Statement>();

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  /** The statement of `sql`, prepared once for this connection. */
  protected prepared(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) this.#statements.set(sql, (statement = this.#db.prepare(sql)));
    return statement;
  }
  protected row<R>(sql: string, params: unknown[]): R | undefined {
    return this.prepared(sql).get(...params) as R | undefined;
  }
  protected rows<R>(sql: string, params: unknown[]): R[] {
    return this.prepared(sql).all(...params) as R[];
  }
  protected count(sql: string, params: unknown[]): Promise<number> {
    return Promise.resolve(Number(this.row<{ n: unknown }>(sql, params)?.n ?? 0));
  }
  /**
   * A statement whose rows are arrays, not objects (every count reads up to a few hundred rows, and
   * every sink batch composes hundreds of hours from their minutes), made from `sql` on first use.
   */
  protected raw(id: string, sql: () => string): Statement {
    let statement = this.#statements.get(id);
    if (!statement) this.#statements.set(id, (statement = this.#db.prepare(sql()).raw(true)));
    return statement;
  }

  #byId<R, T>(
    table: string,
    tenant: string,
    id: string,
    map: (r: R, c: Columns) => T,
  ): Promise<T | undefined> {
    const row = this.row<R>(`SELECT * FROM ${table} WHERE tenant = ? AND id = ?`, [tenant, id]);
    return Promise.resolve(row && map(row, c));
  }
  #list<R, T>(
    table: string,
    query: ListQuery,
    map: (r: R, c: Columns) => T,
    filters: readonly (readonly [string, unknown])[] = [],
  ): Promise<T[]> {
    const present = filters.filter(([, v]) => v !== undefined);
    const rows = this.rows<R>(
      `SELECT * FROM ${table} WHERE tenant = ? AND id > ?${present.map(([w]) => ` AND ${w}`).join('')}
       ORDER BY id LIMIT ?`,
      [
        query.tenant,
        query.after ?? '',
        ...present.flatMap(([w, v]) =>
          w
            .split('?')
            .slice(1)
            .map(() => v),
        ),
        query.limit,
      ],
    );
    return Promise.resolve(rows.map((r) => map(r, c)));
  }
  /** One lookup per id for a few, one scan of the tenant's rows for many. */
  #some<R extends { id: string }, T>(
    table: string,
    tenant: string,
    ids: readonly string[],
    map: (r: R, c: Columns) => T,
  ): Promise<T[]> {
    const wanted = new Set(ids);
    if (wanted.size > FEW) {
      const rows = this.rows<R>(`SELECT * FROM ${table} WHERE tenant = ?`, [tenant]);
      return Promise.resolve(rows.filter((r) => wanted.has(r.id)).map((r) => map(r, c)));
    }
    const out: T[] = [];
    for (const id of wanted) {
      const row = this.row<R>(`SELECT * FROM ${table} WHERE tenant = ? AND id = ?`, [tenant, id]);
      if (row) out.push(map(row, c));
    }
    return Promise.resolve(out);
  }

  space(tenant: string, id: string) {
    return this.#byId('occupancy_spaces', tenant, id, toSpace);
  }
  spaces(query: ListQuery) {
    return this.#list('occupancy_spaces', query, toSpace);
  }
  allSpaces(tenant: string) {
    const rows = this.rows<SpaceRow>('SELECT * FROM occupancy_spaces WHERE tenant = ? ORDER BY id', [tenant]);
    return Promise.resolve(rows.map((r) => toSpace(r, c)));
  }
  moves(tenant: string) {
    const rows = this.rows<MoveRow>(
      'SELECT space, at, parent, created_at FROM occupancy_space_moves WHERE tenant = ? ORDER BY at, space',
      [tenant],
    );
    return Promise.resolve(rows.map((r) => toMove(r, c)));
  }
  doorway(tenant: string, id: string) {
    return this.#byId('occupancy_doorways', tenant, id, toDoorway);
  }
  doorways(query: ListQuery & { readonly space?: string | undefined }) {
    return this.#list('occupancy_doorways', query, toDoorway, [['(side_a = ? OR side_b = ?)', query.space]]);
  }
  doorwaysById(tenant: string, ids: readonly string[]) {
    return this.#some<DoorwayRow, Doorway>('occupancy_doorways', tenant, ids, toDoorway);
  }
  sensor(tenant: string, id: string) {
    return this.#byId('occupancy_sensors', tenant, id, toSensor);
  }
  sensors(query: ListQuery) {
    return this.#list('occupancy_sensors', query, toSensor);
  }
  async knownSensors(tenant: string, ids: readonly string[]) {
    const rows = await this.#some<{ id: string }, string>('occupancy_sensors', tenant, ids, (r) => r.id);
    return new Set(rows);
  }
  placement(tenant: string, id: string) {
    return this.#byId('occupancy_placements', tenant, id, toPlacement);
  }
  placements(
    query: ListQuery & { readonly sensor?: string | undefined; readonly doorway?: string | undefined },
  ) {
    return this.#list('occupancy_placements', query, toPlacement, [
      ['sensor = ?', query.sensor],
      ['doorway = ?', query.doorway],
    ]);
  }
  placementsOf(tenant: string, sensors: readonly string[]) {
    return this.#placementsBy('sensor', tenant, sensors);
  }
  placementsOn(tenant: string, doorways: readonly string[]) {
    return this.#placementsBy('doorway', tenant, doorways);
  }
  #placementsBy(column: 'sensor' | 'doorway', tenant: string, ids: readonly string[]) {
    const wanted = new Set(ids);
    if (wanted.size > FEW) {
      return Promise.resolve(
        this.rows<PlacementRow>(
          `SELECT * FROM occupancy_placements WHERE tenant = ? ORDER BY ${column}, valid_from`,
          [tenant],
        )
          .filter((r) => wanted.has(r[column]))
          .map((r) => toPlacement(r, c)),
      );
    }
    const out: Placement[] = [];
    for (const id of [...wanted].sort()) {
      const rows = this.rows<PlacementRow>(
        `SELECT * FROM occupancy_placements WHERE tenant = ? AND ${column} = ? ORDER BY valid_from`,
        [tenant, id],
      );
      out.push(...rows.map((r) => toPlacement(r, c)));
    }
    return Promise.resolve(out);
  }
  placementsOnDoorway(tenant: string, doorway: string) {
    return this.count('SELECT COUNT(*) AS n FROM occupancy_placements WHERE tenant = ? AND doorway = ?', [
      tenant,
      doorway,
    ]);
  }
  referencesToSpace(tenant: string, space: string) {
    return this.count(
      `SELECT (SELECT COUNT(*) FROM occupancy_spaces WHERE tenant = @tenant AND parent = @space)
            + (SELECT COUNT(*) FROM occupancy_space_moves WHERE tenant = @tenant AND parent = @space)
            + (SELECT COUNT(*) FROM occupancy_doorways WHERE tenant = @tenant AND (side_a = @space OR side_b = @space)) AS n`,
      [{ tenant, space }],
    );
  }
  unplaced(query: UnplacedQuery) {
    const where = ['tenant = ?', 'placement IS NULL'];
    const params: unknown[] = [query.tenant];
    if (query.sensor !== undefined) {
      where.push('sensor = ?');
      params.push(query.sensor);
    }
    if (query.after) {
      where.push('(ts > ? OR (ts = ? AND key > ?))');
      params.push(query.after.ts, query.after.ts, query.after.key);
    }
    const rows = this.rows<EventRow>(
      `SELECT * FROM occupancy_events WHERE ${where.join(' AND ')} ORDER BY ts, key LIMIT ?`,
      [...params, query.limit],
    );
    return Promise.resolve(rows.map((r) => toEvent(r, c)));
  }
  unplacedCount(tenant: string, sensor: string) {
    // The partial index of unplaced events by sensor.
    return this.count(
      'SELECT COUNT(*) AS n FROM occupancy_events WHERE tenant = ? AND sensor = ? AND placement IS NULL',
      [tenant, sensor],
    );
  }
  lastEvents(tenant: string, sensors: readonly string[]) {
    const out = new Map<string, LastEvent>();
    for (const sensor of new Set(sensors)) {
      const row = this.row<{ ts: number; received_at: number }>(
        'SELECT ts, received_at FROM occupancy_sensor_last WHERE tenant = ? AND sensor = ?',
        [tenant, sensor],
      );
      if (row) out.set(sensor, { ts: row.ts, receivedAt: row.received_at });
    }
    return Promise.resolve(out);
  }
  directions(tenant: string, placement: Pick<Placement, 'id' | 'sensor'>, from: number, to: number) {
    // Whole hours from the hourly counts, the rest of the hours at either end from the events.
    const first = Math.ceil(from / HOUR_MS) * HOUR_MS;
    const last = Math.max(first, Math.floor(to / HOUR_MS) * HOUR_MS);
    const hours = this.row<{ up: number | null; down: number | null }>(
      `SELECT SUM(up) AS up, SUM(down) AS down FROM occupancy_sensor_hours
       WHERE tenant = ? AND sensor = ? AND hour >= ? AND hour < ? AND placement = ?`,
      [tenant, placement.sensor, first, last, placement.id],
    );
    const totals = { up: hours?.up ?? 0, down: hours?.down ?? 0 };
    const edges =
      first >= to
        ? [[from, to]]
        : [
            [from, first],
            [last, to],
          ];
    for (const [a, b] of edges) {
      if (a! >= b!) continue;
      for (const e of this.sensorEvents(tenant, placement.sensor, a!, b!)) {
        if (e.placement !== placement.id) continue;
        if (e.direction === 1) totals.up += 1;
        else totals.down += 1;
      }
    }
    return Promise.resolve(totals);
  }
  /**
   * A sensor's events in [from, to) in (ts, key) order: the hours it has events in come from the
   * hourly counts, and each hour's events are found minute by minute.
   */
  protected sensorEvents(tenant: string, sensor: string, from: number, to: number): SensorEvent[] {
    const hours = this.rows<{ hour: number }>(
      `SELECT DISTINCT hour FROM occupancy_sensor_hours WHERE tenant = ? AND sensor = ? AND hour >= ? AND hour < ?
       ORDER BY hour`,
      [tenant, sensor, Math.floor(from / HOUR_MS) * HOUR_MS, to],
    );
    const out: SensorEvent[] = [];
    for (const { hour } of hours) {
      const minutes = Array.from({ length: 60 }, (_, i) => hour + i * 60_000);
      const rows = this.rows<EventRow>(
        `SELECT * FROM occupancy_events WHERE tenant = ? AND minute IN (${MINUTES_OF_HOUR}) AND sensor = ?
           AND ts >= ? AND ts < ? ORDER BY ts, key`,
        [tenant, ...minutes, sensor, from, to],
      );
      for (const r of rows) out.push(toEvent(r, c));
    }
    return out;
  }
  steps(tenant: string, space: string, spans: readonly Span[]) {
    return Promise.resolve(
      spans.map((span) => {
        const statement = this.#stepsOf(span);
        const rows = (
          span.level === 'delta'
            ? statement.all(crossingParams(tenant, space, span.from, span.to))
            : statement.all(tenant, space, span.from, span.to)
        ) as number[][];
        if (span.total) return [Number(rows[0]?.[0] ?? 0)];
        return span.level === 'delta'
          ? rows.flatMap(([, , , delta]) => [delta!, Math.min(delta!, 0)])
          : rows.flat();
      }),
    );
  }
  #stepsOf(span: Span): Statement {
    return this.raw(`steps:${span.level}:${span.total === true}`, () => {
      if (span.level === 'delta') {
        return span.total
          ? `SELECT (SELECT COALESCE(SUM(CASE WHEN instr(enters, @token) > 0 THEN 1 ELSE -1 END), 0) ${CROSSING})
                  + (SELECT COALESCE(SUM(amount), 0) FROM occupancy_transfers
                     WHERE tenant = @tenant AND space = @space AND ts >= @from AND ts < @to)`
          : DELTAS_AND_TRANSFERS;
      }
      const { table, time, net, min } = LEVEL_ROWS[span.level];
      const where = `WHERE tenant = ? AND space = ? AND ${time} >= ? AND ${time} < ?`;
      return span.total
        ? `SELECT COALESCE(SUM(${net}), 0) FROM ${table} ${where}`
        : `SELECT ${net}, ${min} FROM ${table} ${where} ORDER BY ${time}`;
    });
  }
  segments(period: Period, tenant: string, space: string, from: number, to: number) {
    return Promise.resolve(this.segmentRows(period, tenant, space, from, to));
  }
  protected segmentRows(period: Period, tenant: string, space: string, from: number, to: number) {
    const statement = this.raw(
      `segments:${period}`,
      () => `SELECT ${period}, ${SEGMENT_COLUMNS.join(', ')} FROM ${ROLLUPS[period].table}
           WHERE tenant = ? AND space = ? AND ${period} >= ? AND ${period} < ? ORDER BY ${period}`,
    );
    return (statement.all(tenant, space, from, to) as TimedSegmentRow[]).map((r) => toTimedSegment(r, c));
  }
  deltas(tenant: string, space: string, from: number, to: number) {
    return Promise.resolve(this.foldDeltas(tenant, space, from, to));
  }
  protected foldDeltas(tenant: string, space: string, from: number, to: number): Delta[] {
    const rows = this.raw('deltas', () => DELTAS_AND_TRANSFERS).all(
      crossingParams(tenant, space, from, to),
    ) as DeltaOrTransfer[];
    return rows.map((r) => toFoldDelta(space, r));
  }
  deltasIn(tenant: string, minutes: readonly SpaceTime[]) {
    return Promise.resolve(minutes.map((m) => this.foldDeltas(tenant, m.space, m.at, m.at + 60_000)));
  }
  rowsIn(period: 'minute' | 'hour', tenant: string, parents: readonly SpaceTime[], size: number) {
    return Promise.resolve(parents.map((p) => this.segmentRows(period, tenant, p.space, p.at, p.at + size)));
  }
  /** Calls into the embedded database, with no round trip to save: the three reads one after another. */
  async countRead(tenant: string, space: string, before: number, spans: readonly Span[]) {
    const exists = this.row('SELECT 1 FROM occupancy_spaces WHERE tenant = ? AND id = ?', [tenant, space]);
    const latest = await this.correctionBefore(tenant, space, before);
    return {
      exists: exists !== undefined,
      correction: latest && { at: latest.at, count: latest.count },
      steps: await this.steps(tenant, space, spans),
    };
  }
  correctionBefore(tenant: string, space: string, before: number) {
    const row = this.row<CorrectionRow>(
      'SELECT * FROM occupancy_corrections WHERE tenant = ? AND space = ? AND at < ? ORDER BY at DESC LIMIT 1',
      [tenant, space, before],
    );
    return Promise.resolve(row && toCorrection(row, c));
  }
  corrections(query: CorrectionQuery) {
    const after = query.after ?? { at: query.from - 1, id: '\u{10ffff}' };
    const rows = this.rows<CorrectionRow>(
      `SELECT * FROM occupancy_corrections WHERE tenant = ? AND space = ? AND at >= ? AND at < ?
         AND (at > ? OR (at = ? AND id > ?))
       ORDER BY at, id LIMIT ?`,
      [query.tenant, query.space, query.from, query.to, after.at, after.at, after.id, query.limit],
    );
    return Promise.resolve(rows.map((r) => toCorrection(r, c)));
  }
  correction(tenant: string, id: string) {
    return this.#byId('occupancy_corrections', tenant, id, toCorrection);
  }
  audit(query: AuditQuery) {
    const rows = this.rows<AuditRow>(
      `SELECT * FROM occupancy_audit WHERE tenant = ?${query.space === undefined ? '' : ' AND space = ?'} AND id < ?
       ORDER BY id DESC LIMIT ?`,
      [
        query.tenant,
        ...(query.space === undefined ? [] : [query.space]),
        query.before ?? '\u{10ffff}',
        query.limit,
      ],
    );
    return Promise.resolve(rows.map((r) => toAudit(r, c)));
  }
  openAlerts(tenant: string, kind?: AlertKind) {
    const rows = this.rows<AlertRow>(
      `SELECT * FROM occupancy_alerts WHERE tenant = ? AND closed_at IS NULL${kind ? ' AND kind = ?' : ''} ORDER BY id`,
      kind ? [tenant, kind] : [tenant],
    );
    return Promise.resolve(rows.map((r) => toAlert(r, c)));
  }
  alerts(query: AlertQuery) {
    const where = ['tenant = ?', 'id < ?'];
    const params: unknown[] = [query.tenant, query.before ?? '\u{10ffff}'];
    if (query.kind !== undefined) {
      where.push('kind = ?');
      params.push(query.kind);
    }
    if (query.subject !== undefined) {
      where.push('(subject = ? OR space = ?)');
      params.push(query.subject, query.subject);
    }
    const rows = this.rows<AlertRow>(
      `SELECT * FROM occupancy_alerts WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
      [...params, query.limit],
    );
    return Promise.resolve(rows.map((r) => toAlert(r, c)));
  }
  outbox(query: { tenant: string; limit: number; before?: string | undefined }) {
    const rows = this.rows<OutboxRow>(
      'SELECT * FROM occupancy_outbox WHERE tenant = ? AND id < ? ORDER BY id DESC LIMIT ?',
      [query.tenant, query.before ?? '\u{10ffff}', query.limit],
    );
    return Promise.resolve(rows.map((r) => toOutbox(r, c)));
  }
  modelVersion(tenant: string) {
    return this.count('SELECT version AS n FROM occupancy_model WHERE tenant = ?', [tenant]);
  }
  tenants() {
    const rows = this.rows<{ tenant: string }>(
      'SELECT DISTINCT tenant FROM occupancy_spaces ORDER BY tenant',
      [],
    );
    return Promise.resolve(rows.map((r) => r.tenant));
  }
}

/**
 * Occupancy writes on the store's write connection, inside its transactions; reads through it see the
 * transaction's own writes.
 */
export class SqliteOccupancyWriter extends SqliteOccupancyReader implements OccupancyWriter {
  readonly #db: SqliteDatabase;
  /** Multi-row INSERT statements by table and number of rows. */
  readonly #inserts = new Map<string, Statement>();

  constructor(db: SqliteDatabase) {
    super(db);
    this.#db = db;
  }

  #run(sql: string, params: unknown[]): number {
    return this.prepared(sql).run(...params).changes;
  }
  /** Raises the tenant's model version: its spaces, moves, doorways, sensors or placements change. */
  #changed(tenant: string): void {
    this.#run(
      `INSERT INTO occupancy_model (tenant, version) VALUES (?, 1)
       ON CONFLICT (tenant) DO UPDATE SET version = version + 1`,
      [tenant],
    );
  }
  /** Runs a statement that changes at most one row; true when it did. */
  #one(sql: string, params: unknown[]): Promise<boolean> {
    return Promise.resolve(this.#run(sql, params) === 1);
  }
  /**
   * A change to the tenant's spaces, moves, doorways, sensors or placements: raises its model version,
   * runs `first`, then `sql`, which changes at most one row; true when it did.
   */
  #modelChange(
    tenant: string,
    sql: string,
    params: unknown[],
    first: readonly (readonly [string, unknown[]])[] = [],
  ): Promise<boolean> {
    this.#changed(tenant);
    for (const [before, values] of first) this.#run(before, values);
    return this.#one(sql, params);
  }
  /** INSERT … VALUES of `rows` rows into `table` (with `suffix` after), prepared once per size. */
  #insert(table: string, columns: readonly string[], rows: number, suffix: string): Statement {
    const id = `${table}:${rows}`;
    let statement = this.#inserts.get(id);
    if (!statement) {
      const tuple = `(${columns.map(() => '?').join(', ')})`;
      statement = this.#db.prepare(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')} ${suffix}`,
      );
      this.#inserts.set(id, statement);
    }
    return statement;
  }
  /** Inserts rows `ROWS_PER_INSERT` at a time; `values` gives each row's values in column order. */
  #insertAll<T>(
    table: string,
    columns: readonly string[],
    rows: readonly T[],
    values: (row: T, out: unknown[]) => void,
    suffix: string,
    onReturned?: (returned: unknown[]) => void,
  ): void {
    const params: unknown[] = [];
    for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
      const end = Math.min(rows.length, at + ROWS_PER_INSERT);
      params.length = 0;
      for (let i = at; i < end; i++) values(rows[i]!, params);
      const statement = this.#insert(table, columns, end - at, suffix);
      if (onReturned) onReturned(statement.all(params));
      else statement.run(params);
    }
  }

  rename(kind: Named, tenant: string, id: string, name: string) {
    return this.#modelChange(
      tenant,
      `UPDATE ${NAMED_TABLES[kind]} SET name = ? WHERE tenant = ? AND id = ?`,
      [name, tenant, id],
    );
  }
  delete(kind: Named, tenant: string, id: string) {
    return this.#modelChange(
      tenant,
      `DELETE FROM ${NAMED_TABLES[kind]} WHERE tenant = ? AND id = ?`,
      [tenant, id],
      kind === 'space'
        ? [
            ['DELETE FROM occupancy_space_moves WHERE tenant = ? AND space = ?', [tenant, id]],
            ['DELETE FROM occupancy_corrections WHERE tenant = ? AND space = ?', [tenant, id]],
          ]
        : [],
    );
  }
  insertSpace(tenant: string, s: Space) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_spaces (tenant, id, name, parent, created_at, capacity, alert_after_minutes, open_hours)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [tenant, s.id, s.name, s.parent, s.createdAt, ...settingValues(s)],
    );
  }
  updateSpace(tenant: string, id: string, settings: SpaceSettings) {
    return this.#modelChange(
      tenant,
      `UPDATE occupancy_spaces SET capacity = ?, alert_after_minutes = ?, open_hours = ? WHERE tenant = ? AND id = ?`,
      [...settingValues(settings), tenant, id],
    );
  }
  insertMove(tenant: string, m: SpaceMove) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_space_moves (tenant, space, at, parent, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      [tenant, m.space, m.at, m.parent, m.createdAt],
    );
  }
  deleteMove(tenant: string, space: string, at: number) {
    return this.#modelChange(
      tenant,
      'DELETE FROM occupancy_space_moves WHERE tenant = ? AND space = ? AND at = ?',
      [tenant, space, at],
    );
  }
  insertDoorway(tenant: string, d: Doorway) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_doorways (tenant, id, name, side_a, side_b, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      [tenant, d.id, d.name, d.a, d.b, d.createdAt],
    );
  }
  insertSensor(tenant: string, s: Sensor) {
    return this.#modelChange(
      tenant,
      'INSERT INTO occupancy_sensors (tenant, id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [tenant, s.id, s.name, s.createdAt],
    );
  }
  insertPlacement(tenant: string, p: Placement) {
    return this.#modelChange(
      tenant,
      `INSERT INTO occupancy_placements (tenant, id, sensor, doorway, positive_side, valid_from, valid_to, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [tenant, p.id, p.sensor, p.doorway, p.positive, p.from, p.to, p.createdAt],
    );
  }
  updatePlacement(tenant: string, p: Placement) {
    return this.#modelChange(
      tenant,
      `UPDATE occupancy_placements SET doorway = ?, positive_side = ?, valid_from = ?, valid_to = ?
       WHERE tenant = ? AND id = ?`,
      [p.doorway, p.positive, p.from, p.to, tenant, p.id],
    ).then(() => undefined);
  }
  deletePlacement(tenant: string, id: string) {
    return this.#modelChange(tenant, 'DELETE FROM occupancy_placements WHERE tenant = ? AND id = ?', [
      tenant,
      id,
    ]);
  }
  insertEvents(tenant: string, events: readonly SensorEvent[]) {
    const fresh = new Set<string>();
    this.#insertAll(
      'occupancy_events',
      EVENT_COLUMNS,
      events,
      (e, out) =>
        out.push(
          tenant,
          minuteOfTs(e.ts),
          e.sensor,
          e.ts,
          e.key,
          e.direction,
          e.receivedAt,
          e.late ? 1 : 0,
          e.placement,
          spacesValue(e.enters),
          spacesValue(e.leaves),
        ),
      'ON CONFLICT DO NOTHING RETURNING key',
      (returned) => {
        for (const r of returned) fresh.add((r as { key: string }).key);
      },
    );
    // Of two events with one key in a batch the first was stored: hand back the first of each.
    return Promise.resolve(events.filter((e) => fresh.delete(e.key)));
  }
  eventsOf(tenant: string, sensor: string, from: number, to: number | null) {
    return Promise.resolve(this.sensorEvents(tenant, sensor, from, to ?? Number.MAX_SAFE_INTEGER));
  }
  eventsCrossing(tenant: string, space: string, from: number, to: number) {
    const rows = this.rows<EventRow>(`SELECT * ${CROSSING} ORDER BY ts, key`, [
      crossingParams(tenant, space, from, to),
    ]);
    return Promise.resolve(rows.map((r) => toEvent(r, c)));
  }
  setCounted(tenant: string, events: readonly SensorEvent[]) {
    for (const e of events) {
      this.#run(
        `UPDATE occupancy_events SET placement = ?, enters = ?, leaves = ?
         WHERE tenant = ? AND minute = ? AND sensor = ? AND ts = ? AND key = ?`,
        [
          e.placement,
          spacesValue(e.enters),
          spacesValue(e.leaves),
          tenant,
          minuteOfTs(e.ts),
          e.sensor,
          e.ts,
          e.key,
        ],
      );
    }
    return Promise.resolve();
  }
  addSensorHours(tenant: string, counts: readonly SensorHour[]) {
    for (const h of counts) {
      this.#run(
        `INSERT INTO occupancy_sensor_hours (tenant, hour, sensor, placement, up, down) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, hour, sensor, placement) DO UPDATE SET up = up + excluded.up, down = down + excluded.down`,
        [tenant, h.hour, h.sensor, h.placement, h.up, h.down],
      );
      if (h.up < 0 || h.down < 0) {
        this.#run(
          `DELETE FROM occupancy_sensor_hours
           WHERE tenant = ? AND hour = ? AND sensor = ? AND placement = ? AND up = 0 AND down = 0`,
          [tenant, h.hour, h.sensor, h.placement],
        );
      }
    }
    return Promise.resolve();
  }
  noteLastEvents(tenant: string, events: readonly (LastEvent & { readonly sensor: string })[]) {
    for (const e of events) {
      this.#run(
        `INSERT INTO occupancy_sensor_last (tenant, sensor, ts, received_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant, sensor) DO UPDATE SET ts = MAX(ts, excluded.ts), received_at = MAX(received_at, excluded.received_at)`,
        [tenant, e.sensor, e.ts, e.receivedAt],
      );
    }
    return Promise.resolve();
  }
  transfersOf(tenant: string, source: string, at: number) {
    const rows = this.rows<TransferRow>(
      'SELECT space, ts, source, amount FROM occupancy_transfers WHERE tenant = ? AND source = ? AND ts = ? ORDER BY space',
      [tenant, source, at],
    );
    return Promise.resolve(rows.map((r) => toTransfer(r, c)));
  }
  takeTransfers(tenant: string, source: string, at: number) {
    const rows = this.rows<TransferRow>(
      'DELETE FROM occupancy_transfers WHERE tenant = ? AND source = ? AND ts = ? RETURNING space, ts, source, amount',
      [tenant, source, at],
    );
    return Promise.resolve(rows.map((r) => toTransfer(r, c)));
  }
  insertTransfers(tenant: string, transfers: readonly Delta[]) {
    for (const t of transfers) {
      this.#run(
        'INSERT INTO occupancy_transfers (tenant, space, ts, source, amount) VALUES (?, ?, ?, ?, ?)',
        [tenant, t.space, t.ts, t.key, t.delta],
      );
    }
    return Promise.resolve();
  }
  minuteRows(tenant: string, minutes: readonly SpaceTime[]) {
    const statement = this.prepared(
      'SELECT * FROM occupancy_minutes WHERE tenant = ? AND space = ? AND minute = ?',
    );
    return Promise.resolve(
      minutes.map((m) => {
        const row = statement.get(tenant, m.space, m.at) as MinuteDbRow | undefined;
        return row && toMinute(row, c);
      }),
    );
  }
  periodEnds(period: 'hour' | 'day', tenant: string, probes: readonly (SpaceTime & { after: number })[]) {
    const { child, size } = PERIOD_UNDER[period];
    const own = this.raw(
      `end:${period}`,
      () => `SELECT ${period}, ${SEGMENT_COLUMNS.join(', ')} FROM ${ROLLUPS[period].table}
           WHERE tenant = ? AND space = ? AND ${period} = ?`,
    );
    const later = this.prepared(
      `SELECT 1 AS later FROM ${ROLLUPS[child].table}
       WHERE tenant = ? AND space = ? AND ${child} > ? AND ${child} < ? LIMIT 1`,
    );
    return Promise.resolve(
      probes.map((p): PeriodEnd => {
        const row = own.get(tenant, p.space, p.at) as TimedSegmentRow | undefined;
        return {
          row: row && toTimedSegment(row, c)[1],
          later: later.get(tenant, p.space, p.after, p.at + size) !== undefined,
        };
      }),
    );
  }
  putRows(
    period: Period,
    tenant: string,
    rows: readonly (SpaceTime & { row: Segment | MinuteRow | undefined })[],
  ) {
    const { upsert, remove } = PUT_SQL[period];
    for (const { space, at, row } of rows) {
      if (row === undefined) this.#run(remove, [tenant, space, at]);
      else this.#run(upsert, [tenant, space, at, ...rowValues(period, row)]);
    }
    return Promise.resolve();
  }
  resetProjection() {
    this.#db.exec(`
      DELETE FROM occupancy_events;
      DELETE FROM occupancy_transfers;
      DELETE FROM occupancy_minutes;
      DELETE FROM occupancy_hours;
      DELETE FROM occupancy_days;
      DELETE FROM occupancy_sensor_hours;
      DELETE FROM occupancy_sensor_last;
    `);
    return Promise.resolve();
  }
  putCorrection(tenant: string, correction: Correction) {
    const row = this.row<CorrectionRow>(
      'DELETE FROM occupancy_corrections WHERE tenant = ? AND space = ? AND at = ? RETURNING *',
      [tenant, correction.space, correction.at],
    );
    this.#run(
      `INSERT INTO occupancy_corrections (tenant, id, space, at, count, note, created_at, created_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        tenant,
        correction.id,
        correction.space,
        correction.at,
        correction.count,
        correction.note,
        correction.createdAt,
        correction.createdBy,
      ],
    );
    return Promise.resolve(row && toCorrection(row, c));
  }
  deleteCorrection(tenant: string, id: string) {
    return this.#one('DELETE FROM occupancy_corrections WHERE tenant = ? AND id = ?', [tenant, id]);
  }
  insertAudit(tenant: string, e: AuditEntry) {
    this.#run(
      'INSERT INTO occupancy_audit (tenant, id, at, actor, action, space, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [tenant, e.id, e.at, e.actor, e.action, e.space, JSON.stringify(e.detail)],
    );
    return Promise.resolve();
  }
  claimAlerting() {
    return Promise.resolve(true);
  }
  openAlert(tenant: string, a: Alert) {
    this.#run(
      `INSERT INTO occupancy_alerts (tenant, id, kind, subject, space, opened_at, closed_at, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [tenant, a.id, a.kind, a.subject, a.space, a.openedAt, a.closedAt, JSON.stringify(a.detail)],
    );
    return Promise.resolve();
  }
  closeAlert(tenant: string, id: string, closedAt: number) {
    this.#run('UPDATE occupancy_alerts SET closed_at = ? WHERE tenant = ? AND id = ?', [
      closedAt,
      tenant,
      id,
    ]);
    return Promise.resolve();
  }
  enqueue(e: OutboxEntry) {
    this.#run(
      `INSERT INTO occupancy_outbox (id, tenant, event, created_at, attempts, next_attempt_at, lease_until, delivered_at, last_error)
       VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
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
    return Promise.resolve();
  }
  claimOutbox(now: number, leaseMs: number, limit: number) {
    const rows = this.rows<OutboxRow>(
      `UPDATE occupancy_outbox SET lease_until = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM occupancy_outbox WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                    ORDER BY next_attempt_at, id LIMIT ?)
       RETURNING *`,
      [now + leaseMs, now, now, limit],
    );
    return Promise.resolve(rows.map((r) => toOutbox(r, c)).sort((a, b) => (a.id < b.id ? -1 : 1)));
  }
  settleOutbox(id: string, outcome: { deliveredAt: number } | { error: string; retryAt: number | null }) {
    if ('deliveredAt' in outcome) {
      this.#run(
        'UPDATE occupancy_outbox SET delivered_at = ?, next_attempt_at = NULL, lease_until = NULL, last_error = NULL WHERE id = ?',
        [outcome.deliveredAt, id],
      );
    } else {
      this.#run(
        'UPDATE occupancy_outbox SET next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?',
        [outcome.retryAt, outcome.error, id],
      );
    }
    return Promise.resolve();
  }
}

/** Occupancy on SQLite: the reader on the read connection, the writer in the store's transactions. */
export const sqliteOccupancy: SqliteWing<OccupancyRepositories, OccupancyWriters> = {
  migrations: sqliteMigrations,
  storage: occupancyStorage,
  repositories: ({ reader }) => ({ occupancy: new SqliteOccupancyReader(reader) }),
  writers: (writer) => ({ occupancy: new SqliteOccupancyWriter(writer) }),
};
