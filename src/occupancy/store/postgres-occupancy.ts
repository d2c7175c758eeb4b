import type { PoolClient } from 'pg';
import { postgresColumns as c, type Columns } from '../../store/columns.ts';
import { copyIn, csv } from '../../store/postgres/copy.ts';
import type { QueryOptions, Queryable } from '../../store/postgres/errors.ts';
import { dayOf } from '../../store/postgres/partitions.ts';
import type { PostgresTx, PostgresWing } from '../../store/postgres/wing.ts';
import type { Delta, Doorway, Placement, Segment, Sensor, SensorEvent, Space } from '../model.ts';
import { DeltaPartitions } from './delta-partitions.ts';
import { postgresMigrations } from './postgres-migrations.ts';
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
import { occupancyStorage } from './storage.ts';

/**
 * Where each level's rows live, their step (net change, lowest running sum), their order, and the
 * letter that names a span of them (capital: its total) in a statement name (at most 63 bytes).
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
    table: 'occupancy_deltas',
    time: 'ts',
    net: 'delta',
    min: 'least(delta, 0)',
    order: 'ts, key',
    code: 'e',
    totalCode: 'E',
  },
} as const;

/** Replacing and deleting one rolled-up row of a period. */
function putSql(period: Period): { readonly upsert: string; readonly remove: string } {
  const { table, columns } = ROLLUPS[period];
  return {
    upsert: `INSERT INTO ${table} (tenant, space, ${period}, ${columns.join(', ')})
       VALUES (${Array.from({ length: columns.length + 3 }, (_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (tenant, space, ${period}) DO UPDATE SET ${columns.map((k) => `${k} = excluded.${k}`).join(', ')}`,
    remove: `DELETE FROM ${table} WHERE tenant = $1 AND space = $2 AND ${period} = $3`,
  };
}
const PUT_SQL = { minute: putSql('minute'), hour: putSql('hour'), day: putSql('day') };

/** Held-back deltas are written once this many wait, to bound memory on huge transactions. */
const MAX_PENDING_DELTAS = 10_000;
const EVENT_COLUMNS = 'key, sensor, ts, direction, received_at, late, placement';

/**
 * Occupancy rows in PostgreSQL: the same tables, keys and answers as the SQLite store
 * (sqlite-occupancy.ts). Text keys are `COLLATE "C"`, so every ORDER BY and keyset comparison is
 * bytewise as in SQLite. Reads outside a transaction go through the pool.
 */
