import type { PgMigration } from '../../store/postgres/migrations.ts';

/** The notify wing's part of the PostgreSQL schema: the same tables as SQLite's, times as epoch ms. */
export const postgresMigrations: readonly PgMigration[] = [
  {
    version: 10,
    name: '010_alerts',
    sql: () => `
      CREATE TABLE notify_channels (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        name text NOT NULL,
        kind text NOT NULL,
        -- The service URL with its secrets: never returned by the API, never logged.
        url text NOT NULL,
        template text,
        source text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        -- A service's Retry-After: no row of the channel is claimed before it.
        paused_until bigint,
        PRIMARY KEY (tenant, id)
      );
      -- One row per notification per channel, written in the transaction of the change it tells of,
      -- and kept after sending as the delivery history.
      CREATE TABLE notify_outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL,
        channel text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        subject text COLLATE "C" NOT NULL,
        event text NOT NULL,
        notification text NOT NULL,
        created_at bigint NOT NULL,
        due_at bigint NOT NULL,
        state text NOT NULL,
        attempts integer NOT NULL,
        lease_owner text,
        lease_until bigint,
        last_attempt_at bigint,
        sent_at bigint,
        status integer,
        answer text,
        batch_size integer
      );
      CREATE UNIQUE INDEX notify_outbox_key ON notify_outbox (tenant, channel, key);
      CREATE INDEX notify_outbox_due ON notify_outbox (due_at) WHERE state = 'pending';
      CREATE INDEX notify_outbox_subject ON notify_outbox (tenant, source, subject, id);
      CREATE INDEX notify_outbox_channel ON notify_outbox (tenant, channel, id);
      CREATE INDEX notify_outbox_done ON notify_outbox (created_at) WHERE state <> 'pending';`,
  },
];
