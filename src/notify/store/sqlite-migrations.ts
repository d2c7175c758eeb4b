import type { Migration } from '../../sqlite/database.ts';

/** The notify wing's part of the SQLite schema (version numbers are the store's). */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 10,
    name: '010_alerts',
    sql: `
      CREATE TABLE notify_channels (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        -- The service URL with its secrets: never returned by the API, never logged.
        url TEXT NOT NULL,
        template TEXT,
        source TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        -- A service's Retry-After: no row of the channel is claimed before it.
        paused_until INTEGER,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      -- One row per notification per channel, written in the transaction of the change it tells of,
      -- and kept after sending as the delivery history.
      CREATE TABLE notify_outbox (
        id INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        channel TEXT NOT NULL,
        key TEXT NOT NULL,
        source TEXT NOT NULL,
        subject TEXT NOT NULL,
        event TEXT NOT NULL,
        notification TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        lease_owner TEXT,
        lease_until INTEGER,
        last_attempt_at INTEGER,
        sent_at INTEGER,
        status INTEGER,
        answer TEXT,
        batch_size INTEGER
      );
      CREATE UNIQUE INDEX notify_outbox_key ON notify_outbox (tenant, channel, key);
      CREATE INDEX notify_outbox_due ON notify_outbox (due_at) WHERE state = 'pending';
      CREATE INDEX notify_outbox_subject ON notify_outbox (tenant, source, subject, id);
      CREATE INDEX notify_outbox_channel ON notify_outbox (tenant, channel, id);
      CREATE INDEX notify_outbox_done ON notify_outbox (created_at) WHERE state <> 'pending';`,
  },
];
