import type { Pool } from 'pg';
import { postgresColumns as c } from '../../store/columns.ts';
import { storeError, type Queryable } from '../../store/postgres/errors.ts';
import { lockedTransaction } from '../../store/postgres/locked-transaction.ts';
import type { PostgresTx, PostgresWing } from '../../store/postgres/wing.ts';
import type { Channel, ChannelSpec } from '../channels.ts';
import type { Envelope } from '../notification.ts';
import { postgresMigrations } from './postgres-migrations.ts';
import type {
  ChannelRepository,
  HistoryQuery,
  NotificationWriter,
  NotifyRepositories,
  NotifyWriters,
  OutboxRepository,
  OutboxRow,
  Settlement,
} from './repositories.ts';
import {
  CHANNEL_COLUMNS,
  channelValues,
  dueTimes,
  OUTBOX_COLUMNS,
  OUTBOX_INSERT_COLUMNS,
  recordValues,
  toChannel,
  toOutboxRow,
  type ChannelDbRow,
  type OutboxDbRow,
} from './rows.ts';

/** Advisory lock that serializes replacements of the file's channels across processes. */
const CHANNELS_LOCK = 0x62636e10;

/** The unnest types of `recordValues`, in order. */
const OUTBOX_TYPES =
  'text[], text[], text[], text[], text[], text[], text[], int8[], int8[], text[], int4[], int8[], int8[], int4[], text[], int4[]';

/** Rows of values as one array per column: the parameters of an `unnest`. At least one row. */
const columnsOf = (rows: readonly (readonly unknown[])[]): unknown[][] =>
  rows[0]!.map((_, i) => rows.map((row) => row[i]));

/** `$1::text[], $2::int8[], …` for the given types. */
const unnestParams = (types: string) =>
  types
    .split(',')
    .map((t, i) => `$${i + 1}::${t.trim()}`)
    .join(', ');

/** Channels on PostgreSQL: each write its own statement; the file's set in one locked transaction. */
export class PostgresChannelRepository implements ChannelRepository {
  readonly #db: Queryable;
  readonly #pool: Pool;
  constructor(db: Queryable, pool: Pool) {
    this.#db = db;
    this.#pool = pool;
  }

  async get(tenant: string, id: string): Promise<Channel | undefined> {
    const { rows } = await this.#db.query<ChannelDbRow>(
      `SELECT ${CHANNEL_COLUMNS} FROM notify_channels WHERE tenant = $1 AND id = $2`,
      [tenant, id],
    );
    return rows[0] && toChannel(rows[0], c);
  }

  async list(tenant: string, limit: number, after?: string): Promise<Channel[]> {
    const { rows } = await this.#db.query<ChannelDbRow>(
      `SELECT ${CHANNEL_COLUMNS} FROM notify_channels WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [tenant, after ?? '', limit],
    );
    return rows.map((r) => toChannel(r, c));
  }

  async create(channel: Channel): Promise<boolean> {
    const result = await this.#db.query(
      `INSERT INTO notify_channels (${CHANNEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
      channelValues(channel),
    );
    return result.rowCount === 1;
  }

  async update(tenant: string, id: string, spec: ChannelSpec, kind: string, at: number): Promise<boolean> {
    const result = await this.#db.query(
      `UPDATE notify_channels SET name = $1, url = $2, template = $3, kind = $4, updated_at = $5, paused_until = NULL
       WHERE tenant = $6 AND id = $7`,
      [spec.name, spec.url, spec.template ?? null, kind, at, tenant, id],
    );
    return result.rowCount === 1;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    const result = await this.#db.query('DELETE FROM notify_channels WHERE tenant = $1 AND id = $2', [
      tenant,
      id,
    ]);
    return result.rowCount === 1;
  }

  async replaceFileChannels(channels: readonly Channel[]): Promise<{ upserted: number; deleted: number }> {
    const unique = [...new Map(channels.map((ch) => [`${ch.tenant}\u0000${ch.id}`, ch])).values()];
    try {
      return await lockedTransaction(this.#pool, CHANNELS_LOCK, async (client) => {
        const upserted =
          unique.length === 0
            ? { rowCount: 0 }
            : await client.query(
                `INSERT INTO notify_channels (${CHANNEL_COLUMNS})
           SELECT tenant, id, name, kind, url, template, 'file', created_at, updated_at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int8[])
             AS u (tenant, id, name, kind, url, template, created_at, updated_at)
           ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, kind = excluded.kind, url = excluded.url,
             template = excluded.template, updated_at = excluded.updated_at, paused_until = NULL
           WHERE notify_channels.source = 'file' AND (notify_channels.name <> excluded.name
             OR notify_channels.url <> excluded.url OR notify_channels.template IS DISTINCT FROM excluded.template)`,
                columnsOf(unique.map((ch) => [...channelValues(ch).slice(0, 6), ch.createdAt, ch.updatedAt])),
              );
        const removed = await client.query(
          `DELETE FROM notify_channels m WHERE m.source = 'file' AND NOT EXISTS (
             SELECT 1 FROM unnest($1::text[], $2::text[]) AS k (tenant, id) WHERE k.tenant = m.tenant AND k.id = m.id)`,
          [unique.map((ch) => ch.tenant), unique.map((ch) => ch.id)],
        );
        return { upserted: upserted.rowCount ?? 0, deleted: removed.rowCount ?? 0 };
      });
    } catch (err) {
      throw storeError(err);
    }
  }
}

