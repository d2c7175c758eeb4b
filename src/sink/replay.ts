import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { BeaconError } from '../errors/catalog.ts';
import type { Log } from '../log/log.ts';
import type { Store } from '../store/store.ts';
import type { Projection, RebuildProgress } from './projection.ts';
import { storeBatch } from './sink.ts';

/** How far a replay has got: records projected so far, and the share of the log (or the store) read. */
export type ReplayProgress = RebuildProgress;

export interface ReplayOptions<W extends object = object, R = unknown> {
  readonly log: Log;
  readonly store: Store<W> & R;
  readonly projection: Projection<W, R>;
  readonly config: Readonly<Config>;
  readonly batchSize: number;
  readonly logger: Logger;
  readonly onProgress?: (progress: ReplayProgress) => void;
}

/**
 * Rebuilds a projection from the raw records in the log: deletes its rows and its checkpoint in one
 * transaction, then consumes the stream from the start to the end it had when replay began, through
 * the same batch code the sink uses. Works for any projection that can reset; a projection whose store
 * keeps its raw records (checks) rebuilds from them instead. Run it while that projection's sink is
 * stopped, or the two would race.
 */
export async function replay<W extends object, R>(options: ReplayOptions<W, R>): Promise<ReplayProgress> {
  const { log, store, projection } = options;
  if (projection.rebuild) {
    const records = await projection.rebuild(store, options.onProgress);
    return { records, fraction: 1 };
  }
  const reset = projection.reset?.bind(projection);
  if (!reset) {
    throw new BeaconError('REPLAY_UNSUPPORTED', `the ${projection.stream} projection cannot be rebuilt`);
  }
  const end = await log.endOffsets(projection.stream);
  await store.transaction(async (tx) => {
    await reset(tx);
    for (const partition of end.keys()) {
      await tx.saveCheckpoint({ group: projection.group, stream: projection.stream, partition, offset: 0 });
    }
  });
  const remaining = new Map([...end].filter(([, next]) => next > 0));
  let records = 0;
  const totalEnd = [...end.values()].reduce((a, b) => a + b, 0);
  const reached = new Map<number, number>();
  const progress = (): ReplayProgress => ({
    records,
    fraction: totalEnd === 0 ? 1 : [...reached.values()].reduce((a, b) => a + b, 0) / totalEnd,
  });
  if (remaining.size === 0) return progress();

  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const consumer = log.consume({
    group: projection.group,
    stream: projection.stream,
    maxBatch: options.batchSize,
    position: (partitions) => Promise.resolve(new Map(partitions.map((p) => [p, 0]))),
    handle: async (batch) => {
      const stop = remaining.get(batch.partition);
      if (stop === undefined) return;
      // Records appended after replay began are left to the sink, which resumes from the checkpoint.
      const fresh = batch.records.filter((r) => r.offset < stop);
      if (fresh.length > 0) {
        const nextOffset = Math.min(batch.nextOffset, stop);
        try {
          await storeBatch(options, { ...batch, records: fresh, nextOffset });
        } catch (err) {
          fail(err);
          throw err;
        }
        records += fresh.length;
      }
      reached.set(batch.partition, Math.min(batch.nextOffset, stop));
      options.onProgress?.(progress());
      if (batch.nextOffset >= stop) {
        remaining.delete(batch.partition);
        if (remaining.size === 0) finish();
      }
    },
  });
  try {
    await done;
  } finally {
    await consumer.close();
  }
  return progress();
}
