import type { Migration } from '../../sqlite/database.ts';

/** Schema of the embedded log file. The log is append-only; offsets never repeat (AUTOINCREMENT). */
export const logMigrations: readonly Migration[] = [
  {
    version: 1,
    name: '001_records',
    sql: `
      CREATE TABLE records (
        offset INTEGER PRIMARY KEY AUTOINCREMENT,
        stream TEXT NOT NULL,
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        entity TEXT NOT NULL,
        id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      -- Idempotency at the source: one record per (tenant, stream, key).
      CREATE UNIQUE INDEX records_key ON records (tenant, stream, key);
      -- Consumers read one stream in offset order.
      CREATE INDEX records_stream ON records (stream, offset);
    `,
  },
];
