import type { OccupancyRepositories, OccupancyWriters } from './repositories.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import { sqliteMigrations } from './sqlite-migrations.ts';
import type { Statement } from 'better-sqlite3';
import type { Delta, Doorway, Placement, Segment, Sensor, SensorEvent, Side, Space } from '../model.ts';
import type { ListQuery, MinuteRow, OccupancyWriter, Span, UnplacedQuery } from './repositories.ts';
import type { SqliteDatabase } from '../../sqlite/database.ts';

type Row = Record<string, unknown>;

/** Up to this many ids are looked up one by one; more, and the tenant's rows are scanned once. */
const FEW = 32;

const toSpace = (r: Row): Space => ({
  id: r.id as string,
  name: r.name as string,
  parent: r.parent as string | null,
  createdAt: r.created_at as number,
});
const toDoorway = (r: Row): Doorway => ({
  id: r.id as string,
  name: r.name as string,
  a: r.side_a as string,
  b: r.side_b as string | null,
  createdAt: r.created_at as number,
});
const toSensor = (r: Row): Sensor => ({
  id: r.id as string,
  name: r.name as string,
  createdAt: r.created_at as number,
});
const toPlacement = (r: Row): Placement => ({
  id: r.id as string,
  sensor: r.sensor as string,
  doorway: r.doorway as string,
  positive: r.positive_side as Side,
  from: r.valid_from as number,
  to: r.valid_to as number | null,
  createdAt: r.created_at as number,
});
const toEvent = (r: Row): SensorEvent => ({
  key: r.key as string,
  sensor: r.sensor as string,
  ts: r.ts as number,
  direction: r.direction as 1 | -1,
  receivedAt: r.received_at as number,
  late: r.late === 1,
  placement: r.placement as string | null,
});
const toSegment = (r: Row): Segment => ({
  net: r.net as number,
  min: r.min_prefix as number,
  max: r.max_prefix as number,
  entries: r.entries as number,
  exits: r.exits as number,
  late: r.late as number,
});

/** Where each level's rows live, and their step (net change, lowest running sum). */
const LEVEL_ROWS = {
  day: { table: 'occupancy_days', time: 'day', net: 'net', min: 'min_prefix' },
  hour: { table: 'occupancy_hours', time: 'hour', net: 'net', min: 'min_prefix' },
  minute: { table: 'occupancy_minutes', time: 'minute', net: 'net', min: 'min_prefix' },
  delta: { table: 'occupancy_deltas', time: 'ts', net: 'delta', min: 'MIN(delta, 0)' },
} as const;

/**
 * Occupancy rows in SQLite. Plain SQL only (no SQLite-specific functions) so that it ports to the
 * PostgreSQL store; all counting logic lives in src/occupancy/.
 */
