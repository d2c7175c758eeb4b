import { sqliteColumns as c, type Columns } from '../../store/columns.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import type { SqliteDatabase, Statement } from '../../sqlite/database.ts';
import type { Delta, Doorway, Placement, Segment, Sensor, SensorEvent, Space } from '../model.ts';
import type {
  ListQuery,
  MinuteRow,
  Named,
  OccupancyReader,
  OccupancyRepositories,
  OccupancyWriter,
  OccupancyWriters,
  Span,
  UnplacedQuery,
} from './repositories.ts';
import {
  minuteValues,
  NAMED_TABLES,
  ROLLUPS,
  SEGMENT_COLUMNS,
  segmentValues,
  toDelta,
  toDoorway,
  toEvent,
  toMinute,
  toPlacement,
  toSensor,
  toSpace,
  toTimedSegment,
  type DeltaRow,
  type EventRow,
  type MinuteDbRow,
  type Period,
  type PlacementRow,
  type SpaceRow,
  type TimedSegmentRow,
} from './rows.ts';
import { sqliteMigrations } from './sqlite-migrations.ts';
import { occupancyStorage } from './storage.ts';

/** Up to this many ids are looked up one by one; more, and the tenant's rows are scanned once. */
const FEW = 32;

/** Where each level's rows live, and their step (net change, lowest running sum). */
const LEVEL_ROWS = {
  day: { table: 'occupancy_days', time: 'day', net: 'net', min: 'min_prefix' },
  hour: { table: 'occupancy_hours', time: 'hour', net: 'net', min: 'min_prefix' },
  minute: { table: 'occupancy_minutes', time: 'minute', net: 'net', min: 'min_prefix' },
  delta: { table: 'occupancy_deltas', time: 'ts', net: 'delta', min: 'MIN(delta, 0)' },
} as const;

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

/**
 * Occupancy rows in SQLite: the same tables, keys and answers as the PostgreSQL store
 * (postgres-occupancy.ts); all counting logic lives in src/occupancy/. Reads outside a transaction use
 * the read connection.
 */
