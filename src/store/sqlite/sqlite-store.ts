import { join } from 'node:path';
import type { Stream } from '../../log/record.ts';
import { migrate, openDatabase, type SqliteDatabase } from '../../sqlite/database.ts';
import type { Checkpoint, Store, StoreTx } from '../store.ts';
import { storeMigrations } from './migrations.ts';
import { SqliteAnalyticsReader, SqliteAnalyticsWriter } from './sqlite-analytics.ts';
import { SqliteMessageReader, SqliteMessageWriter } from './sqlite-messages.ts';
import { SqliteOccupancy } from './sqlite-occupancy.ts';
import { SqliteCheckWriter, SqliteMonitorReader, SqliteTargetWriter } from './sqlite-monitor.ts';
import { SqliteTenantRepository } from './sqlite-tenants.ts';

/**
 * The embedded store: one SQLite file in WAL mode. Writes go through one connection, one transaction at
 * a time; reads use a second connection so they never see a transaction half done. `synchronous=NORMAL`
 * is safe here because every sink's checkpoint commits with its rows: a commit lost to power failure is
 * re-read from the log.
 */
export class SqliteStore implements Store {
  readonly backend = 'sqlite' as const;
  readonly #file: string;
  readonly #cacheMiB: number | undefined;
  #writer: SqliteDatabase | undefined;
  #reader: SqliteDatabase | undefined;
  #tx: StoreTx | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  tenants!: SqliteTenantRepository;
  messages!: SqliteMessageReader;
  occupancy!: SqliteOccupancy;
  analytics!: SqliteAnalyticsReader;
  monitor!: SqliteMonitorReader;
  targets!: SqliteTargetWriter;
  existing: readonly string[] = [];

  /** @param options.cacheMiB SQLite page cache per connection, in MiB (default 64). */
  constructor(options: { dataDir: string; cacheMiB?: number }) {
    this.#file = join(options.dataDir, 'beacon.db');
    this.#cacheMiB = options.cacheMiB;
  }

  open(): Promise<string[]> {
    const cacheMiB = this.#cacheMiB;
    const writer = openDatabase(this.#file, { synchronous: 'normal', cacheMiB });
    const applied = migrate(writer, storeMigrations);
    // migrate() applies every newer version, so whatever it did not apply was there already.
    this.existing = storeMigrations.map((m) => m.name).filter((name) => !applied.includes(name));
    this.#writer = writer;
    this.#reader = openDatabase(this.#file, { synchronous: 'normal', readonly: true, cacheMiB });
    this.tenants = new SqliteTenantRepository(writer);
    this.messages = new SqliteMessageReader(this.#reader);
    this.occupancy = new SqliteOccupancy(this.#reader);
    this.analytics = new SqliteAnalyticsReader(this.#reader);
    this.monitor = new SqliteMonitorReader(this.#reader);
    this.targets = new SqliteTargetWriter(writer, (fn) => this.#serial(fn));
    const saveCheckpoint = writer.prepare<[string, string, number, number]>(
      `INSERT INTO checkpoints (consumer_group, stream, partition, next_offset) VALUES (?, ?, ?, ?)
       ON CONFLICT (consumer_group, stream, partition) DO UPDATE SET next_offset = excluded.next_offset`,
    );
    this.#tx = {
      messages: new SqliteMessageWriter(writer),
      occupancy: new SqliteOccupancy(writer),
      analytics: new SqliteAnalyticsWriter(writer),
      checks: new SqliteCheckWriter(writer),
      saveCheckpoint: (c: Checkpoint) => {
        saveCheckpoint.run(c.group, c.stream, c.partition, c.offset);
        return Promise.resolve();
      },
    };
    return Promise.resolve(applied);
  }

  checkpoints(group: string, stream: Stream): Promise<Checkpoint[]> {
    const rows = this.#writer!.prepare<[string, string], { partition: number; next_offset: number }>(
      'SELECT partition, next_offset FROM checkpoints WHERE consumer_group = ? AND stream = ?',
    ).all(group, stream);
    return Promise.resolve(
      rows.map((r) => ({ group, stream, partition: r.partition, offset: r.next_offset })),
    );
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    // One write transaction at a time: later callers wait their turn rather than nest.
    const run = this.#queue.then(async () => {
      const db = this.#writer!;
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.#tx!);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Runs a write outside any transaction, after the transactions queued before it. */
  #serial<T>(fn: () => T): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  ping(): Promise<void> {
    this.#reader!.prepare('SELECT 1').get();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#reader?.close();
    this.#writer?.close();
    this.#reader = this.#writer = undefined;
  }
}
