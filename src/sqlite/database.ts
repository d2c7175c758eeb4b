import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The slice of better-sqlite3 Beacon calls, so the log and the store depend on this and not on the
 * whole library (kysely's `sqlite-dialect-config.ts` does the same).
 */
export type SqliteDatabase = Pick<
  Database.Database,
  'prepare' | 'exec' | 'pragma' | 'transaction' | 'inTransaction' | 'close'
>;
export type { Statement } from 'better-sqlite3';

export interface OpenOptions {
  /** `full` fsyncs every commit (the log, where a 202 promises durability); `normal` is crash-safe in WAL. */
  readonly synchronous: 'full' | 'normal';
  readonly readonly?: boolean;
  /**
   * SQLite's page cache for this connection, in MiB (default 64). It fills up to this as pages are
   * read and written and is never given back, so it is part of the process's RSS; pages it does not
   * hold are read through the OS page cache instead.
   */
  readonly cacheMiB?: number;
  /**
   * A new file is made with incremental auto-vacuum, so pages freed by upkeep can be given back to the
   * file system (`PRAGMA incremental_vacuum`). It must be chosen before the first table; an existing
   * file keeps what it has (a `VACUUM` while Beacon is stopped changes it).
   */
  readonly incrementalVacuum?: boolean;
}

/** Page cache per connection unless a role asks for less. */
export const DEFAULT_CACHE_MIB = 8;

/** Opens a SQLite file in WAL mode with the pragmas Beacon relies on. */
export function openDatabase(file: string, options: OpenOptions): SqliteDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false });
  if (options.incrementalVacuum && !options.readonly) db.pragma('auto_vacuum = INCREMENTAL');
  if (!options.readonly) db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Keep the WAL from growing without bound under constant writes.
  db.pragma('wal_autocheckpoint = 4000');
  db.pragma(`cache_size = -${(options.cacheMiB ?? DEFAULT_CACHE_MIB) * 1024}`);
  return db;
}

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Applies the migrations newer than the file's `user_version`, each in its own transaction, and
 * returns the names of those applied. A file newer than this code is refused rather than guessed at.
 */
export function migrate(db: SqliteDatabase, migrations: readonly Migration[]): string[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = Math.max(0, ...migrations.map((m) => m.version));
  if (current > latest) {
    throw new Error(
      `database schema version ${current} is newer than this Beacon (${latest}); upgrade Beacon`,
    );
  }
  const applied: string[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
    applied.push(migration.name);
  }
  return applied;
}