export class SqliteOccupancyReader implements OccupancyReader {
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
  #raw(id: string, sql: () => string): Statement {
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
  #list<R, T>(table: string, query: ListQuery, map: (r: R, c: Columns) => T, sensor?: string): Promise<T[]> {
    const extra = sensor === undefined ? [] : [sensor];
    const rows = this.rows<R>(
      `SELECT * FROM ${table} WHERE tenant = ? AND id > ?${extra.length ? ' AND sensor = ?' : ''} ORDER BY id LIMIT ?`,
      [query.tenant, query.after ?? '', ...extra, query.limit],
    );
    return Promise.resolve(rows.map((r) => map(r, c)));
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
  doorway(tenant: string, id: string) {
    return this.#byId('occupancy_doorways', tenant, id, toDoorway);
  }
  doorways(query: ListQuery) {
    return this.#list('occupancy_doorways', query, toDoorway);
  }
  sensor(tenant: string, id: string) {
    return this.#byId('occupancy_sensors', tenant, id, toSensor);
  }
  sensors(query: ListQuery) {
    return this.#list('occupancy_sensors', query, toSensor);
  }
  knownSensors(tenant: string, ids: readonly string[]) {
    const wanted = new Set(ids);
    const known = new Set<string>();
    if (wanted.size > FEW) {
      // One scan of the tenant's sensors beats a lookup per id once a batch names many of them.
      const rows = this.rows<{ id: string }>('SELECT id FROM occupancy_sensors WHERE tenant = ?', [tenant]);
      for (const { id } of rows) if (wanted.has(id)) known.add(id);
      return Promise.resolve(known);
    }
    for (const id of wanted) {
      if (this.row('SELECT 1 AS n FROM occupancy_sensors WHERE tenant = ? AND id = ?', [tenant, id])) {
        known.add(id);
      }
    }
    return Promise.resolve(known);
  }
  placement(tenant: string, id: string) {
    return this.#byId('occupancy_placements', tenant, id, toPlacement);
  }
  placements(query: ListQuery & { readonly sensor?: string | undefined }) {
    return this.#list('occupancy_placements', query, toPlacement, query.sensor);
  }
  placementsOf(tenant: string, sensors: readonly string[]) {
    if (sensors.length > FEW) {
      const wanted = new Set(sensors);
      return Promise.resolve(
        this.rows<PlacementRow>(
          'SELECT * FROM occupancy_placements WHERE tenant = ? ORDER BY sensor, valid_from',
          [tenant],
        )
          .filter((r) => wanted.has(r.sensor))
          .map((r) => toPlacement(r, c)),
      );
    }
    const out: Placement[] = [];
    for (const sensor of sensors) {
      const rows = this.rows<PlacementRow>(
        'SELECT * FROM occupancy_placements WHERE tenant = ? AND sensor = ? ORDER BY valid_from',
        [tenant, sensor],
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
      `SELECT (SELECT COUNT(*) FROM occupancy_spaces WHERE tenant = ? AND parent = ?)
            + (SELECT COUNT(*) FROM occupancy_doorways WHERE tenant = ? AND (side_a = ? OR side_b = ?)) AS n`,
      [tenant, space, tenant, space, space],
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
    return this.count(
      'SELECT COUNT(*) AS n FROM occupancy_events WHERE tenant = ? AND sensor = ? AND placement IS NULL',
      [tenant, sensor],
    );
  }
  steps(tenant: string, space: string, spans: readonly Span[]) {
    return Promise.resolve(
      spans.map((span) => {
        const rows = this.#stepsOf(span).all(tenant, space, span.from, span.to) as number[][];
        return span.total ? [Number(rows[0]?.[0] ?? 0)] : rows.flat();
      }),
    );
  }
  #stepsOf(span: Span): Statement {
    return this.#raw(`steps:${span.level}:${span.total === true}`, () => {
      const { table, time, net, min } = LEVEL_ROWS[span.level];
      const where = `WHERE tenant = ? AND space = ? AND ${time} >= ? AND ${time} < ?`;
      return span.total
        ? `SELECT COALESCE(SUM(${net}), 0) FROM ${table} ${where}`
        : `SELECT ${net}, ${min} FROM ${table} ${where} ORDER BY ${time}${span.level === 'delta' ? ', key' : ''}`;
    });
  }
  minutes(tenant: string, space: string, from: number, to: number) {
    return Promise.resolve(this.#segments('minute', tenant, space, from, to));
  }
  hours(tenant: string, space: string, from: number, to: number) {
    return Promise.resolve(this.#segments('hour', tenant, space, from, to));
  }
  #segments(period: 'minute' | 'hour', tenant: string, space: string, from: number, to: number) {
    const statement = this.#raw(
      `segments:${period}`,
      () => `SELECT ${period}, ${SEGMENT_COLUMNS.join(', ')} FROM ${ROLLUPS[period].table}
           WHERE tenant = ? AND space = ? AND ${period} >= ? AND ${period} < ? ORDER BY ${period}`,
    );
    return (statement.all(tenant, space, from, to) as TimedSegmentRow[]).map((r) => toTimedSegment(r, c));
  }
  deltas(tenant: string, space: string, from: number, to: number) {
    const rows = this.rows<DeltaRow>(
      `SELECT space, ts, key, delta, late FROM occupancy_deltas WHERE tenant = ? AND space = ? AND ts >= ? AND ts < ?
       ORDER BY ts, key`,
      [tenant, space, from, to],
    );
    return Promise.resolve(rows.map((r) => toDelta(r, c)));
  }
}

/**
 * Occupancy writes on the store's write connection, inside its transactions; reads through it see the
 * transaction's own writes.
 */
