import { sqliteColumns as c } from '../../store/columns.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import type { SqliteDatabase } from '../../sqlite/database.ts';
import type { Channel, ChannelSpec } from '../channels.ts';
import type { Envelope } from '../notification.ts';
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
import { sqliteMigrations } from './sqlite-migrations.ts';

const INSERT_OUTBOX = `INSERT INTO notify_outbox (${OUTBOX_INSERT_COLUMNS})
  VALUES (${Array<string>(16).fill('?').join(', ')}) ON CONFLICT (tenant, channel, key) DO NOTHING`;

/** Channels on SQLite: reads on the read-only connection, writes in the store's write queue. */
export class SqliteChannelRepository implements ChannelRepository {
  readonly #reader: SqliteDatabase;
  readonly #writer: SqliteDatabase;
  readonly #serial: <T>(fn: () => T) => Promise<T>;
  constructor(reader: SqliteDatabase, writer: SqliteDatabase, serial: <T>(fn: () => T) => Promise<T>) {
    this.#reader = reader;
    this.#writer = writer;
    this.#serial = serial;
  }

  get(tenant: string, id: string): Promise<Channel | undefined> {
    const row = this.#reader
      .prepare<[string, string], ChannelDbRow>(
        `SELECT ${CHANNEL_COLUMNS} FROM notify_channels WHERE tenant = ? AND id = ?`,
      )
      .get(tenant, id);
    return Promise.resolve(row && toChannel(row, c));
  }

  list(tenant: string, limit: number, after?: string): Promise<Channel[]> {
    const rows = this.#reader
      .prepare<[string, string, number], ChannelDbRow>(
        `SELECT ${CHANNEL_COLUMNS} FROM notify_channels WHERE tenant = ? AND id > ? ORDER BY id LIMIT ?`,
      )
      .all(tenant, after ?? '', limit);
    return Promise.resolve(rows.map((r) => toChannel(r, c)));
  }

  create(channel: Channel): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer
          .prepare(
            `INSERT INTO notify_channels (${CHANNEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          )
          .run(channelValues(channel)).changes === 1,
    );
  }

  update(tenant: string, id: string, spec: ChannelSpec, kind: string, at: number): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer
          .prepare(
            `UPDATE notify_channels SET name = ?, url = ?, template = ?, kind = ?, updated_at = ?, paused_until = NULL
             WHERE tenant = ? AND id = ?`,
          )
          .run(spec.name, spec.url, spec.template ?? null, kind, at, tenant, id).changes === 1,
    );
  }

  delete(tenant: string, id: string): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer.prepare('DELETE FROM notify_channels WHERE tenant = ? AND id = ?').run(tenant, id)
          .changes === 1,
    );
  }

  replaceFileChannels(channels: readonly Channel[]): Promise<{ upserted: number; deleted: number }> {
    const db = this.#writer;
    const upsert = db.prepare(
      `INSERT INTO notify_channels (${CHANNEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 'file', ?, ?)
       ON CONFLICT (tenant, id) DO UPDATE SET name = excluded.name, kind = excluded.kind, url = excluded.url,
         template = excluded.template, updated_at = excluded.updated_at, paused_until = NULL
       WHERE notify_channels.source = 'file' AND (notify_channels.name <> excluded.name
         OR notify_channels.url <> excluded.url OR notify_channels.template IS NOT excluded.template)`,
    );
    const current = db.prepare<[], { tenant: string; id: string }>(
      "SELECT tenant, id FROM notify_channels WHERE source = 'file'",
    );
    const remove = db.prepare("DELETE FROM notify_channels WHERE tenant = ? AND id = ? AND source = 'file'");
    return this.#serial(() =>
      db.transaction(() => {
        let upserted = 0;
        for (const ch of channels) {
          const v = channelValues(ch);
          upserted += upsert.run(...v.slice(0, 6), ch.createdAt, ch.updatedAt).changes;
        }
        const keep = new Set(channels.map((ch) => `${ch.tenant}\u0000${ch.id}`));
        let deleted = 0;
        for (const row of current.all())
          if (!keep.has(`${row.tenant}\u0000${row.id}`)) deleted += remove.run(row.tenant, row.id).changes;
        return { upserted, deleted };
      })(),
    );
  }
}

/** The outbox on SQLite: each claim and settlement is one statement in the store's write queue. */
export class SqliteOutboxRepository implements OutboxRepository {
  readonly #reader: SqliteDatabase;
  readonly #writer: SqliteDatabase;
  readonly #serial: <T>(fn: () => T) => Promise<T>;
  constructor(reader: SqliteDatabase, writer: SqliteDatabase, serial: <T>(fn: () => T) => Promise<T>) {
    this.#reader = reader;
    this.#writer = writer;
    this.#serial = serial;
  }

  claim(o: { now: number; owner: string; leaseMs: number; limit: number }): Promise<OutboxRow[]> {
    return this.#serial(() => {
      // One UPDATE … RETURNING: SQLite runs it under the database's write lock, so a second process
      // on the same file cannot take the same rows.
      const rows = this.#writer
        .prepare<[string, number, number, number, number, number], OutboxDbRow>(
          `UPDATE notify_outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1
           WHERE id IN (
             SELECT o.id FROM notify_outbox o
             WHERE o.state = 'pending' AND o.due_at <= ? AND (o.lease_until IS NULL OR o.lease_until <= ?)
               AND NOT EXISTS (SELECT 1 FROM notify_channels ch
                               WHERE ch.tenant = o.tenant AND ch.id = o.channel AND ch.paused_until > ?)
             ORDER BY o.due_at, o.id LIMIT ?)
           RETURNING ${OUTBOX_COLUMNS}`,
        )
        .all(o.owner, o.now + o.leaseMs, o.now, o.now, o.now, o.limit);
      return rows.map((r) => toOutboxRow(r, c)).sort((a, b) => a.id - b.id);
    });
  }

  settle(owner: string, settlements: readonly Settlement[]): Promise<void> {
    const db = this.#writer;
    const update = db.prepare(
      `UPDATE notify_outbox SET state = ?, due_at = ?, last_attempt_at = ?, sent_at = ?, status = ?, answer = ?,
         batch_size = ?, lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND lease_owner = ?`,
    );
    return this.#serial(() =>
      db.transaction(() => {
        for (const s of settlements) {
          update.run(
            s.state,
            s.dueAt,
            s.at,
            s.state === 'sent' ? s.at : null,
            s.status,
            s.answer,
            s.batchSize,
            s.id,
            owner,
          );
        }
      })(),
    );
  }

  pause(tenant: string, channel: string, until: number): Promise<void> {
    return this.#serial(() => {
      this.#writer
        .prepare(
          'UPDATE notify_channels SET paused_until = MAX(COALESCE(paused_until, 0), ?) WHERE tenant = ? AND id = ?',
        )
        .run(until, tenant, channel);
    });
  }

  record(row: Omit<OutboxRow, 'id'>): Promise<void> {
    return this.#serial(() => {
      this.#writer.prepare(INSERT_OUTBOX).run(recordValues(row));
    });
  }

  history(q: HistoryQuery): Promise<OutboxRow[]> {
    const where = ['tenant = ?'];
    const params: unknown[] = [q.tenant];
    const add = (sql: string, value: unknown) => {
      where.push(sql);
      params.push(value);
    };
    if (q.source !== undefined) add('source = ?', q.source);
    if (q.subject !== undefined) add('subject = ?', q.subject);
    if (q.channel !== undefined) add('channel = ?', q.channel);
    if (q.before !== undefined) add('id < ?', q.before);
    const rows = this.#reader
      .prepare<unknown[], OutboxDbRow>(
        `SELECT ${OUTBOX_COLUMNS} FROM notify_outbox WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
      )
      .all(...params, q.limit);
    return Promise.resolve(rows.map((r) => toOutboxRow(r, c)));
  }

