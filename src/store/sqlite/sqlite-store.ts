import { join } from 'node:path';
import type { Stream } from '../../log/record.ts';
import { migrate, openDatabase, type Migration, type SqliteDatabase } from '../../sqlite/database.ts';
import { versionsOf } from '../migrations.ts';
import { sqliteColumns } from '../columns.ts';
import {
  DEAD_LETTER_COLUMNS,
  DEAD_LETTER_KEY,
  DEAD_LETTER_ORDER,
  deadLetterValues,
  toDeadLetter,
  type DeadLetterRow,
} from '../dead-letters.ts';
import type { Checkpoint, CheckpointWriter, DeadLetter, DeadLetterQuery, Store } from '../store.ts';
import type { SqliteWing } from './wing.ts';
import { measureSqlite } from '../../sqlite/measure.ts';
import type { StoragePart } from '../storage.ts';

/** The engine's own part of the schema: the sinks' resume points, and the records they set aside. */
const engineMigrations: readonly Migration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: `
      CREATE TABLE checkpoints (
        consumer_group TEXT NOT NULL,
        stream TEXT NOT NULL,
        partition INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        PRIMARY KEY (consumer_group, stream, partition)
      ) WITHOUT ROWID;`,
  },
  {
    version: 7,
    name: '007_dead_letters',
    sql: `
      CREATE TABLE dead_letters (
        consumer_group TEXT NOT NULL,
        stream TEXT NOT NULL,
        partition INTEGER NOT NULL,
        "offset" INTEGER NOT NULL,
        tenant TEXT NOT NULL,
        record_id TEXT NOT NULL,
        key TEXT NOT NULL,
        error TEXT NOT NULL,
        record TEXT NOT NULL,
        failed_at INTEGER NOT NULL,
        PRIMARY KEY (consumer_group, stream, partition, "offset")
      ) WITHOUT ROWID;
      CREATE INDEX dead_letters_tenant ON dead_letters (tenant, failed_at);`,
  },
];

/**
 * SQLite's result codes for trouble that may pass (locked, busy, out of disk or memory, I/O), as
 * opposed to a statement the data makes fail.
 */
const RETRYABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|NOMEM|CANTOPEN|READONLY|PROTOCOL|INTERRUPT)/;

/** Pages one `reclaim()` gives back at most: 8 MB of 4 KiB pages, a few milliseconds of work. */
const RECLAIM_PAGES = 2000;

export interface SqliteStoreOptions {
  readonly dataDir: string;
  /** SQLite page cache per connection, in MiB (default 64). */
  readonly cacheMiB?: number;
}

/**
 * The embedded store: one SQLite file in WAL mode. Writes go through one connection, one transaction at
 * a time; reads use a second connection so they never see a transaction half done. `synchronous=NORMAL`
 * is safe here because every sink's checkpoint commits with its rows: a commit lost to power failure is
 * re-read from the log.
 */
export class SqliteStore<W extends object = object> implements Store<W> {
  readonly backend = 'sqlite' as const;
  readonly #file: string;
  readonly #cacheMiB: number | undefined;
  readonly #wings: readonly SqliteWing<object, object>[];
  #writer: SqliteDatabase | undefined;
  #reader: SqliteDatabase | undefined;
  #tx: (W & CheckpointWriter) | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  existing: readonly string[] = [];

  /** `wings`: the domains stored here; their repositories become members of the store at `open()`. */
  constructor(options: SqliteStoreOptions & { readonly wings: readonly SqliteWing<object, object>[] }) {
    this.#file = join(options.dataDir, 'beacon.db');
    this.#cacheMiB = options.cacheMiB;
    this.#wings = options.wings;
  }

