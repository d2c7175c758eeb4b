import { pino, type Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import { loggerOptions } from '../../observability/logger.ts';
import { Metrics } from '../../observability/metrics.ts';
import { runSinks } from './run.ts';
import { projections } from '../projections.ts';
import { startSinkServer, type SinkServer } from './server.ts';

/** A running `beacon sink`. */
export interface RunningSink {
  readonly logger: Logger;
  /** Where `/metrics`, `/healthz` and `/readyz` are served (`sink.port` on `host`). */
  readonly url: string;
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
  const sinks = await runSinks(config, metrics, logs);
  let closing: Promise<void> | undefined;
  let server: SinkServer;
  try {
    server = await startSinkServer({
      host: config.host,
      port: config.sink.port,
      log: sinks.log,
      store: sinks.store,
      metrics,
      logger: logs,
      accepting: () => closing === undefined,
    });
  } catch (err) {
    await sinks.close();
    throw err;
  }
  logs.info({ sinks: projections.map((p) => p.group), url: server.url }, 'sinks running');
  return {
    logger: logs,
    url: server.url,
    close: () =>
      (closing ??= (async () => {
        await sinks.close();
        await server.close();
        logs.info('stopped');
      })()),
  };
}
