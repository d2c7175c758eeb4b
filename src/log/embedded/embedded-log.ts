import { join } from 'node:path';
import type { Logger } from 'pino';
import { BeaconError } from '../../errors/catalog.ts';
import { openDatabase, migrate, type SqliteDatabase } from '../../sqlite/database.ts';
import { GroupCommit } from '../group-commit.ts';
import type { Consumer, ConsumeOptions, Log, Positions, TailListener } from '../log.ts';
import type { Appended, LogRecord, NewRecord, Stream } from '../record.ts';
import { logMigrations } from './migrations.ts';

export interface EmbeddedLogOptions {
  /** Directory holding `log.db`; `:memory:` keeps it in memory (tests). */
  readonly dataDir: string;
  readonly maxQueue: number;
  readonly logger: Logger;
  readonly onCommit?: (records: number, seconds: number) => void;
}

interface RecordRow {
  offset: number;
  stream: Stream;
  tenant: string;
  key: string;
  entity: string;
  id: string;
  ts: number;
  received_at: number;
  body: string;
}

const PARTITION = 0;
const MAX_BACKOFF_MS = 5000;

/**
 * The default log: a SQLite file on local disk, committed with fsync, in the same process. Concurrent
 * appends share one transaction (group commit). It has one partition per stream; offsets are the
 * file's global sequence, so they rise within a stream but skip.
 */
export class EmbeddedLog implements Log {
  readonly backend = 'embedded' as const;
  readonly #options: EmbeddedLogOptions;
  #db: SqliteDatabase | undefined;
  #writer: GroupCommit<NewRecord, Appended> | undefined;
  readonly #tails = new Set<TailListener>();
  readonly #wakers = new Set<() => void>();
  readonly #consumers = new Set<EmbeddedConsumer>();

  constructor(options: EmbeddedLogOptions) {
    this.#options = options;
  }