export class SqliteOccupancyWriter extends SqliteOccupancyReader implements OccupancyWriter {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    super(db);
    this.#db = db;
  }

  #run(sql: string, params: unknown[]): number {
    return this.prepared(sql).run(...params).changes;
  }
  /** Runs a statement that changes at most one row; true when it did. */
  #one(sql: string, params: unknown[]): Promise<boolean> {
    return Promise.resolve(this.#run(sql, params) === 1);
  }

  rename(kind: Named, tenant: string, id: string, name: string) {
    return this.#one(`UPDATE ${NAMED_TABLES[kind]} SET name = ? WHERE tenant = ? AND id = ?`, [
      name,
      tenant,
      id,
    ]);
  }
  delete(kind: Named, tenant: string, id: string) {
    return this.#one(`DELETE FROM ${NAMED_TABLES[kind]} WHERE tenant = ? AND id = ?`, [tenant, id]);
  }
  insertSpace(tenant: string, s: Space) {
    return this.#one(
      'INSERT INTO occupancy_spaces (tenant, id, name, parent, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [tenant, s.id, s.name, s.parent, s.createdAt],
    );
  }
  insertDoorway(tenant: string, d: Doorway) {
    return this.#one(
      `INSERT INTO occupancy_doorways (tenant, id, name, side_a, side_b, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
      [tenant, d.id, d.name, d.a, d.b, d.createdAt],
    );
  }
  insertSensor(tenant: string, s: Sensor) {
    return this.#one(
      'INSERT INTO occupancy_sensors (tenant, id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      [tenant, s.id, s.name, s.createdAt],
    );
  }
  insertPlacement(tenant: string, p: Placement) {
    return this.#one(
      `INSERT INTO occupancy_placements (tenant, id, sensor, doorway, positive_side, valid_from, valid_to, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [tenant, p.id, p.sensor, p.doorway, p.positive, p.from, p.to, p.createdAt],
    );
  }
  updatePlacement(tenant: string, p: Placement) {
    this.#run(
      `UPDATE occupancy_placements SET doorway = ?, positive_side = ?, valid_from = ?, valid_to = ?
       WHERE tenant = ? AND id = ?`,
      [p.doorway, p.positive, p.from, p.to, tenant, p.id],
    );
    return Promise.resolve();
  }
  deletePlacement(tenant: string, id: string) {
    return this.#one('DELETE FROM occupancy_placements WHERE tenant = ? AND id = ?', [tenant, id]);
  }
  insertEvents(tenant: string, events: readonly SensorEvent[]) {
    const fresh: SensorEvent[] = [];
    for (const e of events) {
      const inserted = this.#run(
        `INSERT INTO occupancy_events (tenant, key, sensor, ts, direction, received_at, late, placement)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [tenant, e.key, e.sensor, e.ts, e.direction, e.receivedAt, e.late ? 1 : 0, e.placement],
      );
      if (inserted === 1) fresh.push(e);
    }
    return Promise.resolve(fresh);
  }
  eventsOf(tenant: string, sensor: string, from: number, to: number | null) {
    const rows = this.rows<EventRow>(
      `SELECT * FROM occupancy_events WHERE tenant = ? AND sensor = ? AND ts >= ? AND ts < ? ORDER BY ts, key`,
      [tenant, sensor, from, to ?? Number.MAX_SAFE_INTEGER],
    );
    return Promise.resolve(rows.map((r) => toEvent(r, c)));
  }
  setPlacementOf(tenant: string, key: string, placement: string | null) {
    this.#run('UPDATE occupancy_events SET placement = ? WHERE tenant = ? AND key = ?', [
      placement,
      tenant,
      key,
    ]);
    return Promise.resolve();
  }
  takeDeltas(tenant: string, key: string) {
    const rows = this.rows<DeltaRow>(
      'SELECT space, ts, key, delta, late FROM occupancy_deltas WHERE tenant = ? AND key = ?',
      [tenant, key],
    );
    this.#run('DELETE FROM occupancy_deltas WHERE tenant = ? AND key = ?', [tenant, key]);
    return Promise.resolve(rows.map((r) => toDelta(r, c)));
  }
  insertDeltas(tenant: string, deltas: readonly Delta[]) {
    for (const d of deltas) {
      this.#run(
        'INSERT INTO occupancy_deltas (tenant, space, ts, key, delta, late) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [tenant, d.space, d.ts, d.key, d.delta, d.late ? 1 : 0],
      );
    }
    return Promise.resolve();
  }
  minute(tenant: string, space: string, minute: number) {
    const row = this.row<MinuteDbRow>(
      'SELECT * FROM occupancy_minutes WHERE tenant = ? AND space = ? AND minute = ?',
      [tenant, space, minute],
    );
    return Promise.resolve(row && toMinute(row, c));
  }
  putMinute(tenant: string, space: string, minute: number, row: MinuteRow | undefined) {
    return this.#put('minute', tenant, space, minute, row && minuteValues(row));
  }
  putHour(tenant: string, space: string, hour: number, row: Segment | undefined) {
    return this.#put('hour', tenant, space, hour, row && segmentValues(row));
  }
  putDay(tenant: string, space: string, day: number, row: Segment | undefined) {
    return this.#put('day', tenant, space, day, row && segmentValues(row));
  }
  /** Replaces the row of a period with `values` (in its columns' order); undefined deletes it. */
  #put(period: Period, tenant: string, space: string, at: number, values: unknown[] | undefined) {
    const { upsert, remove } = PUT_SQL[period];
    if (values === undefined) this.#run(remove, [tenant, space, at]);
    else this.#run(upsert, [tenant, space, at, ...values]);
    return Promise.resolve();
  }
  resetProjection() {
    this.#db.exec(`
      DELETE FROM occupancy_deltas;
      DELETE FROM occupancy_minutes;
      DELETE FROM occupancy_hours;
      DELETE FROM occupancy_days;
      DELETE FROM occupancy_events;
    `);
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
