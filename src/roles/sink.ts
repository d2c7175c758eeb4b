import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { loggerOptions } from '../http/app.ts';
import type { Consumer } from '../log/log.ts';
import { Metrics } from '../observability/metrics.ts';
import { startSink } from '../sink/sink.ts';
import { createLog, createStore } from './backends.ts';
import { projections } from './projections.ts';

/** A running `beacon sink`. */
export interface RunningSink {
  readonly logger: Logger;
  /** Stops consuming after the batch in hand is stored, then closes the log and the store. */
  close(): Promise<void>;
}

/**
 * `beacon sink`: one consumer-group member per stream projection and nothing else. Start as many as
 * there are partitions to share; each batch commits with its checkpoint, so any of them may be killed.
 */
export async function startSinkRole(config: Readonly<Config>, logger?: Logger): Promise<RunningSink> {
  const logs = logger ?? pino(loggerOptions(config.logLevel));
  const metrics = new Metrics();
  const store = createStore(config);
  const migrations = await store.open();
  if (migrations.length > 0) logs.info({ migrations }, 'store migrated');
  const log = createLog(config, metrics, logs);
  try {
    await log.open();
  } catch (err) {
    await store.close();
    throw err;
  }
  const sinks: Consumer[] = projections.map((projection) =>
    startSink({
      log,
      store,
      projection,
      batchSize: config.sink.batchSize,
      metrics,
      logger: logs.child({ sink: projection.group }),
    }),
  );
  logs.info({ sinks: projections.map((p) => p.group) }, 'sinks running');
  let closing: Promise<void> | undefined;
  return {
    logger: logs,
    close: () =>
      (closing ??= (async () => {
        await Promise.all(sinks.map((s) => s.close()));
        await log.close();
        await store.close();
        logs.info('stopped');
      })()),
  };
}
