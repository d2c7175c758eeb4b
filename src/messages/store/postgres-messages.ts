import type { PoolClient } from 'pg';
import { copyIn, csv } from '../../store/postgres/copy.ts';
import { postgresColumns as c } from '../../store/columns.ts';
import type { Queryable } from '../../store/postgres/errors.ts';
import { dayOf, dayStart, TablePartitions } from '../../store/postgres/partitions.ts';
import type { PostgresTx, PostgresWing } from '../../store/postgres/wing.ts';
import { isoTime } from '../../wire/time.ts';
import {
  payloadJsonOf,
  type Message,
  type MessageCursor,
  type MessageQuery,
  type MessageRow,
} from '../model.ts';
import { postgresMigrations } from './postgres-migrations.ts';
import type { MessageReader, MessageRepositories, MessageWriter, MessageWriters } from './repositories.ts';
import { toMessage, withinBytes, type MessageDbRow } from './rows.ts';
import { messageStorage } from './storage.ts';

/** SQL for an epoch-millisecond parameter as timestamptz, exact to the millisecond. */
const ts = (param: string) => `(timestamptz 'epoch' + ${param}::int8 * interval '1 millisecond')`;
/** SQL for a timestamptz column as epoch milliseconds (float8, so the driver returns a number). */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

export class PostgresMessageReader implements MessageReader {
  readonly #pool: Queryable;
  constructor(pool: Queryable) {
    this.#pool = pool;
  }

  async list(query: MessageQuery): Promise<Message[]> {
    const params: unknown[] = [query.tenant];
    const where = ['tenant = $1'];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.after) {
      where.push(`(received_at, id) > (${ts(param(query.after.receivedAt))}, ${param(query.after.id)})`);
    }
    if (query.from !== undefined) where.push(`received_at >= ${ts(param(query.from))}`);
    if (query.to !== undefined) where.push(`received_at < ${ts(param(query.to))}`);
    const limit = param(query.limit);
    const { rows } = await this.#pool.query<MessageDbRow>(
      withinBytes(
        `SELECT id, ${ms('received_at')} AS received_at, payload, octet_length(payload::text)::int8 AS bytes
         FROM messages WHERE ${where.join(' AND ')}
         -- The table's columns, not the epoch-ms alias: ordering by the alias sorted every row.
         ORDER BY messages.received_at, messages.id LIMIT ${limit}`,
        param(query.maxBytes ?? Number.MAX_SAFE_INTEGER),
      ),
      params,
    );
    return rows.map((r) => toMessage(r, c));
  }

  async firstOf(tenant: string, keys: readonly string[]): Promise<Map<string, MessageCursor>> {
    const { rows } = await this.#pool.query<{ key: string; id: string; received_at: number }>(
      `SELECT key, id, ${ms('received_at')} AS received_at FROM message_keys WHERE tenant = $1 AND key = ANY($2)`,
      [tenant, keys],
    );
    return new Map(rows.map((r) => [r.key, { id: r.id, receivedAt: r.received_at }]));
  }

  async count(tenant: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM messages WHERE tenant = $1',
      [tenant],
    );
    return Number(rows[0]!.n);
  }
}

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * Bulk insert: COPY the batch into a session-local staging table, then one statement moves the new
 * rows into `messages`. A client-chosen key (one that differs from the id) must first win its place in
 * `message_keys`, so a retried ingest with a new id and time is dropped; a record without one can only
 * repeat as a redelivery, which the primary key drops. Either way a unique key decides, and the count
 * returned is exactly the rows that are new (rollups rely on that).
 */
export class PostgresMessageWriter implements MessageWriter {
  readonly #tx: PostgresTx;
  readonly #client: PoolClient;
  readonly #partitions: TablePartitions;
  /** The staging table holds this transaction's earlier batch (it is emptied at commit). */
  #staging = false;

  /** Writes in `tx`, making the rows' days' `partitions` first. */
  constructor(tx: PostgresTx, partitions: TablePartitions) {
    this.#tx = tx;
    this.#client = tx.client;
    this.#partitions = partitions;
  }

  async insert(rows: readonly MessageRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    await this.#tx.ensurePartitions(
      this.#partitions,
      rows.map((r) => dayOf(r.receivedAt)),
    );
    if (await this.#copyDirect(rows)) return rows.length;
    return this.#insertStaged(rows);
  }