  open(): Promise<void> {
    const file = this.#options.dataDir === ':memory:' ? ':memory:' : join(this.#options.dataDir, 'log.db');
    const db = openDatabase(file, { synchronous: 'full' });
    migrate(db, logMigrations);
    this.#db = db;

    const insert = db.prepare<
      [string, string, string, string, string, number, number, string],
      { offset: number }
    >(
      `INSERT INTO records (stream, tenant, key, entity, id, ts, received_at, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, stream, key) DO NOTHING RETURNING offset`,
    );
    const existing = db.prepare<[string, string, string], { id: string; received_at: number }>(
      'SELECT id, received_at FROM records WHERE tenant = ? AND stream = ? AND key = ?',
    );
    const appended: LogRecord[] = [];
    const commit = db.transaction((records: readonly NewRecord[]): Appended[] =>
      records.map((r) => {
        const row = insert.get(
          r.stream,
          r.tenant,
          r.key,
          r.entity,
          r.id,
          r.ts,
          r.receivedAt,
          JSON.stringify(r.body ?? null),
        );
        if (row) {
          appended.push({ ...r, partition: PARTITION, offset: row.offset });
          return { id: r.id, receivedAt: r.receivedAt, duplicate: false };
        }
        const first = existing.get(r.tenant, r.stream, r.key)!;
        return { id: first.id, receivedAt: first.received_at, duplicate: true };
      }),
    );
    this.#writer = new GroupCommit<NewRecord, Appended>(
      (records) => {
        appended.length = 0;
        try {
          return commit(records);
        } catch (err) {
          appended.length = 0;
          throw err;
        }
      },
      {
        maxQueue: this.#options.maxQueue,
        onCommit: (n, seconds) => {
          this.#options.onCommit?.(n, seconds);
          if (appended.length > 0) this.#announce(appended.splice(0));
        },
      },
    );
    return Promise.resolve();
  }

  #announce(records: LogRecord[]): void {
    for (const listener of this.#tails) {
      try {
        listener(records);
      } catch (err) {
        this.#options.logger.error({ err }, 'log tail listener failed');
      }
    }
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  append(records: readonly NewRecord[]): Promise<Appended[]> {
    if (!this.#writer) return Promise.reject(new BeaconError('LOG_UNAVAILABLE', 'the log is not open'));
    return this.#writer.submit(records);
  }

  /** Records waiting for the next commit; exported as a gauge. */
  get queued(): number {
    return this.#writer?.queued ?? 0;
  }

  consume(options: ConsumeOptions): Consumer {
    const consumer = new EmbeddedConsumer(this.#database(), options, this.#options.logger, (wake) =>
      this.#wakers.add(wake),
    );
    this.#consumers.add(consumer);
    consumer.start(() => this.#consumers.delete(consumer));
    return consumer;
  }

  tail(listener: TailListener): () => void {
    this.#tails.add(listener);
    return () => this.#tails.delete(listener);
  }

  endOffsets(stream: Stream): Promise<Positions> {
    const row = this.#database()
      .prepare<[Stream], { last: number | null }>('SELECT MAX(offset) AS last FROM records WHERE stream = ?')
      .get(stream)!;
    // An empty stream ends at 0, the position a consumer with no checkpoint starts from.
    return Promise.resolve(new Map([[PARTITION, row.last === null ? 0 : row.last + 1]]));
  }

  async close(): Promise<void> {
    this.#writer?.close();
    await Promise.all([...this.#consumers].map((c) => c.close()));
    for (const wake of this.#wakers) wake();
    this.#tails.clear();
    this.#db?.close();
    this.#db = undefined;
  }

  #database(): SqliteDatabase {
    if (!this.#db) throw new BeaconError('LOG_UNAVAILABLE', 'the log is not open');
    return this.#db;
  }
}

class EmbeddedConsumer implements Consumer {
  readonly #db: SqliteDatabase;
  readonly #options: ConsumeOptions;
  readonly #logger: Logger;
  readonly #waitForAppend: (wake: () => void) => void;
  #closed = false;
  #done: Promise<void> = Promise.resolve();
  #interrupt: (() => void) | undefined;

  constructor(
    db: SqliteDatabase,
    options: ConsumeOptions,
    logger: Logger,
    waitForAppend: (wake: () => void) => void,
  ) {
    this.#db = db;
    this.#options = options;
    this.#logger = logger;
    this.#waitForAppend = waitForAppend;
  }

  start(onEnd: () => void): void {
    this.#done = this.#run()
      .catch((err: unknown) =>
        this.#logger.fatal({ err, group: this.#options.group }, 'embedded consumer stopped'),
      )
      .finally(onEnd);
  }

  async #run(): Promise<void> {
    const { stream, maxBatch, group } = this.#options;
    const read = this.#db.prepare<[Stream, number, number], RecordRow>(
      'SELECT * FROM records WHERE stream = ? AND offset >= ? ORDER BY offset LIMIT ?',
    );
    const positions = await this.#options.position([PARTITION]);
    let next = positions.get(PARTITION) ?? 0;
    let backoff = 100;
    while (!this.#closed) {
      const rows = read.all(stream, next, maxBatch);
      if (rows.length === 0) {
        await this.#pause((wake) => this.#waitForAppend(wake), 1000);
        continue;
      }
      const records = rows.map(toLogRecord);
      const nextOffset = rows.at(-1)!.offset + 1;
      try {
        await this.#options.handle({ stream, partition: PARTITION, records, nextOffset });
        next = nextOffset;
        backoff = 100;
      } catch (err) {
        this.#logger.error({ err, group, stream, offset: next }, 'sink batch failed; retrying');
        await this.#pause(() => undefined, backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Waits for a wake-up, the timeout, or close(), whichever comes first. */
  #pause(arm: (wake: () => void) => void, ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#interrupt = finish;
      arm(finish);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#interrupt?.();
    await this.#done;
  }
}

function toLogRecord(row: RecordRow): LogRecord {
  return {
    stream: row.stream,
    tenant: row.tenant,
    key: row.key,
    entity: row.entity,
    id: row.id,
    ts: row.ts,
    receivedAt: row.received_at,
    body: JSON.parse(row.body) as unknown,
    partition: PARTITION,
    offset: row.offset,
  };
}
