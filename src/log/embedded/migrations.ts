import type { Migration } from '../../sqlite/database.ts';

/** Schema of the embedded log file. Add new versions at the end; never edit an applied one. */
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
      CREATE UNIQUE INDEX records_key ON records (tenant, stream, key);
      CREATE INDEX records_stream ON records (stream, offset);
    `,
  },
  {
    // One row per record cost three B-tree inserts and a JSON encode per record, which capped batch
    // ingest near 46,000 events/s. Records are now stored in chunks, one row per stream per commit
    // (as Kafka stores record batches), and only client-supplied idempotency keys are indexed.
    // Existing records become one-record chunks and keep their offsets.
    version: 2,
    name: '002_chunks',
    sql: `
      CREATE TABLE chunks (
        seq INTEGER PRIMARY KEY,
        stream TEXT NOT NULL,
        first_offset INTEGER NOT NULL,
        end_offset INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        records TEXT NOT NULL
      );
      -- Consumers read one stream from a position: the first chunk ending after it.
      CREATE UNIQUE INDEX chunks_stream ON chunks (stream, end_offset);
      -- Idempotency at the source, for records whose key the client chose.
      CREATE TABLE idempotency_keys (
        tenant TEXT NOT NULL,
        stream TEXT NOT NULL,
        key TEXT NOT NULL,
        id TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, stream, key)
      ) WITHOUT ROWID;
      INSERT INTO chunks (stream, first_offset, end_offset, received_at, records)
        SELECT stream, offset, offset + 1, received_at,
               json_array(json_array(tenant, key, entity, id, ts, received_at, json(body)))
        FROM records ORDER BY offset;
      INSERT INTO idempotency_keys (tenant, stream, key, id, received_at)
        SELECT tenant, stream, key, id, received_at FROM records WHERE key <> id;
      DROP TABLE records;
    `,
  },
  {
    // Retention deletes idempotency keys by age, oldest first.
    version: 3,
    name: '003_idempotency_keys_by_age',
    sql: `CREATE INDEX idempotency_keys_age ON idempotency_keys (received_at);`,
  },
  {
    // The log is bounded (archive.ts): after the hot window chunks are merged into zstd-compressed
    // archive chunks (codec 1), deleted once their store holds them (checks), or by retention. The
    // partial index finds a stream's chunks still as committed without walking its archive.
    version: 4,
    name: '004_archive',
    sql: `
      ALTER TABLE chunks ADD COLUMN codec INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX chunks_hot ON chunks (stream, end_offset) WHERE codec = 0;
      CREATE INDEX chunks_received ON chunks (received_at);
    `,
  },
];
