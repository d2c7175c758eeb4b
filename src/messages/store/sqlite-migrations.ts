import type { Migration } from '../../sqlite/database.ts';

/** The messages wing's part of the SQLite schema (version numbers are the store's). */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: `
      -- Keyset order is the primary key, so a page at any depth is one index seek.
      CREATE TABLE messages (
        tenant TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        id TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (tenant, received_at, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX messages_key ON messages (tenant, key);`,
  },
  {
    // Version 5, not 2: versions 2 to 4 belong to the monitor, analytics and occupancy tables.
    // Indexing every message's key cost a second B-tree insert per row (about a third of the sink's
    // time), though only keys a client chose can repeat; a redelivered record repeats its primary key.
    version: 5,
    name: '005_messages_client_keys_only',
    sql: `
      CREATE TABLE messages_v5 (
        tenant TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        id TEXT NOT NULL,
        -- The client's idempotency key; NULL when the client gave none.
        key TEXT,
        payload TEXT NOT NULL,
        PRIMARY KEY (tenant, received_at, id)
      ) WITHOUT ROWID;
      INSERT INTO messages_v5 (tenant, received_at, id, key, payload)
        SELECT tenant, received_at, id, CASE WHEN key = id THEN NULL ELSE key END, payload FROM messages;
      DROP TABLE messages;
      ALTER TABLE messages_v5 RENAME TO messages;
      CREATE UNIQUE INDEX messages_key ON messages (tenant, key) WHERE key IS NOT NULL;`,
  },
];
