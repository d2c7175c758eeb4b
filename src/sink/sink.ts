import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { DerivedFrame } from '../log/log.ts';
import type { Consumer, Log, RecordBatch } from '../log/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { encodeRecord, type LogRecord } from '../log/record.ts';
import type { DeadLetter, Store } from '../store/store.ts';
import { BeaconError } from '../errors/catalog.ts';
import type { Projection, ProjectionContext } from './projection.ts';

export interface SinkOptions<W extends object = object, R = unknown> {
  readonly log: Log;
  readonly store: Store<W> & R;
  readonly projection: Projection<W, R>;
  readonly batchSize: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly config: Readonly<Config>;
  /** Told of each record set aside as a dead letter (metrics count them). */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  /** Where derived frames go (the live hub); dropped when absent, as in replay. */
  readonly publish?: (frames: readonly DerivedFrame[]) => void;
  readonly listening?: () => boolean;
}

type BatchOptions<W extends object, R> = Pick<
  SinkOptions<W, R>,
  'store' | 'projection' | 'config' | 'logger' | 'publish' | 'listening' | 'onDeadLetter'
>;

/**
 * Stores one batch: the projection's rows and the checkpoint in one transaction, then runs what the
 * projection asked to run after commit. Returns how many rows were new.
 *
 * A batch that fails for a reason the store says may pass (it is away, busy, full) is thrown back,
 * and the log offers it again. Any other failure is the data's: the batch is halved until the
 * records the projection refuses stand alone, and each of those is kept as a dead letter, with its
 * error, in the transaction that moves the checkpoint past it. So one bad record never holds up its
 * partition, and every other record of the batch is stored.
 */
export async function storeBatch<W extends object, R>(
  options: BatchOptions<W, R>,
  batch: RecordBatch,
): Promise<number> {
  try {
    return await storeRecords(options, batch, batch.records, batch.nextOffset);
  } catch (err) {
    if (options.store.retryable(err) || batch.records.length === 0) throw err;
    options.logger.warn(
      { err, group: options.projection.group, partition: batch.partition },
      'a batch failed on its data; setting aside the records the projection refuses',
    );
    return setAside(options, batch, batch.records, batch.nextOffset, err);
  }
}

/** Stores `records` (failed together with `err`) in halves, down to the single records that fail. */
async function setAside<W extends object, R>(
  options: BatchOptions<W, R>,
  batch: RecordBatch,
  records: readonly LogRecord[],
  nextOffset: number,
  err: unknown,
): Promise<number> {
  if (records.length === 1) {
    const record = records[0]!;
    const letter: DeadLetter = {
      group: options.projection.group,
      stream: batch.stream,
      partition: batch.partition,
      offset: record.offset,
      tenant: record.tenant,
      id: record.id,
      key: record.key,
      error: err instanceof Error ? err.message : String(err),
      record: wireOf(record),
      failedAt: Date.now(),
    };
    await options.store.transaction(async (tx) => {
      await tx.saveDeadLetter(letter);
      await tx.saveCheckpoint({
        group: letter.group,
        stream: batch.stream,
        partition: batch.partition,
        offset: nextOffset,
      });
    });
    options.logger.error(
      { err, group: letter.group, partition: letter.partition, offset: letter.offset, id: letter.id },
      'record set aside as a dead letter',
    );
    options.onDeadLetter?.(letter);
    return 0;
  }
  const middle = records.length >>> 1;
  const halves: [readonly LogRecord[], number][] = [
    [records.slice(0, middle), records[middle]!.offset],
    [records.slice(middle), nextOffset],
  ];
  let inserted = 0;
  for (const [half, next] of halves) {
    try {
      inserted += await storeRecords(options, batch, half, next);
    } catch (halfErr) {
      if (options.store.retryable(halfErr)) throw halfErr;
      inserted += await setAside(options, batch, half, next, halfErr);
    }
  }
  return inserted;
}

/** A record in wire format for its dead letter; one whose body cannot be encoded keeps its metadata. */
function wireOf(record: LogRecord): string {
  try {
    return encodeRecord(record);
  } catch {
    return encodeRecord({ ...record, body: null, bodyJson: '"(the body could not be encoded)"' });
  }
}

/** The rows of `records` and the checkpoint `nextOffset`, in one transaction. */
async function storeRecords<W extends object, R>(
  options: BatchOptions<W, R>,
  batch: RecordBatch,
  records: readonly LogRecord[],
  nextOffset: number,
): Promise<number> {
  const { store, projection } = options;
  const after: (() => Promise<void>)[] = [];
  const context: ProjectionContext<R> = {
    config: options.config,
    store,
    afterCommit: (fn) => after.push(fn),
    publish: (frames) => options.publish?.(frames),
    listening: () => options.listening?.() ?? false,
  };
  const inserted = await store.transaction(async (tx) => {
    after.length = 0;
    const n = await projection.apply(tx, records, context);
    await tx.saveCheckpoint({
      group: projection.group,
      stream: batch.stream,
      partition: batch.partition,
      offset: nextOffset,
    });
    return n;
  });
  for (const fn of after) {
    try {
      await fn();
    } catch (err) {
      // The rows are committed; a failed follow-up (a live push) must not replay the batch.
      options.logger.error({ err, group: projection.group }, 'after-commit step failed');
    }
  }
  return inserted;
}

/**
 * Runs one projection as a consumer-group member. Each batch's rows and the group's checkpoint commit
 * in one store transaction, and the consumer resumes from that checkpoint: so a record is stored
 * exactly once however often the process dies.
 */
export function startSink<W extends object, R>(sinkOptions: SinkOptions<W, R>): Consumer {
  const { log, store, projection, metrics } = sinkOptions;
  const options: SinkOptions<W, R> = {
    ...sinkOptions,
    onDeadLetter: (letter) => {
      metrics.deadLetters.inc({ stream: letter.stream });
      sinkOptions.onDeadLetter?.(letter);
    },
  };
  return log.consume({
    group: projection.group,
    stream: projection.stream,
    maxBatch: options.batchSize,
    position: async (partitions) => {
      const saved = await store.checkpoints(projection.group, projection.stream);
      const positions = new Map<number, number>();
      for (const p of partitions) positions.set(p, saved.find((c) => c.partition === p)?.offset ?? 0);
      return positions;
    },
    handle: async (batch) => {
      const started = performance.now();
      let inserted: number;
      try {
        inserted = await storeBatch(options, batch);
      } catch (err) {
        // The log offers the batch again after a backoff; the count shows an outage while it lasts.
        metrics.sinkFailures.inc({ stream: batch.stream, code: errorCode(err) });
        throw err;
      }
      // A batch may be empty when every record in its range went to the dead-letter topic: its
      // checkpoint still moves past them.
      if (batch.records.length === 0) return;
      const labels = { stream: batch.stream };
      metrics.sinkBatchSize.observe(labels, batch.records.length);
      metrics.sinkBatchSeconds.observe(labels, (performance.now() - started) / 1000);
      metrics.sinkRecords.inc({ ...labels, outcome: 'new' }, inserted);
      metrics.sinkRecords.inc({ ...labels, outcome: 'duplicate' }, batch.records.length - inserted);
      metrics.sinkLastStored.set(labels, batch.records.at(-1)!.receivedAt / 1000);
    },
  });
}

/** The catalog code of a failed batch's error, or `INTERNAL` for anything else. */
const errorCode = (err: unknown): string => (err instanceof BeaconError ? err.code : 'INTERNAL');