export class PostgresOccupancyReader implements OccupancyReader {
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
    sensor?: string,
  ): Promise<T[]> {
    const params: unknown[] = [query.tenant, query.after ?? '', query.limit];
    const extra = sensor === undefined ? '' : ` AND sensor = $${params.push(sensor)}`;
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
  placements(query: ListQuery & { readonly sensor?: string | undefined }) {
    return this.#list('occupancy_placements', query, toPlacement, query.sensor);
  }
  async placementsOf(tenant: string, sensors: readonly string[]) {
    const rows = await this.rows<PlacementRow>(
      `SELECT * FROM occupancy_placements WHERE tenant = $1 AND sensor = ANY ($2)
       ORDER BY sensor, valid_from`,
      [tenant, [...new Set(sensors)]],
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
  /**
   * Every span in one statement (one round trip): each arm numbers its rows in time order, and the
   * union is sorted by span and that number.
   */
  async steps(tenant: string, space: string, spans: readonly Span[]) {
    if (spans.length === 0) return [];
    const params: unknown[] = [tenant, space];
    const arms = spans.map((span, i) => {
      const { table, time, net, min, order } = LEVEL_ROWS[span.level];
      const where = `WHERE tenant = $1 AND space = $2 AND ${time} >= $${params.push(span.from)} AND ${time} < $${params.push(span.to)}`;
      return span.total
        ? `SELECT ${i} AS span, 0::int8 AS n, coalesce(sum(${net}), 0) AS net, 0 AS min FROM ${table} ${where}`
        : `SELECT ${i} AS span, row_number() OVER (ORDER BY ${order}) AS n, ${net} AS net, ${min} AS min
           FROM ${table} ${where}`;
    });
    // A count has one of a few dozen shapes of spans; each is a named statement, so the server stops
    // planning it (about half the server's time per count) once it keeps a generic plan.
    const shape = spans.map((span) => LEVEL_ROWS[span.level][span.total ? 'totalCode' : 'code']).join('');
    const text = `${arms.join('\nUNION ALL\n')}\nORDER BY span, n`;
    const rows = await this.rows<{ span: number; net: unknown; min: unknown }>(
      { name: `occupancy-steps:${shape}`, text },
      params,
    );
    const out = spans.map((): number[] => []);
    for (const r of rows) {
      const steps = out[r.span]!;
      if (spans[r.span]!.total) steps.push(c.int(r.net));
      else steps.push(c.int(r.net), c.int(r.min));
    }
    return out;
  }
  minutes(tenant: string, space: string, from: number, to: number) {
    return this.#segments('minute', tenant, space, from, to);
  }
  hours(tenant: string, space: string, from: number, to: number) {
    return this.#segments('hour', tenant, space, from, to);
  }
  /** Read as arrays, the form SQLite reads them in, so both backends map them alike. */
  async #segments(period: 'minute' | 'hour', tenant: string, space: string, from: number, to: number) {
    const rows = await this.rows<TimedSegmentRow>(
      {
        text: `SELECT ${period}, ${SEGMENT_COLUMNS.join(', ')} FROM ${ROLLUPS[period].table}
               WHERE tenant = $1 AND space = $2 AND ${period} >= $3 AND ${period} < $4 ORDER BY ${period}`,
        rowMode: 'array',
      },
      [tenant, space, from, to],
    );
    return rows.map((r) => toTimedSegment(r, c));
  }
  async deltas(tenant: string, space: string, from: number, to: number) {
    const rows = await this.rows<DeltaRow>(
      `SELECT space, ts, key, delta, late FROM occupancy_deltas
       WHERE tenant = $1 AND space = $2 AND ts >= $3 AND ts < $4 ORDER BY ts, key`,
      [tenant, space, from, to],
    );
    return rows.map((r) => toDelta(r, c));
  }
}

/**
 * Occupancy writes on the connection of one store transaction; its reads see the transaction's own
 * writes. A batch of events is COPYed into a session-local staging table, then one
 * `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING key` keeps the new ones: the primary key
 * (tenant, key) decides, and only the rows really inserted are returned, so the counter counts and
 * rolls up exactly those.
 */
export class PostgresOccupancyWriter extends PostgresOccupancyReader implements OccupancyWriter {
  readonly #tx: PostgresTx;
  readonly #client: PoolClient;
  readonly #partitions: DeltaPartitions;
  /** The staging table holds this transaction's earlier batch (it is emptied at commit). */
  #staging = false;
  /**
   * Times of events read by `eventsOf` in this transaction, by key. An event's deltas all carry its
   * time, so `takeDeltas` can name the one partition that holds them instead of probing every day's.
   */
  readonly #tsOf = new Map<string, number>();
  /** Deltas inserted but not yet written (see `insertDeltas`). */
  readonly #pending: (Delta & { tenant: string })[] = [];

  /** Writes in `tx`; `partitions` are the deltas' days, made on demand. */
  constructor(tx: PostgresTx, partitions: DeltaPartitions) {
    super(tx.client);
    this.#tx = tx;
    this.#client = tx.client;
    this.#partitions = partitions;
  }

  async #run(sql: string, params: unknown[]): Promise<number> {
    return (await this.#client.query(sql, params)).rowCount ?? 0;
  }
  /** Runs a statement that changes at most one row; true when it did. */
  async #one(sql: string, params: unknown[]): Promise<boolean> {
    return (await this.#run(sql, params)) === 1;
  }

  rename(kind: Named, tenant: string, id: string, name: string) {
    return this.#one(`UPDATE ${NAMED_TABLES[kind]} SET name = $1 WHERE tenant = $2 AND id = $3`, [
      name,
      tenant,
      id,
    ]);
  }
  delete(kind: Named, tenant: string, id: string) {
    return this.#one(`DELETE FROM ${NAMED_TABLES[kind]} WHERE tenant = $1 AND id = $2`, [tenant, id]);
  }
  insertSpace(tenant: string, s: Space) {
    return this.#one(
      `INSERT INTO occupancy_spaces (tenant, id, name, parent, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [tenant, s.id, s.name, s.parent, s.createdAt],
    );
  }
  insertDoorway(tenant: string, d: Doorway) {
    return this.#one(
      `INSERT INTO occupancy_doorways (tenant, id, name, side_a, side_b, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING`,
      [tenant, d.id, d.name, d.a, d.b, d.createdAt],
    );
  }
  insertSensor(tenant: string, s: Sensor) {
    return this.#one(
      `INSERT INTO occupancy_sensors (tenant, id, name, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [tenant, s.id, s.name, s.createdAt],
    );
  }
  insertPlacement(tenant: string, p: Placement) {
    return this.#one(
      `INSERT INTO occupancy_placements (tenant, id, sensor, doorway, positive_side, valid_from, valid_to, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
      [tenant, p.id, p.sensor, p.doorway, p.positive, p.from, p.to, p.createdAt],
    );
  }
  async updatePlacement(tenant: string, p: Placement) {
    await this.#run(
      `UPDATE occupancy_placements SET doorway = $1, positive_side = $2, valid_from = $3, valid_to = $4
       WHERE tenant = $5 AND id = $6`,
      [p.doorway, p.positive, p.from, p.to, tenant, p.id],
    );
  }
  deletePlacement(tenant: string, id: string) {
    return this.#one('DELETE FROM occupancy_placements WHERE tenant = $1 AND id = $2', [tenant, id]);
  }

  async insertEvents(tenant: string, events: readonly SensorEvent[]) {
    if (events.length === 0) return [];
    const client = this.#client;
    // ON COMMIT DELETE ROWS: the table is emptied by every commit, so batches never see each other.
    const made = await this.#tx.stage(
      'stage_occupancy_events',
      `CREATE TEMP TABLE IF NOT EXISTS stage_occupancy_events (
        n integer NOT NULL, key text COLLATE "C" NOT NULL, sensor text COLLATE "C" NOT NULL,
        ts bigint NOT NULL, direction smallint NOT NULL, received_at bigint NOT NULL,
        late boolean NOT NULL, placement text COLLATE "C"
      ) ON COMMIT DELETE ROWS`,
    );
    if (!made && this.#staging) await client.query('TRUNCATE stage_occupancy_events');
    this.#staging = true;
    const lines = events.map(
      (e, n) =>
        `${n},${csv(e.key)},${csv(e.sensor)},${e.ts},${e.direction},${e.receivedAt},${e.late},${csv(e.placement)}\n`,
    );
    await copyIn(client, `COPY stage_occupancy_events (n, ${EVENT_COLUMNS}) FROM STDIN (FORMAT csv)`, lines);
    // Rows go in batch order, so of two with one key the first is kept, as in SQLite.
    const { rows } = await client.query<{ key: string }>(
      `INSERT INTO occupancy_events (tenant, ${EVENT_COLUMNS})
       SELECT $1, ${EVENT_COLUMNS} FROM stage_occupancy_events ORDER BY n
       ON CONFLICT DO NOTHING
       RETURNING key`,
      [tenant],
    );
    const fresh = new Set(rows.map((r) => r.key));
    const out: SensorEvent[] = [];
    for (const e of events) {
      if (!fresh.delete(e.key)) continue;
      out.push(e);
    }
    return out;
  }
  async eventsOf(tenant: string, sensor: string, from: number, to: number | null) {
    const rows = await this.rows<EventRow>(
      `SELECT * FROM occupancy_events WHERE tenant = $1 AND sensor = $2 AND ts >= $3 AND ts < $4
       ORDER BY ts, key`,
      [tenant, sensor, from, to ?? Number.MAX_SAFE_INTEGER],
    );
    const events = rows.map((r) => toEvent(r, c));
    for (const e of events) this.#tsOf.set(`${tenant}\0${e.key}`, e.ts);
    return events;
  }
  async setPlacementOf(tenant: string, key: string, placement: string | null) {
    await this.#run('UPDATE occupancy_events SET placement = $1 WHERE tenant = $2 AND key = $3', [
      placement,
      tenant,
      key,
    ]);
  }
  async takeDeltas(tenant: string, key: string) {
    await this.flushDeltas();
    // With the event's time the plan touches one partition; without it, every partition's key index.
    const ts = this.#tsOf.get(`${tenant}\0${key}`);
    const rows = await this.rows<DeltaRow>(
      `WITH taken AS (
         DELETE FROM occupancy_deltas WHERE tenant = $1 AND key = $2${ts === undefined ? '' : ' AND ts = $3'}
         RETURNING space, ts, key, delta, late
       )
       SELECT * FROM taken ORDER BY space, ts`,
      ts === undefined ? [tenant, key] : [tenant, key, ts],
    );
    return rows.map((r) => toDelta(r, c));
  }
  /**
   * Deltas are held back and written as one statement when something reads deltas in this
   * transaction, or before it commits (`flushDeltas`): a batch's events then cost one round trip for
   * all their deltas instead of one each. Nothing outside the transaction can tell the difference.
   */
  async insertDeltas(tenant: string, deltas: readonly Delta[]) {
    for (const d of deltas) this.#pending.push({ ...d, tenant });
    if (this.#pending.length >= MAX_PENDING_DELTAS) await this.flushDeltas();
  }
  /** Writes the deltas held back by `insertDeltas`; the store calls it before COMMIT. */
  async flushDeltas(): Promise<void> {
    if (this.#pending.length === 0) return;
    const rows = this.#pending.splice(0);
    await this.#tx.ensurePartitions(
      this.#partitions,
      rows.map((d) => dayOf(d.ts)),
    );
    await this.#client.query(
      `INSERT INTO occupancy_deltas (tenant, space, ts, key, delta, late)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::int2[], $6::bool[])
       ON CONFLICT DO NOTHING`,
      [
        rows.map((d) => d.tenant),
        rows.map((d) => d.space),
        rows.map((d) => d.ts),
        rows.map((d) => d.key),
        rows.map((d) => d.delta),
        rows.map((d) => d.late),
      ],
    );
  }
  override async steps(tenant: string, space: string, spans: readonly Span[]) {
    await this.flushDeltas();
    return super.steps(tenant, space, spans);
  }
  override async deltas(tenant: string, space: string, from: number, to: number) {
    await this.flushDeltas();
    return super.deltas(tenant, space, from, to);
  }
  async minute(tenant: string, space: string, minute: number) {
    const row = await this.row<MinuteDbRow>(
      'SELECT * FROM occupancy_minutes WHERE tenant = $1 AND space = $2 AND minute = $3',
      [tenant, space, minute],
    );
    return row && toMinute(row, c);
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
  async #put(period: Period, tenant: string, space: string, at: number, values: unknown[] | undefined) {
    const { upsert, remove } = PUT_SQL[period];
    if (values === undefined) await this.#run(remove, [tenant, space, at]);
    else await this.#run(upsert, [tenant, space, at, ...values]);
  }
  async resetProjection() {
    this.#pending.length = 0;
    // TRUNCATE rather than DELETE: replay empties tables of any size at once, inside its transaction.
    await this.#client.query(
      'TRUNCATE occupancy_deltas, occupancy_minutes, occupancy_hours, occupancy_days, occupancy_events',
    );
  }
}

/**
 * Occupancy on PostgreSQL: deltas in daily partitions made on demand inside the writing transaction
 * (never dropped: counts sum all history), written as one statement before anything reads them and
 * before commit.
 */
export const postgresOccupancy: PostgresWing<OccupancyRepositories, OccupancyWriters> = {
  name: 'occupancy',
  storage: occupancyStorage,
  migrations: postgresMigrations,
  open: ({ db, layout }) => {
    const partitions = new DeltaPartitions(layout);
    return {
      repositories: { occupancy: new PostgresOccupancyReader(db) },
      writers: (tx) => {
        const occupancy = new PostgresOccupancyWriter(tx, partitions);
        tx.beforeCommit(() => occupancy.flushDeltas());
        return { occupancy };
      },
    };
  },
};
