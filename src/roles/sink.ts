import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { loggerOptions } from '../observability/logger.ts';
import { Metrics } from '../observability/metrics.ts';
import { runSinks } from '../sink/run.ts';
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
  const sinks = await runSinks(config, new Metrics(), logs);
  logs.info({ sinks: projections.map((p) => p.group) }, 'sinks running');
  let closing: Promise<void> | undefined;
  return {
    logger: logs,
    close: () =>
      (closing ??= (async () => {
        await sinks.close();
        logs.info('stopped');
      })()),
  };
}
