import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { DerivedFrame } from '../log/log.ts';
import type { Consumer, Log, RecordBatch } from '../log/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/store.ts';
import type { Projection, ProjectionContext } from './projection.ts';

export interface SinkOptions<W extends object = object, R = unknown> {
  readonly log: Log;
  readonly store: Store<W> & R;
  readonly projection: Projection<W, R>;
  readonly batchSize: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly config: Readonly<Config>;
  /** Where derived frames go (the live hub); dropped when absent, as in replay. */
  readonly publish?: (frames: readonly DerivedFrame[]) => void;
  readonly listening?: () => boolean;
}

/**
 * Stores one batch: the projection's rows and the checkpoint in one transaction, then runs what the
 * projection asked to run after commit. Returns how many rows were new.
 */
export async function storeBatch<W extends object, R>(
  options: Pick<SinkOptions<W, R>, 'store' | 'projection' | 'config' | 'logger' | 'publish' | 'listening'>,
  batch: RecordBatch,
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
    const n = await projection.apply(tx, batch.records, context);
    await tx.saveCheckpoint({
      group: projection.group,
      stream: batch.stream,
      partition: batch.partition,
      offset: batch.nextOffset,
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
export function startSink<W extends object, R>(options: SinkOptions<W, R>): Consumer {
  const { log, store, projection, metrics } = options;
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
      const inserted = await storeBatch(options, batch);
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
