/**
 * Entry of the sink thread that `beacon start` runs beside its API: the sinks get a core of their own,
 * so storing rows never competes with accepting them on one event loop. Speaks the protocol in
 * thread.ts over the parent port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { Config } from '../../config/schema.ts';
import { loggerOptions } from '../../observability/logger.ts';
import { Metrics } from '../../observability/metrics.ts';
import { runSinks } from './run.ts';
import type { FromSinkThread, ToSinkThread } from './thread.ts';

const port = parentPort!;
const config = (workerData as { config: Config }).config;
const logger = pino(loggerOptions(config.logLevel)).child({ thread: 'sinks' });
const metrics = new Metrics({ process: false });
const post = (message: FromSinkThread) => port.postMessage(message);

try {
  let listening = false;
  // Derived frames reach the API's hub through the log's live channel (Log.publishDerived).
  const sinks = await runSinks(config, metrics, logger, () => listening);
  port.on('message', (message: ToSinkThread) => {
    if (message.type === 'listening') {
      listening = message.value;
    } else if (message.type === 'metrics') {
      metrics.registry.getMetricsAsJSON().then(
        (snapshot) => post({ type: 'metrics', id: message.id, snapshot }),
        (err: unknown) => logger.error({ err }, 'metrics snapshot failed'),
      );
    } else if (message.type === 'close') {
      sinks.close().then(
        () => {
          post({ type: 'closed' });
          port.close();
        },
        (err: unknown) => {
          logger.error({ err }, 'sinks did not close cleanly');
          post({ type: 'closed' });
          port.close();
        },
      );
    }
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'failed', message: (err as Error).message });
  port.close();
}