  prune(before: number): Promise<number> {
    return this.#serial(
      () =>
        this.#writer
          .prepare("DELETE FROM notify_outbox WHERE state <> 'pending' AND created_at < ?")
          .run(before).changes,
    );
  }

  backlog(now: number): Promise<{ pending: number; due: number }> {
    const row = this.#reader
      .prepare<[number], { pending: number; due: number | null }>(
        "SELECT COUNT(*) AS pending, SUM(due_at <= ?) AS due FROM notify_outbox WHERE state = 'pending'",
      )
      .get(now)!;
    return Promise.resolve({ pending: row.pending, due: row.due ?? 0 });
  }
}

/** Queues notifications inside a store transaction, on the write connection. */
export class SqliteNotificationWriter implements NotificationWriter {
  readonly #insert;
  readonly #open;
  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare(INSERT_OUTBOX);
    this.#open = db.prepare<[string, string, number], { due: number | null }>(
      `SELECT MIN(due_at) AS due FROM notify_outbox
       WHERE tenant = ? AND channel = ? AND state = 'pending' AND attempts = 0 AND due_at > ?`,
    );
  }

  async enqueue(envelopes: readonly Envelope[], now: number): Promise<number> {
    const due = await dueTimes(envelopes, now, (tenant, channel) =>
      Promise.resolve(this.#open.get(tenant, channel, now)?.due ?? null),
    );
    let fresh = 0;
    envelopes.forEach((e, i) => {
      fresh += this.#insert.run(
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
      ).changes;
    });
    return fresh;
  }
}

/** Channels and the notification outbox on SQLite. */
export const sqliteNotify: SqliteWing<NotifyRepositories, NotifyWriters> = {
  migrations: sqliteMigrations,
  repositories: (connections) => {
    const { reader, writer } = connections;
    const serial = <T>(fn: () => T) => connections.serial(fn);
    return {
      channels: new SqliteChannelRepository(reader, writer, serial),
      outbox: new SqliteOutboxRepository(reader, writer, serial),
    };
  },
  writers: (writer) => ({ notifications: new SqliteNotificationWriter(writer) }),
};
