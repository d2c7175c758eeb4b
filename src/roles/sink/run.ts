import type { Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import type { Consumer, Log } from '../../log/log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { createLog, createStore } from '../backends.ts';
import { projections } from '../projections.ts';
import type { BeaconStore } from '../store.ts';
import { startSink } from '../../sink/sink.ts';
import { CompactionMetrics, Compactor } from '../../monitor/compaction.ts';

/** Every projection's sink, on its own connections to the log and the store. */
export interface RunningSinks {
  readonly log: Log;
  readonly store: BeaconStore;
  /** Stops every consumer after its batch in hand, then closes the connections. */
  close(): Promise<void>;
}

/**
 * Opens the configured log and store (or uses `shared`, already open, when the sinks run on the API's
 * event loop) and starts one consumer-group member per projection, and background compaction. Frames
 * the projections derive go to the log's live channel (`Log.publishDerived`), where every API process
 * tails them; `listening` says whether anyone may receive them (always, unless told otherwise).
 * Closing leaves a shared log and store open.
 */
export async function runSinks(
  config: Readonly<Config>,
  metrics: Metrics,
  logger: Logger,
  listening: () => boolean = () => true,
  shared?: { readonly store: BeaconStore; readonly log: Log },
): Promise<RunningSinks> {
  const store = shared?.store ?? (await createStore(config, logger));
  if (!shared) await store.open();
  const log = shared?.log ?? (await createLog(config, metrics, logger));
  if (!shared) await log.open();
  const sinks: Consumer[] = projections.map((projection) =>
    startSink({
      log,
      store,
      projection,
      batchSize: config.sink.batchSize,
      metrics,
      config,
      publish: (frames) => log.publishDerived(frames),
      listening,
      logger: logger.child({ sink: projection.group }),
    }),
  );
  // Compaction writes the store as sinks do, in the same place: the process (or thread) that owns
  // the store's writes.
  const { compaction } = config.monitor;
  const compactor = compaction.enabled
    ? new Compactor({
        store,
        periodMs: compaction.periodHours * 3_600_000,
        metrics: new CompactionMetrics(metrics.registry),
        logger: logger.child({ part: 'compaction' }),
      })
    : undefined;
  compactor?.start(compaction.intervalMs, compaction.afterMinutes * 60_000);
  return {
    log,
    store,
    close: async () => {
      await compactor?.close();
      await Promise.all(sinks.map((s) => s.close()));
      if (shared) return;
      await log.close();
      await store.close();
    },
  };
}
