import type { Pool } from 'pg';
import { lockedTransaction } from './locked-transaction.ts';

/** How time-series tables are laid out: native range partitions, or TimescaleDB hypertables. */
export type TimeLayout = 'native' | 'timescaledb';

/** One versioned step of the PostgreSQL schema. `sql` may depend on the layout chosen at setup. */
export interface PgMigration {
  readonly version: number;
  readonly name: string;
  sql(layout: TimeLayout): string;
}

/** What `open()` found and did, for `beacon setup` to report. */
export interface MigrationReport {
  /** Migrations applied by this call, in order. */
  readonly applied: string[];
  /** Migrations that were already in the database. */
  readonly existing: string[];
  readonly layout: TimeLayout;
}

/** Session-independent key of the advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK = 0x62636e01;

/** Keyset order is the primary key, so a page at any depth is one index seek. */
const messagesColumns = `
        tenant text COLLATE "C" NOT NULL,
        received_at timestamptz NOT NULL,
        id text COLLATE "C" NOT NULL,
        -- The client's idempotency key; NULL when the client gave none (the key was the id).
        key text COLLATE "C",
        payload json NOT NULL,
        PRIMARY KEY (tenant, received_at, id)`;

const messagesTable = (layout: TimeLayout) =>
  layout === 'native'
    ? `
      -- Native range partitions by day, created ahead of time and on demand (partitions.ts).
      CREATE TABLE messages (${messagesColumns}
      ) PARTITION BY RANGE (received_at);
      CREATE INDEX messages_received_brin ON messages USING brin (received_at);`
    : `
      CREATE TABLE messages (${messagesColumns}
      );
      SELECT create_hypertable('messages', 'received_at', chunk_time_interval => interval '1 day');
      ALTER TABLE messages SET (timescaledb.compress, timescaledb.compress_segmentby = 'tenant',
        timescaledb.compress_orderby = 'received_at, id');
      SELECT add_compression_policy('messages', interval '7 days');`;

/** Versioned schema of the PostgreSQL store. Add new versions at the end; never edit an applied one. */
export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: (layout) => `
      CREATE TABLE beacon_settings (name text PRIMARY KEY, value text NOT NULL);
      INSERT INTO beacon_settings (name, value) VALUES ('time_layout', '${layout}');
      CREATE TABLE tenants (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE tokens (
        id text COLLATE "C" PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        scopes json NOT NULL,
        hash text NOT NULL UNIQUE,
        created_at bigint NOT NULL,
        revoked_at bigint
      );
      CREATE INDEX tokens_tenant ON tokens (tenant);
      ${messagesTable(layout)}
      -- A unique key on a partitioned table must contain the partition column, so (tenant, key)
      -- cannot be unique on messages itself. This unpartitioned table holds every live client key:
      -- a record with one is new exactly when its key inserts here. Records without (key = id) only
      -- repeat as redeliveries, which the primary key drops. Retention deletes old keys with the rows.
      CREATE TABLE message_keys (
        tenant text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        received_at timestamptz NOT NULL,
        id text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, key)
      );
      CREATE INDEX message_keys_received_brin ON message_keys USING brin (received_at);
      CREATE TABLE checkpoints (
        consumer_group text NOT NULL,
        stream text NOT NULL,
        partition integer NOT NULL,
        next_offset bigint NOT NULL,
        PRIMARY KEY (consumer_group, stream, partition)
      );`,
  },
];

/**
 * TimescaleDB is used when the server can load it: the extension is available and preloaded (it
 * cannot be created otherwise). Decided once, when the schema is first created, and kept.
 */
async function detectLayout(pool: Pool): Promise<TimeLayout> {
  const { rows } = await pool.query<{ available: boolean; preloaded: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
            current_setting('shared_preload_libraries') LIKE '%timescaledb%' AS preloaded`,
  );
  return rows[0]!.available && rows[0]!.preloaded ? 'timescaledb' : 'native';
}

/**
 * Applies pending migrations in one transaction under an advisory lock, so two processes starting
 * at once apply each migration exactly once: the second waits, then finds nothing to do. A database
 * newer than this code is refused rather than guessed at.
 */
export async function migrate(pool: Pool, migrations: readonly PgMigration[]): Promise<MigrationReport> {
  const detected = await detectLayout(pool);
  return lockedTransaction(pool, MIGRATION_LOCK, async (client) => {
    await client.query(`CREATE TABLE IF NOT EXISTS beacon_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await client.query<{ version: number; name: string }>(
      'SELECT version, name FROM beacon_migrations ORDER BY version',
    );
    const latest = Math.max(0, ...migrations.map((m) => m.version));
    const current = Math.max(0, ...done.rows.map((r) => r.version));
    if (current > latest) {
      throw new Error(
        `database schema version ${current} is newer than this Beacon (${latest}); upgrade Beacon`,
      );
    }
    let layout = detected;
    if (done.rows.length > 0) {
      const saved = await client.query<{ value: TimeLayout }>(
        "SELECT value FROM beacon_settings WHERE name = 'time_layout'",
      );
      layout = saved.rows[0]?.value ?? 'native';
    } else if (layout === 'timescaledb') {
      await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    }
    const applied: string[] = [];
    const have = new Set(done.rows.map((r) => r.version));
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (have.has(migration.version)) continue;
      await client.query(migration.sql(layout));
      await client.query('INSERT INTO beacon_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.name);
    }
    return { applied, existing: done.rows.map((r) => r.name), layout };
  });
}
