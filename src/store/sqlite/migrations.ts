import type { Migration } from '../../sqlite/database.ts';

/** Versioned schema of the SQLite store. Add new versions at the end; never edit an applied one. */
export const storeMigrations: readonly Migration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: `
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants (id),
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX tokens_tenant ON tokens (tenant);
      -- Keyset order is the primary key, so a page at any depth is one index seek.
      CREATE TABLE messages (
        tenant TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        id TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (tenant, received_at, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX messages_key ON messages (tenant, key);
      CREATE TABLE checkpoints (
        consumer_group TEXT NOT NULL,
        stream TEXT NOT NULL,
        partition INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        PRIMARY KEY (consumer_group, stream, partition)
      ) WITHOUT ROWID;
    `,
  },
];
