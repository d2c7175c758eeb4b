import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { loggerOptions } from '../observability/logger.ts';
import { startMonitor, type RunningMonitor } from '../monitor/monitor.ts';
import { Metrics } from '../observability/metrics.ts';
import { createLog, createStore } from './backends.ts';

/**
 * The prober reads its targets a page at a time when they change and appends one batch of checks every 200 ms, so
 * with embedded storage it keeps 256 KiB of SQLite page cache per connection instead of 64 MiB, which
 * the log's growth would otherwise fill and keep (4 MiB measured about 5 MB more RSS in bench/monitor.ts
 * than 1 MiB; see bench/README.md for 256 KiB against 1 MiB). Whether it commits on a writer thread follows
 * `embeddedLog.writerThread`: inline commits save the thread's isolate (about 27 MB at 20,000 targets
 * in bench/monitor.ts) but put each fsync on the event loop that starts checks.
 */
const LEAN = { cacheMiB: 0.25 } as const;

/** A running `beacon probe`. */
export interface RunningProbe {
  readonly monitor: RunningMonitor;
  /** Where /metrics and /healthz answer. */
  readonly url: string;
  readonly logger: Logger;
  close(): Promise<void>;
}

/**
 * `beacon probe`: only the prober. It reads targets from the store, writes checks through the log
 * (so any number of agents can feed the same sinks), and serves /metrics and /healthz on `port`.
 */
export async function startProbe(
  config: Readonly<Config>,
  options: { logger?: Logger } = {},
): Promise<RunningProbe> {
  const logger = options.logger ?? pino(loggerOptions(config.logLevel));
  const metrics = new Metrics();
  const store = await createStore(config, logger, LEAN);
  await store.open();
  const log = await createLog(config, metrics, logger, LEAN);
  await log.open();
  // Checks run on the main thread while it keeps up, and on up to one worker thread per core when
  // the due rate needs them (monitor.workers = 0; see CHECKS_PER_THREAD); the main thread reads
  // targets and appends checks to the log.
  const monitor = await startMonitor({
    config,
    store,
    log,
    metrics,
    logger,
    retention: false,
    defaultWorkers: availableParallelism(),
  });

  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text))
        .catch((err: unknown) => res.writeHead(500).end(String(err)));
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const { port } = server.address() as AddressInfo;
  logger.info({ port, shard: config.monitor.shard, region: config.monitor.region }, 'probe running');
  return {
    monitor,
    url: `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
    logger,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await monitor.close();
      await log.close();
      await store.close();
    },
  };
}
