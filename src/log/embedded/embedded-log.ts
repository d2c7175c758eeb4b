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

/** One record inside a chunk: [tenant, key (null when it is the id), entity, id, ts, receivedAt, body]. */
type ChunkRecord = [string, string | null, string, string, number, number, unknown];

interface ChunkRow {
  first_offset: number;
  end_offset: number;
  records: string;
}

const PARTITION = 0;
const MAX_BACKOFF_MS = 5000;
/** Most records in one chunk; a consumer reads whole chunks, so this bounds its overshoot of maxBatch. */
const CHUNK_RECORDS = 1000;

/**
 * The default log: a SQLite file on local disk, committed with fsync, in the same process. Concurrent
 * appends share one transaction (group commit), and each commit stores each stream's records as one
 * chunk row (up to 1,000 records), so a record costs one JSON encode and no index entry of its own.
 * Each stream has one partition with contiguous offsets. Only keys a client chose are indexed for
 * idempotency; a key equal to the record's fresh id cannot repeat.
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

    const insertChunk = db.prepare<[string, number, number, number, string]>(
      'INSERT INTO chunks (stream, first_offset, end_offset, received_at, records) VALUES (?, ?, ?, ?, ?)',
    );
    const endOf = db.prepare<[string], { end: number | null }>(
      'SELECT MAX(end_offset) AS end FROM chunks WHERE stream = ?',
    );
    const claimKey = db.prepare<[string, string, string, string, number], { id: string }>(
      `INSERT INTO idempotency_keys (tenant, stream, key, id, received_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
    );
    const firstOf = db.prepare<[string, string, string], { id: string; received_at: number }>(
      'SELECT id, received_at FROM idempotency_keys WHERE tenant = ? AND stream = ? AND key = ?',
    );
    const appended: LogRecord[] = [];
    const commit = db.transaction((records: readonly NewRecord[]): Appended[] => {
      const answers: Appended[] = [];
      const byStream = new Map<Stream, NewRecord[]>();
      for (const r of records) {
        if (r.key !== r.id && !claimKey.get(r.tenant, r.stream, r.key, r.id, r.receivedAt)) {
          const first = firstOf.get(r.tenant, r.stream, r.key)!;
          answers.push({ id: first.id, receivedAt: first.received_at, duplicate: true });
          continue;
        }
        answers.push({ id: r.id, receivedAt: r.receivedAt, duplicate: false });
        let list = byStream.get(r.stream);
        if (!list) byStream.set(r.stream, (list = []));
        list.push(r);
      }
      for (const [stream, list] of byStream) {
        let offset = endOf.get(stream)!.end ?? 1;
        for (let at = 0; at < list.length; at += CHUNK_RECORDS) {
          const chunk = list.slice(at, at + CHUNK_RECORDS);
          const encoded: ChunkRecord[] = chunk.map((r) => [
            r.tenant,
            r.key === r.id ? null : r.key,
            r.entity,
            r.id,
            r.ts,
            r.receivedAt,
            r.body ?? null,
          ]);
          insertChunk.run(
            stream,
            offset,
            offset + chunk.length,
            chunk[0]!.receivedAt,
            JSON.stringify(encoded),
          );
          for (const r of chunk) appended.push({ ...r, partition: PARTITION, offset: offset++ });
        }
      }
      return answers;
    });
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
      .prepare<[Stream], { end: number | null }>('SELECT MAX(end_offset) AS end FROM chunks WHERE stream = ?')
      .get(stream)!;
    return Promise.resolve(new Map([[PARTITION, row.end ?? 1]]));
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
    const read = this.#db.prepare<[Stream, number, number], ChunkRow>(
      'SELECT first_offset, end_offset, records FROM chunks WHERE stream = ? AND end_offset > ? ORDER BY end_offset LIMIT ?',
    );
    // Whole chunks are handed on; enough of them to make maxBatch records when chunks are small.
    const chunksPerRead = Math.max(1, Math.ceil(maxBatch / 10));
    const positions = await this.#options.position([PARTITION]);
    let next = positions.get(PARTITION) ?? 0;
    let backoff = 100;
    while (!this.#closed) {
      const rows = read.all(stream, next, chunksPerRead);
      if (rows.length === 0) {
        await this.#pause((wake) => this.#waitForAppend(wake), 1000);
        continue;
      }
      const records: LogRecord[] = [];
      for (const row of rows) {
        if (records.length >= maxBatch) break;
        records.push(...decodeChunk(stream, row, next));
      }
      const nextOffset = records.at(-1)!.offset + 1;
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

/** The records of a chunk from offset `from` on. */
function decodeChunk(stream: Stream, row: ChunkRow, from: number): LogRecord[] {
  const encoded = JSON.parse(row.records) as ChunkRecord[];
  const records: LogRecord[] = [];
  for (let i = Math.max(0, from - row.first_offset); i < encoded.length; i++) {
    const [tenant, key, entity, id, ts, receivedAt, body] = encoded[i]!;
    records.push({
      stream,
      tenant,
      key: key ?? id,
      entity,
      id,
      ts,
      receivedAt,
      body,
      partition: PARTITION,
      offset: row.first_offset + i,
    });
  }
  return records;
}
