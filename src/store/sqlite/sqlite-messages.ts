import type { SqliteDatabase } from '../../sqlite/database.ts';
import type {
  Message,
  MessageCursor,
  MessageQuery,
  MessageReader,
  MessageRow,
  MessageWriter,
} from '../../messages/message.ts';

interface Row {
  id: string;
  received_at: number;
  payload: string;
}

export class SqliteMessageReader implements MessageReader {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  list(query: MessageQuery): Promise<Message[]> {
    const where = ['tenant = @tenant'];
    if (query.after) where.push('(received_at, id) > (@afterAt, @afterId)');
    if (query.from !== undefined) where.push('received_at >= @from');
    if (query.to !== undefined) where.push('received_at < @to');
    const rows = this.#db
      .prepare<Record<string, unknown>, Row>(
        `SELECT id, received_at, payload FROM messages WHERE ${where.join(' AND ')}
         ORDER BY received_at, id LIMIT @limit`,
      )
      .all({
        tenant: query.tenant,
        afterAt: query.after?.receivedAt,
        afterId: query.after?.id,
        from: query.from,
        to: query.to,
        limit: query.limit,
      });
    return Promise.resolve(
      rows.map((r) => ({ id: r.id, receivedAt: r.received_at, payload: JSON.parse(r.payload) as unknown })),
    );
  }

  firstOf(tenant: string, keys: readonly string[]): Promise<Map<string, MessageCursor>> {
    const found = new Map<string, MessageCursor>();
    // SQLite allows 32,766 parameters; a batch has at most a few thousand keys.
    const rows = this.#db
      .prepare<unknown[], { key: string; id: string; received_at: number }>(
        `SELECT key, id, received_at FROM messages WHERE tenant = ? AND key IN (${keys.map(() => '?').join(',')})`,
      )
      .all(tenant, ...keys);
    for (const r of rows) found.set(r.key, { id: r.id, receivedAt: r.received_at });
    return Promise.resolve(found);
  }

  count(tenant: string): Promise<number> {
    const row = this.#db.prepare('SELECT COUNT(*) AS n FROM messages WHERE tenant = ?').get(tenant) as {
      n: number;
    };
    return Promise.resolve(row.n);
  }
}

export class SqliteMessageWriter implements MessageWriter {
  readonly #insert;
  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare<[string, number, string, string | null, string]>(
      'INSERT INTO messages (tenant, received_at, id, key, payload) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
  }

  insert(rows: readonly MessageRow[]): Promise<number> {
    let inserted = 0;
    for (const r of rows) {
      // A key equal to the id was not chosen by a client: the primary key already makes it unique.
      const key = r.key === r.id ? null : r.key;
      inserted += this.#insert.run(r.tenant, r.receivedAt, r.id, key, JSON.stringify(r.payload)).changes;
    }
    return Promise.resolve(inserted);
  }
}