  /**
   * The common case, a batch of records never stored before: COPY straight into `message_keys` and
   * `messages`, inside a savepoint. Any duplicate (a redelivery, a retried client key, a key repeated
   * within the batch) violates a unique key; the savepoint then undoes the whole attempt and the
   * staged path below decides row by row. So a batch is either all new (every row counted) or goes
   * the staged way, and the outcome is the same as the staged path's alone.
   */
  async #copyDirect(rows: readonly MessageRow[]): Promise<boolean> {
    const client = this.#client;
    const copy = (sql: string, lines: string[]) => copyIn(client, sql, lines);
    await client.query('SAVEPOINT beacon_copy');
    try {
      const keyed = rows.filter((r) => r.key !== r.id);
      if (keyed.length > 0) {
        await copy(
          'COPY message_keys (tenant, key, received_at, id) FROM STDIN (FORMAT csv)',
          keyed.map((r) => `${csv(r.tenant)},${csv(r.key)},${isoTime(r.receivedAt)},${csv(r.id)}\n`),
        );
      }
      // An unquoted empty field is NULL in CSV: the key column of a record without a client key.
      await copy(
        'COPY messages (tenant, received_at, id, key, payload) FROM STDIN (FORMAT csv)',
        rows.map(
          (r) =>
            `${csv(r.tenant)},${isoTime(r.receivedAt)},${csv(r.id)},${r.key === r.id ? '' : csv(r.key)},${csv(payloadJsonOf(r))}\n`,
        ),
      );
      await client.query('RELEASE SAVEPOINT beacon_copy');
      return true;
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      await client.query('ROLLBACK TO SAVEPOINT beacon_copy');
      await client.query('RELEASE SAVEPOINT beacon_copy');
      return false;
    }
  }

  /** The general case: COPY into a staging table, then insert only the rows whose keys are new. */
  async #insertStaged(rows: readonly MessageRow[]): Promise<number> {
    const client = this.#client;
    // ON COMMIT DELETE ROWS: the table is emptied by every commit, so batches never see each other.
    const made = await this.#tx.stage(
      'stage_messages',
      `CREATE TEMP TABLE IF NOT EXISTS stage_messages (
        n integer NOT NULL, tenant text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL,
        received_ms bigint NOT NULL, payload text NOT NULL
      ) ON COMMIT DELETE ROWS`,
    );
    if (!made && this.#staging) {
      await client.query('TRUNCATE stage_messages');
    }
    this.#staging = true;
    const lines = rows.map(
      (r, n) => `${n},${csv(r.tenant)},${csv(r.key)},${csv(r.id)},${r.receivedAt},${csv(payloadJsonOf(r))}\n`,
    );
    await copyIn(
      client,
      'COPY stage_messages (n, tenant, key, id, received_ms, payload) FROM STDIN (FORMAT csv)',
      lines,
    );
    // Client keys claim their place first, in array order, so within one batch the first row with a
    // key wins, as in SQLite. RETURNING names the rows that were really new: the count here, and what
    // a projection with rollups adds up (a duplicate must not be counted twice).
    const inserted = await client.query<{ id: string }>(`
      WITH claimed AS (
        INSERT INTO message_keys (tenant, key, received_at, id)
        SELECT tenant, key, ${ts('received_ms')}, id FROM stage_messages WHERE key <> id ORDER BY n
        ON CONFLICT DO NOTHING
        RETURNING id
      )
      INSERT INTO messages (tenant, received_at, id, key, payload)
      SELECT s.tenant, ${ts('s.received_ms')}, s.id, NULLIF(s.key, s.id), s.payload::json
      FROM stage_messages s
      WHERE s.key = s.id OR s.id IN (SELECT id FROM claimed)
      ON CONFLICT DO NOTHING
      RETURNING id`);
    return inserted.rows.length;
  }
}

/**
 * Messages on PostgreSQL: `messages` in daily partitions (created ahead and on demand for late rows),
 * dropped whole by the store's retention, which deletes the client keys of the dropped rows too.
 */
export const postgresMessages: PostgresWing<MessageRepositories, MessageWriters> = {
  name: 'messages',
  storage: messageStorage,
  migrations: postgresMigrations,
  open: ({ db, layout }) => {
    const partitions = new TablePartitions(layout, { table: 'messages', column: 'received_at' });
    return {
      repositories: { messages: new PostgresMessageReader(db) },
      writers: (tx) => ({ messages: new PostgresMessageWriter(tx, partitions) }),
      maintain: async (client, { now, ahead, retentionDays }) => {
        const today = dayOf(now);
        const created = await partitions.createDays(client, today, today + ahead);
        if (retentionDays === 0) return { created, dropped: [], keysDeleted: 0 };
        const cutoffDay = today - retentionDays;
        const dropped = await partitions.retain(client, cutoffDay);
        const keys = await client.query('DELETE FROM message_keys WHERE received_at < $1', [
          dayStart(cutoffDay),
        ]);
        return { created, dropped, keysDeleted: keys.rowCount ?? 0 };
      },
    };
  },
};
