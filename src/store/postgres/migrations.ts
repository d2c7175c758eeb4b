import type { Pool } from 'pg';
import { versionsOf } from '../migrations.ts';
import { lockedTransaction } from './locked-transaction.ts';

/** How time-series tables are laid out: native range partitions, or TimescaleDB hypertables. */
export type TimeLayout = 'native' | 'timescaledb';

/**
 * One versioned step of the PostgreSQL schema, or one domain's part of it (parts of one version are
 * applied together, as with SQLite). `sql` may depend on the layout chosen at setup.
 */
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
    const versions = versionsOf(migrations);
    const latest = Math.max(0, ...versions.map((m) => m.version));
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
    for (const version of versions) {
      if (have.has(version.version)) continue;
      for (const part of version.parts) await client.query(part.sql(layout));
      await client.query('INSERT INTO beacon_migrations (version, name) VALUES ($1, $2)', [
        version.version,
        version.name,
      ]);
      applied.push(version.name);
    }
    return { applied, existing: done.rows.map((r) => r.name), layout };
  });
}