export class SqliteOccupancy implements OccupancyWriter {
  readonly #db: SqliteDatabase;
  readonly #statements = new Map<string, Statement>();

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  #sql(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) this.#statements.set(sql, (statement = this.#db.prepare(sql)));
    return statement;
  }
  #get(sql: string, ...params: unknown[]): Row | undefined {
    return this.#sql(sql).get(...params) as Row | undefined;
  }
  #all(sql: string, ...params: unknown[]): Row[] {
    return this.#sql(sql).all(...params) as Row[];
  }
  #run(sql: string, ...params: unknown[]): number {
    return this.#sql(sql).run(...params).changes;
  }
  #sum(sql: string, ...params: unknown[]): Promise<number> {
    return Promise.resolve(Number(this.#get(sql, ...params)?.n ?? 0));
  }

  #list<T>(
    table: string,
    query: ListQuery,
    map: (r: Row) => T,
    extra = '',
    extraParams: unknown[] = [],
  ): T[] {
    return this.#all(
      `SELECT * FROM ${table} WHERE tenant = ? AND id > ?${extra} ORDER BY id LIMIT ?`,
      query.tenant,
      query.after ?? '',
      ...extraParams,
      query.limit,
    ).map(map);
  }

  space(tenant: string, id: string) {
    const row = this.#get('SELECT * FROM occupancy_spaces WHERE tenant = ? AND id = ?', tenant, id);
    return Promise.resolve(row && toSpace(row));
  }
  spaces(query: ListQuery) {
    return Promise.resolve(this.#list('occupancy_spaces', query, toSpace));
  }
  allSpaces(tenant: string) {
    return Promise.resolve(
      this.#all('SELECT * FROM occupancy_spaces WHERE tenant = ? ORDER BY id', tenant).map(toSpace),
    );
  }
  doorway(tenant: string, id: string) {
    const row = this.#get('SELECT * FROM occupancy_doorways WHERE tenant = ? AND id = ?', tenant, id);
    return Promise.resolve(row && toDoorway(row));
  }
  doorways(query: ListQuery) {
    return Promise.resolve(this.#list('occupancy_doorways', query, toDoorway));
  }
  sensor(tenant: string, id: string) {
    const row = this.#get('SELECT * FROM occupancy_sensors WHERE tenant = ? AND id = ?', tenant, id);
    return Promise.resolve(row && toSensor(row));
  }
  sensors(query: ListQuery) {
    return Promise.resolve(this.#list('occupancy_sensors', query, toSensor));
  }
  knownSensors(tenant: string, ids: readonly string[]) {
    const wanted = new Set(ids);
    const known = new Set<string>();
    if (wanted.size > FEW) {
      // One scan of the tenant's sensors beats a lookup per id once a batch names many of them.
      for (const r of this.#all('SELECT id FROM occupancy_sensors WHERE tenant = ?', tenant)) {
        if (wanted.has(r.id as string)) known.add(r.id as string);
      }
      return Promise.resolve(known);
    }
    for (const id of wanted) {
      if (this.#get('SELECT 1 AS n FROM occupancy_sensors WHERE tenant = ? AND id = ?', tenant, id)) {
        known.add(id);
      }
    }
    return Promise.resolve(known);
  }
  placement(tenant: string, id: string) {
    const row = this.#get('SELECT * FROM occupancy_placements WHERE tenant = ? AND id = ?', tenant, id);
    return Promise.resolve(row && toPlacement(row));
  }
  placements(query: ListQuery & { readonly sensor?: string | undefined }) {
    return Promise.resolve(
      query.sensor === undefined
        ? this.#list('occupancy_placements', query, toPlacement)
        : this.#list('occupancy_placements', query, toPlacement, ' AND sensor = ?', [query.sensor]),
    );
  }
  placementsOf(tenant: string, sensors: readonly string[]) {
    if (sensors.length > FEW) {
      const wanted = new Set(sensors);
      return Promise.resolve(
        this.#all('SELECT * FROM occupancy_placements WHERE tenant = ? ORDER BY sensor, valid_from', tenant)
          .filter((r) => wanted.has(r.sensor as string))
          .map(toPlacement),
      );
    }
    const out: Placement[] = [];
    for (const sensor of sensors) {
      out.push(
        ...this.#all(
          'SELECT * FROM occupancy_placements WHERE tenant = ? AND sensor = ? ORDER BY valid_from',
          tenant,
          sensor,
        ).map(toPlacement),
      );
    }
    return Promise.resolve(out);
  }
  placementsOnDoorway(tenant: string, doorway: string) {
    return this.#sum(
      'SELECT COUNT(*) AS n FROM occupancy_placements WHERE tenant = ? AND doorway = ?',
      tenant,
      doorway,
    );
  }
  referencesToSpace(tenant: string, space: string) {
    return this.#sum(
      `SELECT (SELECT COUNT(*) FROM occupancy_spaces WHERE tenant = ? AND parent = ?)
            + (SELECT COUNT(*) FROM occupancy_doorways WHERE tenant = ? AND (side_a = ? OR side_b = ?)) AS n`,
      tenant,
      space,
      tenant,
      space,
      space,
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
    return Promise.resolve(
      this.#all(
        `SELECT * FROM occupancy_events WHERE ${where.join(' AND ')} ORDER BY ts, key LIMIT ?`,
        ...params,
        query.limit,
      ).map(toEvent),
    );
  }
  unplacedCount(tenant: string, sensor: string) {
    return this.#sum(
      'SELECT COUNT(*) AS n FROM occupancy_events WHERE tenant = ? AND sensor = ? AND placement IS NULL',
      tenant,
      sensor,
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
  /** Rows as arrays, not objects: every count reads up to a few hundred of them. */
  #stepsOf(span: Span): Statement {
    const id = `steps:${span.level}:${span.total === true}`;
    let statement = this.#statements.get(id);
    if (!statement) {
      const { table, time, net, min } = LEVEL_ROWS[span.level];
      const where = `WHERE tenant = ? AND space = ? AND ${time} >= ? AND ${time} < ?`;
      const sql = span.total
        ? `SELECT COALESCE(SUM(${net}), 0) FROM ${table} ${where}`
        : `SELECT ${net}, ${min} FROM ${table} ${where} ORDER BY ${time}${span.level === 'delta' ? ', key' : ''}`;
      statement = this.#db.prepare(sql).raw(true);
      this.#statements.set(id, statement);
    }
    return statement;
  }
  minutes(tenant: string, space: string, from: number, to: number) {
    return Promise.resolve(this.#segments('occupancy_minutes', 'minute', tenant, space, from, to));
  }
  hours(tenant: string, space: string, from: number, to: number) {
    return Promise.resolve(this.#segments('occupancy_hours', 'hour', tenant, space, from, to));
  }
  /** Rows as arrays, not objects: every sink batch composes hundreds of hours from their minutes. */
  #segments(table: string, time: string, tenant: string, space: string, from: number, to: number) {
    const id = `segments:${table}`;
    let statement = this.#statements.get(id);
    if (!statement) {
      statement = this.#db
        .prepare(
          `SELECT ${time}, net, min_prefix, max_prefix, entries, exits, late FROM ${table}
           WHERE tenant = ? AND space = ? AND ${time} >= ? AND ${time} < ? ORDER BY ${time}`,
        )
        .raw(true);
      this.#statements.set(id, statement);
    }
    return (statement.all(tenant, space, from, to) as number[][]).map(
      ([at, net, min, max, entries, exits, late]): [number, Segment] => [
        at!,
        { net: net!, min: min!, max: max!, entries: entries!, exits: exits!, late: late! },
      ],
    );
  }
  deltas(tenant: string, space: string, from: number, to: number) {
    return Promise.resolve(
      this.#all(
        `SELECT ts, key, delta, late FROM occupancy_deltas WHERE tenant = ? AND space = ? AND ts >= ? AND ts < ?
         ORDER BY ts, key`,
        tenant,
        space,
        from,
        to,
      ).map((r): Delta => ({
        space,
        ts: r.ts as number,
        key: r.key as string,
        delta: r.delta as 1 | -1,
        late: r.late === 1,
      })),
    );
  }

  /** Renames a space, doorway or sensor (`table` is one of ours, never input); false if there is none. */
  #rename(table: string, tenant: string, id: string, name: string): Promise<boolean> {
    return Promise.resolve(
      this.#run(`UPDATE ${table} SET name = ? WHERE tenant = ? AND id = ?`, name, tenant, id) === 1,
    );
  }
  /** Deletes a space, doorway or sensor (`table` is one of ours, never input); false if there is none. */
  #delete(table: string, tenant: string, id: string): Promise<boolean> {
    return Promise.resolve(this.#run(`DELETE FROM ${table} WHERE tenant = ? AND id = ?`, tenant, id) === 1);
  }
  insertSpace(tenant: string, s: Space) {
    return Promise.resolve(
      this.#run(
        'INSERT INTO occupancy_spaces (tenant, id, name, parent, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        tenant,
        s.id,
        s.name,
        s.parent,
        s.createdAt,
      ) === 1,
    );
  }
  renameSpace(tenant: string, id: string, name: string) {
    return this.#rename('occupancy_spaces', tenant, id, name);
  }
  deleteSpace(tenant: string, id: string) {
    return this.#delete('occupancy_spaces', tenant, id);
  }
  insertDoorway(tenant: string, d: Doorway) {
    return Promise.resolve(
      this.#run(
        `INSERT INTO occupancy_doorways (tenant, id, name, side_a, side_b, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
        tenant,
        d.id,
        d.name,
        d.a,
        d.b,
        d.createdAt,
      ) === 1,
    );
  }
  renameDoorway(tenant: string, id: string, name: string) {
    return this.#rename('occupancy_doorways', tenant, id, name);
  }
  deleteDoorway(tenant: string, id: string) {
    return this.#delete('occupancy_doorways', tenant, id);
  }
  insertSensor(tenant: string, s: Sensor) {
    return Promise.resolve(
      this.#run(
        'INSERT INTO occupancy_sensors (tenant, id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        tenant,
        s.id,
        s.name,
        s.createdAt,
      ) === 1,
    );
  }
  renameSensor(tenant: string, id: string, name: string) {
    return this.#rename('occupancy_sensors', tenant, id, name);
  }
  deleteSensor(tenant: string, id: string) {
    return this.#delete('occupancy_sensors', tenant, id);
  }
  insertPlacement(tenant: string, p: Placement) {
    return Promise.resolve(
      this.#run(
        `INSERT INTO occupancy_placements (tenant, id, sensor, doorway, positive_side, valid_from, valid_to, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        tenant,
        p.id,
        p.sensor,
        p.doorway,
        p.positive,
        p.from,
        p.to,
        p.createdAt,
      ) === 1,
    );
  }
  updatePlacement(tenant: string, p: Placement) {
    this.#run(
      `UPDATE occupancy_placements SET doorway = ?, positive_side = ?, valid_from = ?, valid_to = ?
       WHERE tenant = ? AND id = ?`,
      p.doorway,
      p.positive,
      p.from,
      p.to,
      tenant,
      p.id,
    );
    return Promise.resolve();
  }
  deletePlacement(tenant: string, id: string) {
    return Promise.resolve(
      this.#run('DELETE FROM occupancy_placements WHERE tenant = ? AND id = ?', tenant, id) === 1,
    );
  }
  insertEvents(tenant: string, events: readonly SensorEvent[]) {
    const fresh: SensorEvent[] = [];
    for (const e of events) {
      const inserted = this.#run(
        `INSERT INTO occupancy_events (tenant, key, sensor, ts, direction, received_at, late, placement)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        tenant,
        e.key,
        e.sensor,
        e.ts,
        e.direction,
        e.receivedAt,
        e.late ? 1 : 0,
        e.placement,
      );
      if (inserted === 1) fresh.push(e);
    }
    return Promise.resolve(fresh);
  }
  eventsOf(tenant: string, sensor: string, from: number, to: number | null) {
    return Promise.resolve(
      this.#all(
        `SELECT * FROM occupancy_events WHERE tenant = ? AND sensor = ? AND ts >= ? AND ts < ? ORDER BY ts, key`,
        tenant,
        sensor,
        from,
        to ?? Number.MAX_SAFE_INTEGER,
      ).map(toEvent),
    );
  }
  setPlacementOf(tenant: string, key: string, placement: string | null) {
    this.#run(
      'UPDATE occupancy_events SET placement = ? WHERE tenant = ? AND key = ?',
      placement,
      tenant,
      key,
    );
    return Promise.resolve();
  }
  takeDeltas(tenant: string, key: string) {
    const rows = this.#all(
      'SELECT space, ts, key, delta, late FROM occupancy_deltas WHERE tenant = ? AND key = ?',
      tenant,
      key,
    );
    this.#run('DELETE FROM occupancy_deltas WHERE tenant = ? AND key = ?', tenant, key);
    return Promise.resolve(
      rows.map((r): Delta => ({
        space: r.space as string,
        ts: r.ts as number,
        key: r.key as string,
        delta: r.delta as 1 | -1,
        late: r.late === 1,
      })),
    );
  }
  insertDeltas(tenant: string, deltas: readonly Delta[]) {
    for (const d of deltas) {
      this.#run(
        'INSERT INTO occupancy_deltas (tenant, space, ts, key, delta, late) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        tenant,
        d.space,
        d.ts,
        d.key,
        d.delta,
        d.late ? 1 : 0,
      );
    }
    return Promise.resolve();
  }
  minute(tenant: string, space: string, minute: number) {
    const row = this.#get(
      'SELECT * FROM occupancy_minutes WHERE tenant = ? AND space = ? AND minute = ?',
      tenant,
      space,
      minute,
    );
    return Promise.resolve(
      row && { ...toSegment(row), lastTs: row.last_ts as number, lastKey: row.last_key as string },
    );
  }
  putMinute(tenant: string, space: string, minute: number, s: MinuteRow | undefined) {
    if (s === undefined) {
      this.#run(
        'DELETE FROM occupancy_minutes WHERE tenant = ? AND space = ? AND minute = ?',
        tenant,
        space,
        minute,
      );
    } else {
      this.#run(
        `INSERT INTO occupancy_minutes (tenant, space, minute, net, min_prefix, max_prefix, entries, exits, late, last_ts, last_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, space, minute) DO UPDATE SET net = excluded.net, min_prefix = excluded.min_prefix,
           max_prefix = excluded.max_prefix, entries = excluded.entries, exits = excluded.exits, late = excluded.late,
           last_ts = excluded.last_ts, last_key = excluded.last_key`,
        tenant,
        space,
        minute,
        s.net,
        s.min,
        s.max,
        s.entries,
        s.exits,
        s.late,
        s.lastTs,
        s.lastKey,
      );
    }
    return Promise.resolve();
  }
  putHour(tenant: string, space: string, hour: number, s: Segment | undefined) {
    this.#putSegment('occupancy_hours', 'hour', tenant, space, hour, s);
    return Promise.resolve();
  }
  putDay(tenant: string, space: string, day: number, s: Segment | undefined) {
    this.#putSegment('occupancy_days', 'day', tenant, space, day, s);
    return Promise.resolve();
  }
  #putSegment(
    table: string,
    time: string,
    tenant: string,
    space: string,
    at: number,
    s: Segment | undefined,
  ) {
    if (s === undefined) {
      this.#run(`DELETE FROM ${table} WHERE tenant = ? AND space = ? AND ${time} = ?`, tenant, space, at);
      return;
    }
    this.#run(
      `INSERT INTO ${table} (tenant, space, ${time}, net, min_prefix, max_prefix, entries, exits, late)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, space, ${time}) DO UPDATE SET net = excluded.net, min_prefix = excluded.min_prefix,
         max_prefix = excluded.max_prefix, entries = excluded.entries, exits = excluded.exits, late = excluded.late`,
      tenant,
      space,
      at,
      s.net,
      s.min,
      s.max,
      s.entries,
      s.exits,
      s.late,
    );
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

/** Occupancy on SQLite: one class reads on the read connection and writes in sink transactions. */
export const sqliteOccupancy: SqliteWing<OccupancyRepositories, OccupancyWriters> = {
  migrations: sqliteMigrations,
  repositories: ({ reader }) => ({ occupancy: new SqliteOccupancy(reader) }),
  writers: (writer) => ({ occupancy: new SqliteOccupancy(writer) }),
};
