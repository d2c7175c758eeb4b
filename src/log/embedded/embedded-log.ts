import { join, resolve } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { BroadcastChannel } from 'node:worker_threads';
import { zstdDecompressSync } from 'node:zlib';
import type { Logger } from 'pino';
import { BeaconError } from '../../errors/catalog.ts';
import { openDatabase, migrate, type SqliteDatabase } from '../../sqlite/database.ts';
import { GroupCommit } from '../group-commit.ts';
import type {
  Consumer,
  ConsumeOptions,
  DerivedFrame,
  DerivedListener,
  Log,
  Positions,
  TailListener,
} from '../log.ts';
import { prepareRecords, type Appended, type LogRecord, type NewRecord, type Stream } from '../record.ts';
import { measureSqlite } from '../../sqlite/measure.ts';
import type { StoragePart } from '../storage-part.ts';
import type { MaintenanceRequest } from './archive.ts';
import { encodeBatch } from './chunk-writer.ts';
import { logMigrations } from './migrations.ts';
import { InlineWriter, WriterClient, type LogWriter } from './writer-client.ts';

export interface EmbeddedLogOptions {
  /** Directory holding `log.db`. */
  readonly dataDir: string;
  readonly maxQueue: number;
  readonly logger: Logger;
  readonly onCommit?: (records: number, seconds: number) => void;
  /** Days records are kept (in the archive past the hot window); 0 (the default) keeps them forever. */
  readonly retentionDays?: number;
  /** Minutes chunks stay as committed before they are archived (default 10). */
  readonly hotMinutes?: number;
  /** Hours a client's idempotency key is remembered (default 24). */
  readonly idempotencyHours?: number;
  /** How often upkeep runs (archive, release, retention, keys; default a minute). */
  readonly maintenanceIntervalMs?: number;
  /**
   * Streams whose store deduplicates their records by key (checks: target, region and slot): their
   * records keep their keys, but the log neither indexes nor checks them.
   */
  readonly keylessStreams?: readonly Stream[];
  /**
   * Per stream whose store keeps every record at full fidelity: the offset below which its sink has
   * stored them all. Such records are not archived; they go once the hot window is past. Only the
   * process that appends asks.
   */
  readonly released?: () => Promise<ReadonlyMap<Stream, number>>;
  /** Commit on a writer thread rather than on the event loop (off unless the config says so). */
  readonly writerThread?: boolean;
  /** SQLite page cache per connection, in MiB (default 64). */
  readonly cacheMiB?: number;
}

/** What one upkeep run did, summed over its steps. */
export interface MaintenanceTotals {
  readonly archived: { chunks: number; records: number; bytesIn: number; bytesOut: number };
  readonly released: { chunks: number; records: number };
  readonly expired: { chunks: number; records: number };
  readonly keys: number;
}

/** One record's metadata in a format 2 chunk: [tenant, key (null when it is the id), entity, id, ts, receivedAt]. */
type ChunkMeta = [string, string | null, string, string, number, number];
/** One record inside a format 1 chunk: [tenant, key (null when it is the id), entity, id, ts, receivedAt, body]. */
type ChunkRecordV1 = [...ChunkMeta, unknown];
const OPEN_BRACE = 123;

/**
 * Most bytes of records' text a consumer hands on in one batch, besides `maxBatch` records. A sink on
 * the API's event loop (`beacon start`) stores a batch in one synchronous stretch, so this bounds how
 * long a request waits behind it: 5,000 records of 4 KB would be 20 MB, and hundreds of milliseconds.
 */
const MAX_BATCH_BYTES = 1 << 20;

/** Most bytes of records' text in one commit, unless a single append is larger (it is one commit). */
const MAX_COMMIT_BYTES = 4 << 20;

interface ChunkRow {
  first_offset: number;
  end_offset: number;
  /** Text as committed (codec 0), or zstd of format 2 text (an archive chunk, codec 1). */
  records: string | Uint8Array;
}

const PARTITION = 0;
const MAX_BACKOFF_MS = 5000;

/**
 * The default log: a SQLite file on local disk, committed with fsync, in the same process. Concurrent
 * appends share one transaction (group commit), run on the event loop's own connection, or with
 * `writerThread` by a writer thread (started by the first append) so that the event loop keeps
 * serving while the disk syncs. Each commit stores each stream's records
 * as one chunk row (up to 1,000 records), so a record costs one JSON encode and no index entry of its own.
 * Each stream has one partition with contiguous offsets. Only keys a client chose are indexed for
 * idempotency; a key equal to the record's fresh id cannot repeat.
 */
