import type { Logger } from 'pino';
import type { Config } from '../../config/schema.ts';
import type { Log } from '../../log/log.ts';
import type { Metrics, MetricsSnapshot } from '../../observability/metrics.ts';
import type { BeaconStore } from '../store.ts';
import { runSinks } from './run.ts';
import { startSinkThread } from './thread.ts';

/** The sinks of `beacon start`, wherever they run. */
export interface StartSinks {
  /** Their metrics when they run on a thread with a registry of its own; absent on the event loop. */
  readonly metrics?: () => Promise<MetricsSnapshot>;
  /** Tells the sinks whether anyone subscribes to live frames, so they compute them only then. */
  setListening(value: boolean): void;
  /** Stops the sinks after their batches in hand. */
  close(): Promise<void>;
}

/**
 * Starts `beacon start`'s sinks on a worker thread of their own (`sink.thread`), with their own
 * connections, as `beacon sink` would run in a process of its own; or on this event loop with the
 * API's store and log, which costs no second V8 isolate (about 55 MB) and suits the load one box
 * usually has (docs/operations.md, "Memory").
 */
export async function startSinks(
  config: Readonly<Config>,
  metrics: Metrics,
  logger: Logger,
  shared: { readonly store: BeaconStore; readonly log: Log },
): Promise<StartSinks> {
  if (config.sink.thread) {
    const thread = await startSinkThread(config, logger);
    return {
      metrics: () => thread.metrics(),
      setListening: (v) => thread.setListening(v),
      close: () => thread.close(),
    };
  }
  let listening = false;
  const sinks = await runSinks(config, metrics, logger.child({ part: 'sinks' }), () => listening, shared);
  return {
    setListening: (value) => (listening = value),
    close: () => sinks.close(),
  };
}