/**
 * The outbox on PostgreSQL. A claim is one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED)`: rows
 * another process is claiming at that moment are passed over rather than waited for, and a row is
 * leased to one worker at a time however many api processes run.
 */
export class PostgresOutboxRepository implements OutboxRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async claim(o: { now: number; owner: string; leaseMs: number; limit: number }): Promise<OutboxRow[]> {
    const { rows } = await this.#db.query<OutboxDbRow>(
      `UPDATE notify_outbox o SET lease_owner = $1, lease_until = $2, attempts = o.attempts + 1
       FROM (
         SELECT d.id FROM notify_outbox d
         WHERE d.state = 'pending' AND d.due_at <= $3 AND (d.lease_until IS NULL OR d.lease_until <= $3)
           AND NOT EXISTS (SELECT 1 FROM notify_channels ch
                           WHERE ch.tenant = d.tenant AND ch.id = d.channel AND ch.paused_until > $3)
         ORDER BY d.due_at, d.id LIMIT $4
         FOR UPDATE OF d SKIP LOCKED
       ) due
       WHERE o.id = due.id
       RETURNING ${OUTBOX_COLUMNS.split(', ')
         .map((col) => `o.${col}`)
         .join(', ')}`,
      [o.owner, o.now + o.leaseMs, o.now, o.limit],
    );
    return rows.map((r) => toOutboxRow(r, c)).sort((a, b) => a.id - b.id);
  }

  async settle(owner: string, settlements: readonly Settlement[]): Promise<void> {
    if (settlements.length === 0) return;
    await this.#db.query(
      `UPDATE notify_outbox o SET state = s.state, due_at = s.due_at, last_attempt_at = s.at,
         sent_at = CASE WHEN s.state = 'sent' THEN s.at END, status = s.status, answer = s.answer,
         batch_size = s.batch_size, lease_owner = NULL, lease_until = NULL
       FROM unnest($1::int8[], $2::text[], $3::int8[], $4::int8[], $5::int4[], $6::text[], $7::int4[])
         AS s (id, state, due_at, at, status, answer, batch_size)
       WHERE o.id = s.id AND o.lease_owner = $8`,
      [
        ...columnsOf(settlements.map((s) => [s.id, s.state, s.dueAt, s.at, s.status, s.answer, s.batchSize])),
        owner,
      ],
    );
  }

  async pause(tenant: string, channel: string, until: number): Promise<void> {
    await this.#db.query(
      'UPDATE notify_channels SET paused_until = GREATEST(COALESCE(paused_until, 0), $1) WHERE tenant = $2 AND id = $3',
      [until, tenant, channel],
    );
  }

  async record(row: Omit<OutboxRow, 'id'>): Promise<void> {
    await this.#db.query(
      `INSERT INTO notify_outbox (${OUTBOX_INSERT_COLUMNS}) VALUES (${recordValues(row)
        .map((_, i) => `$${i + 1}`)
        .join(', ')})
       ON CONFLICT (tenant, channel, key) DO NOTHING`,
      recordValues(row),
    );
  }

  async history(q: HistoryQuery): Promise<OutboxRow[]> {
    const params: unknown[] = [q.tenant];
    const where = ['tenant = $1'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(`${sql} $${params.length}`);
    };
    if (q.source !== undefined) add('source =', q.source);
    if (q.subject !== undefined) add('subject =', q.subject);
    if (q.channel !== undefined) add('channel =', q.channel);
    if (q.before !== undefined) add('id <', q.before);
    params.push(q.limit);
    const { rows } = await this.#db.query<OutboxDbRow>(
      `SELECT ${OUTBOX_COLUMNS} FROM notify_outbox WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => toOutboxRow(r, c));
  }

  async prune(before: number): Promise<number> {
    const result = await this.#db.query(
      "DELETE FROM notify_outbox WHERE state <> 'pending' AND created_at < $1",
      [before],
    );
    return result.rowCount ?? 0;
  }

  async backlog(now: number): Promise<{ pending: number; due: number }> {
    const { rows } = await this.#db.query<{ pending: string; due: string }>(
      "SELECT count(*) AS pending, count(*) FILTER (WHERE due_at <= $1) AS due FROM notify_outbox WHERE state = 'pending'",
      [now],
    );
    return { pending: Number(rows[0]!.pending), due: Number(rows[0]!.due) };
  }
}

/** Queues notifications inside a store transaction: one `INSERT … SELECT FROM unnest` per batch. */
export class PostgresNotificationWriter implements NotificationWriter {
  readonly #tx: PostgresTx;
  constructor(tx: PostgresTx) {
    this.#tx = tx;
  }

  async enqueue(envelopes: readonly Envelope[], now: number): Promise<number> {
    if (envelopes.length === 0) return 0;
    const client = this.#tx.client;
    const due = await dueTimes(envelopes, now, async (tenant, channel) => {
      const { rows } = await client.query<{ due: string | null }>(
        `SELECT min(due_at) AS due FROM notify_outbox
         WHERE tenant = $1 AND channel = $2 AND state = 'pending' AND attempts = 0 AND due_at > $3`,
        [tenant, channel, now],
      );
      return rows[0]?.due == null ? null : Number(rows[0].due);
    });
    const values = envelopes.map((e, i) =>
      recordValues({
        tenant: e.tenant,
        channel: e.channel,
        key: e.key,
        notification: e.notification,
        createdAt: now,
        dueAt: due[i]!,
        state: 'pending',
        attempts: 0,
        lastAttemptAt: null,
        sentAt: null,
        status: null,
        answer: null,
        batchSize: null,
      }),
    );
    const result = await client.query(
      `INSERT INTO notify_outbox (${OUTBOX_INSERT_COLUMNS})
       SELECT ${OUTBOX_INSERT_COLUMNS}
       FROM unnest(${unnestParams(OUTBOX_TYPES)}) WITH ORDINALITY AS u (${OUTBOX_INSERT_COLUMNS}, n)
       ORDER BY n
       ON CONFLICT (tenant, channel, key) DO NOTHING`,
      columnsOf(values),
    );
    return result.rowCount ?? 0;
  }
}

/** Channels and the notification outbox on PostgreSQL (small tables, not partitioned). */
export const postgresNotify: PostgresWing<NotifyRepositories, NotifyWriters> = {
  name: 'notify',
  migrations: postgresMigrations,
  open: ({ db, pool }) => ({
    repositories: {
      channels: new PostgresChannelRepository(db, pool),
      outbox: new PostgresOutboxRepository(db),
    },
    writers: (tx) => ({ notifications: new PostgresNotificationWriter(tx) }),
  }),
};