export class EmbeddedLog implements Log {
  readonly backend = 'embedded' as const;
  readonly checksKeys = true;
  readonly #options: EmbeddedLogOptions;
  #db: SqliteDatabase | undefined;
  #writer: GroupCommit<NewRecord, Appended> | undefined;
  #writerThread: LogWriter | undefined;
  readonly #tails = new Set<TailListener>();
  readonly #wakers = new Set<() => void>();
  readonly #consumers = new Set<EmbeddedConsumer>();
  /** Tells consumers in other threads of this process (the sink thread) that records were committed. */
  #channel: BroadcastChannel | undefined;
  #liveName = '';
  /**
   * Derived frames cross threads (the sink thread of `beacon start` to the API's hub) on a channel
   * named for the log file: one object sends and another receives, so a frame reaches listeners on
   * this very object too (a BroadcastChannel does not hear itself).
   */
  #liveOut: BroadcastChannel | undefined;
  #liveIn: BroadcastChannel | undefined;
  readonly #derivedTails = new Set<DerivedListener>();
  #maintainer: NodeJS.Timeout | undefined;
  #maintaining: Promise<MaintenanceTotals> | undefined;
  readonly #keyless: ReadonlySet<Stream>;

  constructor(options: EmbeddedLogOptions) {
    this.#options = options;
    this.#keyless = new Set(options.keylessStreams ?? []);
  }

