import { sqliteColumns as c } from '../../store/columns.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import type { SqliteDatabase, Statement } from '../../sqlite/database.ts';
import {
  payloadJsonOf,
  type Message,
  type MessageCursor,
  type MessageQuery,
  type MessageRow,
} from '../model.ts';
import type { MessageReader, MessageRepositories, MessageWriter, MessageWriters } from './repositories.ts';
import { toMessage, withinBytes, type MessageDbRow } from './rows.ts';
import { sqliteMigrations } from './sqlite-migrations.ts';
import { messageStorage } from './storage.ts';

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
      .prepare<Record<string, unknown>, MessageDbRow>(
        withinBytes(
          `SELECT id, received_at, payload, length(payload) AS bytes FROM messages WHERE ${where.join(' AND ')}
           ORDER BY received_at, id LIMIT @limit`,
          '@maxBytes',
        ),
      )
      .all({
        tenant: query.tenant,
        afterAt: query.after?.receivedAt,
        afterId: query.after?.id,
        from: query.from,
        to: query.to,
        limit: query.limit,
        maxBytes: query.maxBytes ?? Number.MAX_SAFE_INTEGER,
      });
    return Promise.resolve(rows.map((r) => toMessage(r, c)));
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

/** Rows per INSERT statement: one statement per row spent most of the sink's time crossing into SQLite. */
const ROWS_PER_INSERT = 100;
const COLUMNS = 5;

export class SqliteMessageWriter implements MessageWriter {
  readonly #db: SqliteDatabase;
  /** INSERT statements by their number of rows: the full block, and the sizes of tails seen so far. */
  readonly #inserts = new Map<number, Statement<unknown[]>>();

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  insert(rows: readonly MessageRow[]): Promise<number> {
    let inserted = 0;
    const values: unknown[] = [];
    for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
      const end = Math.min(rows.length, at + ROWS_PER_INSERT);
      values.length = 0;
      for (let i = at; i < end; i++) {
        const r = rows[i]!;
        // A key equal to the id was not chosen by a client: the primary key already makes it unique.
        values.push(r.tenant, r.receivedAt, r.id, r.key === r.id ? null : r.key, payloadJsonOf(r));
      }
      inserted += this.#statement(end - at).run(values).changes;
    }
    return Promise.resolve(inserted);
  }

  #statement(rows: number): Statement<unknown[]> {
    let statement = this.#inserts.get(rows);
    if (!statement) {
      const tuples = Array.from({ length: rows }, () => `(${Array(COLUMNS).fill('?').join(', ')})`);
      statement = this.#db.prepare<unknown[]>(
        `INSERT INTO messages (tenant, received_at, id, key, payload) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`,
      );
      this.#inserts.set(rows, statement);
    }
    return statement;
  }
}

/** Messages on SQLite. */
export const sqliteMessages: SqliteWing<MessageRepositories, MessageWriters> = {
  migrations: sqliteMigrations,
  storage: messageStorage,
  repositories: ({ reader }) => ({ messages: new SqliteMessageReader(reader) }),
  writers: (writer) => ({ messages: new SqliteMessageWriter(writer) }),
};