  open(): Promise<string[]> {
    const cacheMiB = this.#cacheMiB;
    const writer = openDatabase(this.#file, { synchronous: 'normal', cacheMiB, incrementalVacuum: true });
    const versions = versionsOf([...engineMigrations, ...this.#wings.flatMap((w) => w.migrations)]);
    const applied = migrate(
      writer,
      versions.map((v) => ({ version: v.version, name: v.name, sql: v.parts.map((p) => p.sql).join('\n') })),
    );
    // migrate() applies every newer version, so whatever it did not apply was there already.
    this.existing = versions.map((v) => v.name).filter((name) => !applied.includes(name));
    const reader = openDatabase(this.#file, { synchronous: 'normal', readonly: true, cacheMiB });
    this.#writer = writer;
    this.#reader = reader;
    const connections = { reader, writer, serial: <T>(fn: () => T) => this.#serial(fn) };
    for (const wing of this.#wings) Object.assign(this, wing.repositories(connections));
    const saveCheckpoint = writer.prepare<[string, string, number, number]>(
      `INSERT INTO checkpoints (consumer_group, stream, partition, next_offset) VALUES (?, ?, ?, ?)
       ON CONFLICT (consumer_group, stream, partition) DO UPDATE SET next_offset = excluded.next_offset`,
    );
    const saveDeadLetter = writer.prepare<unknown[]>(
      `INSERT INTO dead_letters (${DEAD_LETTER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const tx: CheckpointWriter = {
      saveCheckpoint: (c: Checkpoint) => {
        saveCheckpoint.run(c.group, c.stream, c.partition, c.offset);
        return Promise.resolve();
      },
      saveDeadLetter: (d: DeadLetter) => {
        saveDeadLetter.run(deadLetterValues(d));
        return Promise.resolve();
      },
    };
    this.#tx = Object.assign(tx, ...this.#wings.map((w) => w.writers(writer))) as W & CheckpointWriter;
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

  deadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const where = ['tenant = ?'];
    const params: unknown[] = [query.tenant];
    if (query.stream !== undefined) {
      where.push('stream = ?');
      params.push(query.stream);
    }
    if (query.before) {
      where.push(`${DEAD_LETTER_KEY} < (?, ?, ?, ?, ?)`);
      const b = query.before;
      params.push(b.failedAt, b.group, b.stream, b.partition, b.offset);
    }
    const rows = this.#reader!.prepare<unknown[], DeadLetterRow>(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE ${where.join(' AND ')}
       ORDER BY ${DEAD_LETTER_ORDER} LIMIT ?`,
    ).all(...params, query.limit);
    return Promise.resolve(rows.map((r) => toDeadLetter(r, sqliteColumns)));
  }

  dismissDeadLetter(
    tenant: string,
    d: Pick<DeadLetter, 'group' | 'stream' | 'partition' | 'offset'>,
  ): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer!.prepare(
          'DELETE FROM dead_letters WHERE tenant = ? AND consumer_group = ? AND stream = ? AND partition = ? AND "offset" = ?',
        ).run(tenant, d.group, d.stream, d.partition, d.offset).changes === 1,
    );
  }

  retryable(err: unknown): boolean {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' && RETRYABLE.test(code);
  }

  transaction<T>(fn: (tx: W & CheckpointWriter) => Promise<T>): Promise<T> {
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

  #serial<T>(fn: () => T): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  ping(): Promise<void> {
    this.#reader!.prepare('SELECT 1').get();
    return Promise.resolve();
  }

  reclaim(): Promise<number> {
    return this.#serial(() => {
      const db = this.#writer!;
      if (db.pragma('auto_vacuum', { simple: true }) !== 2) return 0;
      const free = db.pragma('freelist_count', { simple: true }) as number;
      if (free > 0) db.pragma(`incremental_vacuum(${RECLAIM_PAGES})`);
      return Math.min(free, RECLAIM_PAGES);
    });
  }

  async storage(): Promise<StoragePart[]> {
    const uses = this.#wings.flatMap((w) => w.storage ?? []);
    const counted = uses.filter((u) => u.records !== undefined);
    const measured = await measureSqlite({ file: this.#file, queries: counted.map((u) => u.records!) });
    const records = new Map(counted.map((u, i) => [u.table, Number(measured.rows[i]![0]?.n ?? 0)]));
    const declared = new Map(uses.map((u) => [u.table, u]));
    return Object.entries(measured.tables).map(([table, bytes]) => {
      const use = declared.get(table);
      return {
        stream: use?.stream ?? null,
        tier: use?.tier ?? 'derived',
        label: use?.label ?? table,
        bytes,
        records: records.get(table) ?? null,
      };
    });
  }

  async close(): Promise<void> {
    await this.#queue;
    this.#reader?.close();
    this.#writer?.close();
    this.#reader = this.#writer = undefined;
  }
}