  open(): Promise<void> {
    const file = resolve(join(this.#options.dataDir, 'log.db'));
    const { cacheMiB } = this.#options;
    const db = openDatabase(file, { synchronous: 'full', cacheMiB, incrementalVacuum: true });
    migrate(db, logMigrations);
    this.#db = db;
    const channel = new BroadcastChannel(`beacon-log:${file}`);
    channel.onmessage = () => this.#wake();
    channel.unref();
    this.#channel = channel;
    this.#liveName = `beacon-live:${file}`;

    const writer: LogWriter =
      this.#options.writerThread === false ? new InlineWriter(db) : new WriterClient(file, cacheMiB);
    this.#writerThread = writer;
    this.#writer = new GroupCommit<NewRecord, Appended>(
      async (records) => {
        const { offsets, firsts } = await writer.commit(encodeBatch(records, this.#keyless));
        const answers: Appended[] = new Array<Appended>(records.length);
        for (let i = 0; i < records.length; i++) {
          const { id, receivedAt } = records[i]!;
          answers[i] = { id, receivedAt, duplicate: false };
        }
        for (const [i, id, receivedAt] of firsts) answers[i] = { id, receivedAt, duplicate: true };
        // Records are copied out with their offsets only for tail listeners, which exist only while
        // someone subscribes to the live stream; consumers in other threads are merely woken.
        const appended: LogRecord[] = [];
        for (let i = 0; i < records.length && this.#tails.size > 0; i++) {
          if (offsets[i]! >= 0) appended.push({ ...records[i]!, partition: PARTITION, offset: offsets[i]! });
        }
        if (firsts.length < records.length) this.#announce(appended);
        return answers;
      },
      {
        maxQueue: this.#options.maxQueue,
        onCommit: this.#options.onCommit,
        // The writer thread runs commits in the order they are posted: the next can wait there.
        maxInFlight: writer instanceof WriterClient ? 2 : 1,
        // An inline commit holds the event loop while it writes and syncs: two 4 MiB batches go in
        // two commits, with requests served between them.
        weigh: (record) => record.bodyJson?.length ?? 0,
        maxWeight: MAX_COMMIT_BYTES,
      },
    );
    this.#maintainer = setInterval(() => {
      // Only the process that appends keeps the log; a sink thread reading the same file leaves it alone.
      if (!writer.started || this.#maintaining) return;
      this.maintain()
        .then((totals) => {
          if (totals.archived.chunks + totals.released.chunks + totals.expired.chunks + totals.keys > 0)
            this.#options.logger.info(totals, 'log upkeep');
        })
        .catch((err: unknown) => this.#options.logger.error({ err }, 'log upkeep failed; retried later'));
    }, this.#options.maintenanceIntervalMs ?? 60_000);
    this.#maintainer.unref();
    return Promise.resolve();
  }

  /**
   * Archives chunks past the hot window, deletes those their store holds, those past retention and
   * expired idempotency keys (archive.ts), in steps that each hold the file a few milliseconds, the
   * event loop free between them. `now` is the time it runs as.
   */
  maintain(now = Date.now()): Promise<MaintenanceTotals> {
    if (!this.#writerThread) return Promise.reject(new BeaconError('LOG_UNAVAILABLE', 'the log is not open'));
    const writer = this.#writerThread;
    const o = this.#options;
    const run = (async (): Promise<MaintenanceTotals> => {
      const request: MaintenanceRequest = {
        archiveBefore: now - (o.hotMinutes ?? 10) * 60_000,
        expireBefore: (o.retentionDays ?? 0) > 0 ? now - o.retentionDays! * 86_400_000 : 0,
        keysBefore: now - (o.idempotencyHours ?? 24) * 3_600_000,
        released: o.released ? [...(await o.released())] : [],
      };
      const totals = {
        archived: { chunks: 0, records: 0, bytesIn: 0, bytesOut: 0 },
        released: { chunks: 0, records: 0 },
        expired: { chunks: 0, records: 0 },
        keys: 0,
      };
      for (;;) {
        const step = await writer.maintain(request);
        for (const part of ['archived', 'released', 'expired'] as const)
          for (const [k, v] of Object.entries(step[part])) (totals[part] as Record<string, number>)[k]! += v;
        totals.keys += step.keys;
        if (step.done) return totals;
        await new Promise((r) => setImmediate(r));
      }
    })();
    this.#maintaining = run;
    return run.finally(() => (this.#maintaining = undefined));
  }

  #announce(records: LogRecord[]): void {
    for (const listener of this.#tails) {
      try {
        listener(records);
      } catch (err) {
        this.#options.logger.error({ err }, 'log tail listener failed');
      }
    }
    this.#wake();
    this.#channel?.postMessage(null);
  }

  #wake(): void {
    for (const wake of this.#wakers) wake();
    this.#wakers.clear();
  }

  append(records: readonly NewRecord[]): Promise<Appended[]> {
    if (!this.#writer) return Promise.reject(new BeaconError('LOG_UNAVAILABLE', 'the log is not open'));
    try {
      return this.#writer.submit(prepareRecords(records));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
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

  publishDerived(frames: readonly DerivedFrame[]): void {
    if (frames.length === 0 || !this.#liveName) return;
    if (!this.#liveOut) {
      this.#liveOut = new BroadcastChannel(this.#liveName);
      this.#liveOut.unref();
    }
    this.#liveOut.postMessage(frames);
  }

  tailDerived(listener: DerivedListener): () => void {
    this.#derivedTails.add(listener);
    if (!this.#liveIn && this.#liveName) {
      const channel = new BroadcastChannel(this.#liveName);
      channel.onmessage = (event) => {
        const frames = (event as { data: DerivedFrame[] }).data;
        for (const l of this.#derivedTails) {
          try {
            l(frames);
          } catch (err) {
            this.#options.logger.error({ err }, 'derived frame listener failed');
          }
        }
      };
      channel.unref();
      this.#liveIn = channel;
    }
    return () => {
      this.#derivedTails.delete(listener);
      if (this.#derivedTails.size > 0) return;
      this.#liveIn?.close();
      this.#liveIn = undefined;
    };
  }

  endOffsets(stream: Stream): Promise<Positions> {
    const row = this.#database()
      .prepare<[Stream], { end: number | null }>('SELECT MAX(end_offset) AS end FROM chunks WHERE stream = ?')
      .get(stream)!;
    // An empty stream ends at 0, where a consumer from the start stands: nothing lies before it (its
    // first record will take offset 1, and offsets are opaque positions). Ending it at 1 made a
    // replay of an empty stream wait for a record that never came.
    return Promise.resolve(new Map([[PARTITION, row.end ?? 0]]));
  }

  async storage(): Promise<StoragePart[]> {
    const file = resolve(join(this.#options.dataDir, 'log.db'));
    const measured = await measureSqlite({
      file,
      queries: [
        `SELECT stream, codec, SUM(end_offset - first_offset) AS records, SUM(length(records)) AS payload
         FROM chunks GROUP BY stream, codec`,
        'SELECT stream, COUNT(*) AS n FROM idempotency_keys GROUP BY stream',
      ],
    });
    // A table's pages are shared out by what each stream puts in it.
    const chunks = measured.rows[0] as { stream: Stream; codec: number; records: number; payload: number }[];
    const keys = measured.rows[1] as { stream: Stream; n: number }[];
    const payload = chunks.reduce((a, c) => a + c.payload, 0);
    const keyCount = keys.reduce((a, k) => a + k.n, 0);
    return [
      ...chunks.map((c) => ({
        stream: c.stream,
        tier: 'log' as const,
        label: c.codec === 0 ? 'log, as committed (hot window)' : 'log, compressed archive',
        bytes: Math.round(((measured.tables.chunks ?? 0) * c.payload) / payload),
        records: c.records,
      })),
      ...keys.map((k) => ({
        stream: k.stream,
        tier: 'log' as const,
        label: 'log, client idempotency keys',
        bytes: Math.round(((measured.tables.idempotency_keys ?? 0) * k.n) / keyCount),
        records: null,
      })),
    ];
  }

  /** The log file is open and readable. */
  ping(): Promise<void> {
    this.#database().prepare('SELECT 1').get();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    clearInterval(this.#maintainer);
    await this.#maintaining?.catch(() => undefined);
    await this.#writer?.close();
    await this.#writerThread?.close();
    await Promise.all([...this.#consumers].map((c) => c.close()));
    for (const wake of this.#wakers) wake();
    this.#tails.clear();
    this.#channel?.close();
    this.#channel = undefined;
    this.#derivedTails.clear();
    this.#liveIn?.close();
    this.#liveOut?.close();
    this.#liveIn = this.#liveOut = undefined;
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
    // Whole chunks are handed on, read one at a time until they make maxBatch records: a chunk may
    // hold one record or a thousand, and each row read is a string the size of its records.
    const chunksPerRead = Math.max(1, Math.ceil(maxBatch / 10));
    const positions = await this.#options.position([PARTITION]);
    let next = positions.get(PARTITION) ?? 0;
    let backoff = 100;
    while (!this.#closed) {
      const records: LogRecord[] = [];
      let bytes = 0;
      for (const row of read.iterate(stream, next, chunksPerRead)) {
        for (const record of decodeChunk(stream, row, next)) records.push(record);
        bytes += row.records.length;
        if (records.length >= maxBatch || bytes >= MAX_BATCH_BYTES) break;
      }
      if (records.length === 0) {
        await this.#pause((wake) => this.#waitForAppend(wake), 1000);
        continue;
      }
      const nextOffset = records.at(-1)!.offset + 1;
      try {
        await this.#options.handle({ stream, partition: PARTITION, records, nextOffset });
        next = nextOffset;
        backoff = 100;
        // A store on this thread answers in microtasks: without a turn of the event loop here, a
        // sink catching up would run batch after batch while requests wait.
        await turn();
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

/** The records of a chunk from offset `from` on; chunk-writer.ts and archive.ts describe the formats. */
function decodeChunk(stream: Stream, row: ChunkRow, from: number): LogRecord[] {
  const text =
    typeof row.records === 'string' ? row.records : zstdDecompressSync(row.records).toString('utf8');
  const records: LogRecord[] = [];
  const skip = Math.max(0, from - row.first_offset);
  if (text.charCodeAt(0) !== OPEN_BRACE) {
    // Format 1: one JSON array of entries, each body inside its entry.
    const encoded = JSON.parse(text) as ChunkRecordV1[];
    for (let i = skip; i < encoded.length; i++) {
      const entry = encoded[i]!;
      records.push(chunkRecord(stream, entry, row.first_offset + i, { body: entry[6] }));
    }
    return records;
  }
  // Format 2: a metadata line, then one body per line, kept as text and parsed only if asked for.
  let line = text.indexOf('\n');
  const meta = (JSON.parse(text.slice(0, line)) as { r: ChunkMeta[] }).r;
  for (let i = 0; i < meta.length; i++) {
    const start = line + 1;
    line = text.indexOf('\n', start);
    if (i < skip) continue;
    const bodyJson = text.slice(start, line === -1 ? text.length : line);
    records.push(chunkRecord(stream, meta[i]!, row.first_offset + i, { bodyJson }));
  }
  return records;
}

/** A record of a chunk, its body given parsed (format 1) or as JSON text parsed on first read (format 2). */
function chunkRecord(
  stream: Stream,
  [tenant, key, entity, id, ts, receivedAt]: readonly [...ChunkMeta, ...unknown[]],
  offset: number,
  given: { body: unknown } | { bodyJson: string },
): LogRecord {
  let body = 'body' in given ? given.body : undefined;
  let parsed = 'body' in given;
  const bodyJson = 'bodyJson' in given ? given.bodyJson : undefined;
  return {
    stream,
    tenant,
    key: key ?? id,
    entity,
    id,
    ts,
    receivedAt,
    bodyJson,
    get body() {
      if (!parsed) {
        body = JSON.parse(bodyJson!);
        parsed = true;
      }
      return body;
    },
    partition: PARTITION,
    offset,
  };
}
