import type { Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import type { Consumer, Log } from '../../log/log.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { createLog, createStore } from '../backends.ts';
import { projections } from '../projections.ts';
import type { BeaconStore } from '../store.ts';
import { startSink } from '../../sink/sink.ts';

/** Every projection's sink, on its own connections to the log and the store. */
export interface RunningSinks {
  readonly log: Log;
  readonly store: BeaconStore;
  /** Stops every consumer after its batch in hand, then closes the connections. */
  close(): Promise<void>;
}

/**
 * Opens the configured log and store and starts one consumer-group member per projection. Frames the
 * projections derive go to the log's live channel (`Log.publishDerived`), where every API process
 * tails them; `listening` says whether anyone may receive them (always, unless told otherwise).
 */
export async function runSinks(
  config: Readonly<Config>,
  metrics: Metrics,
  logger: Logger,
  listening: () => boolean = () => true,
): Promise<RunningSinks> {
  const store = await createStore(config, logger);
  await store.open();
  // A replay (which holds it exclusively) and the sinks never write the projections at once.
  let unlock: () => Promise<void>;
  try {
    unlock = await store.lockProjections('shared');
  } catch (err) {
    await store.close();
    throw err;
  }
  const log = await createLog(config, metrics, logger);
  await log.open();
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
  return {
    log,
    store,
    close: async () => {
      await Promise.all(sinks.map((s) => s.close()));
      await log.close();
      await unlock();
      await store.close();
    },
  };
}
