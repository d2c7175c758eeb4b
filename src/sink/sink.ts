import type { Logger } from 'pino';
import type { Consumer, Log } from '../log/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/store.ts';
import type { Projection } from './projection.ts';

export interface SinkOptions {
  readonly log: Log;
  readonly store: Store;
  readonly projection: Projection;
  readonly batchSize: number;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/**
 * Runs one projection as a consumer-group member. Each batch's rows and the group's checkpoint commit
 * in one store transaction, and the consumer resumes from that checkpoint: so a record is stored
 * exactly once however often the process dies.
 */
export function startSink(options: SinkOptions): Consumer {
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
      const inserted = await store.transaction(async (tx) => {
        const n = await projection.apply(tx, batch.records);
        await tx.saveCheckpoint({
          group: projection.group,
          stream: batch.stream,
          partition: batch.partition,
          offset: batch.nextOffset,
        });
        return n;
      });
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
