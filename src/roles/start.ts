import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { buildApp } from '../http/app.ts';
import { loggerOptions } from '../observability/logger.ts';
import { requireScope } from '../http/auth.ts';
import type { RouteContext } from '../http/context.ts';
import { TokenBuckets } from '../http/rate-limit.ts';
import { Ingest } from '../ingest/ingest.ts';
import { LiveHub } from '../live/hub.ts';
import { startMonitor, type RunningMonitor } from '../monitor/monitor.ts';
import { OccupancyAlerts, runAlerts } from '../occupancy/alerts.ts';
import { alertRules } from '../occupancy/settings.ts';
import { Deliverer } from '../notify/deliverer.ts';
import { NotifyMetrics } from '../notify/metrics.ts';
import type { Log } from '../log/log.ts';
import type { Stream } from '../log/record.ts';
import { Metrics } from '../observability/metrics.ts';
import { startSinks } from './sink/place.ts';
import type { BeaconStore } from './store.ts';
import { bootstrapTenants } from '../tenants/bootstrap.ts';
import { Authenticator } from '../tenants/tokens.ts';
import { createLog, createStore } from './backends.ts';
import { projections } from './projections.ts';
import { apiParts } from './routes.ts';
import { storeKeyIndex } from './key-index.ts';
import { occupancyNotify } from './occupancy-notify.ts';

/** A running all-in-one Beacon. */
export interface RunningBeacon {
  /** Base URL the API answers on. */
  readonly url: string;
  readonly port: number;
  /** The admin token generated on first start, shown once; undefined on later starts. */
  readonly generatedToken: string | undefined;
  readonly app: FastifyInstance;
  readonly store: BeaconStore;
  readonly log: Log;
  readonly logger: Logger;
  /** The in-process prober, unless `monitor.enabled` is false. */
  readonly monitor: RunningMonitor | undefined;
  /** Graceful stop: refuse new work, commit what was accepted, let sinks catch up, close sockets. */
  close(): Promise<void>;
}

const DRAIN_POLL_MS = 20;

/** How a role starts the server, besides its configuration. */
export interface StartOptions {
  readonly logger?: Logger;
  /** Adds routes before the server listens; benchmarks mount their no-op baseline route here. */
  readonly extend?: (app: FastifyInstance, ctx: RouteContext<BeaconStore>) => void;
  /** False for `beacon api`: no sinks in this process (they run as `beacon sink`). Default true. */
  readonly sinks?: boolean;
}

/**
 * `beacon start`: API, log, sinks and live hub in one process on the configured backends (embedded
 * by default). `beacon api` is the same without sinks.
 */
export async function startBeacon(
  config: Readonly<Config>,
  options: StartOptions = {},
): Promise<RunningBeacon> {
  const logger = options.logger ?? pino(loggerOptions(config.logLevel));
  const metrics = new Metrics();
  const store = await createStore(config, logger);
  const migrations = await store.open();
  if (migrations.length > 0) logger.info({ migrations }, 'store migrated');
  const { generatedToken } = await bootstrapTenants(store.tenants, { adminToken: config.adminToken, logger });

  // A projection whose store keeps every record (checks) lets the log drop them once stored.
  const kept = projections.filter((p) => p.rebuild !== undefined);
  const log = await createLog(config, metrics, logger, {
    released: async () => {
      const released = new Map<Stream, number>();
      for (const p of kept) {
        const saved = await store.checkpoints(p.group, p.stream);
        released.set(p.stream, saved.find((c) => c.partition === 0)?.offset ?? 0);
      }
      return released;
    },
  });
  await log.open();

  // Sinks run in a thread of their own, on their own connections, as `beacon sink` would in a process
  // of its own: storing rows then never competes with accepting them on this event loop. Frames they
  // derive (live counts) come back to the hub, which tells them whether anyone listens. `beacon api`
  // runs none (sinks: false): its sinks are `beacon sink` processes.
  const sinks =
    (options.sinks ?? true) ? await startSinks(config, metrics, logger, { store, log }) : undefined;
  // The log is tailed only while someone listens: on Kafka a tail fetches and decodes every record.
  // Frames the sinks derive (live counts) come through the log too, from the sink thread or from
  // `beacon sink` processes.
  let stopTail: (() => void) | undefined;
  const hub = new LiveHub({
    bufferBytes: config.live.bufferBytes,
    slowPolicy: config.live.slowPolicy,
    metrics,
    onError: (err, record) =>
      logger.error({ err, stream: record.stream, id: record.id }, 'live frame could not be built; dropped'),
    onSubscribers: (count) => {
      sinks?.setListening(count > 0);
      if (count > 0) {
        stopTail ??= (() => {
          const records = log.tail((r) => hub.publish(r));
          const derived = log.tailDerived((frames) => hub.publishDerived(frames));
          return () => (records(), derived());
        })();
      } else {
        stopTail?.();
        stopTail = undefined;
      }
    },
  });
  const fromThread = sinks?.metrics;
  if (fromThread) metrics.addSource(() => fromThread());

  const monitor = config.monitor.enabled
    ? await startMonitor({
        config,
        store,
        log,
        metrics,
        logger: logger.child({ role: 'probe' }),
        retention: true,
        publish: (records) => hub.publish(records),
      })
    : undefined;

  // Occupancy alerts: evaluated and delivered from this process (one process at a time per store).
  const occupancyAlerts = runAlerts(
    new OccupancyAlerts({
      store,
      rules: alertRules(config),
      notify: occupancyNotify(config, log),
      logger: logger.child({ role: 'occupancy-alerts' }),
    }),
    config.occupancy.alertIntervalMs,
    logger,
  );
  // Any number of processes may deliver: each notification is leased in the store to one of them.
  const deliverer = config.notify.enabled
    ? new Deliverer({
        store,
        ...config.notify,
        metrics: new NotifyMetrics(metrics.registry),
        logger: logger.child({ part: 'notify' }),
      })
    : undefined;
  deliverer?.start();

  const authenticator = new Authenticator(store.tenants);
  const buckets = new TokenBuckets(config.rateLimit);
  let accepting = true;
  const ctx: RouteContext<BeaconStore> = {
    config,
    log,
    store,
    ingest: new Ingest(log, metrics, log.checksKeys ? undefined : storeKeyIndex(store)),
    hub,
    metrics,
    authenticator,
    logger,
    scope: (scope) => requireScope(authenticator, buckets, scope),
    accepting: () => accepting,
    targetsChanged: monitor?.targetsChanged,
  };
  const app = await buildApp(ctx, logger, apiParts(hub));
  options.extend?.(app, ctx);
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url =
    config.publicUrl ??
    `http://${config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host}:${port}`;
  const heartbeat = setInterval(() => hub.heartbeat(), config.live.pingIntervalMs);
  heartbeat.unref();

  /** Waits until every sink has stored everything the log holds, or the deadline passes. */
  async function drainSinks(deadline: number): Promise<boolean> {
    for (const projection of projections) {
      const end = await log.endOffsets(projection.stream);
      for (;;) {
        const saved = await store.checkpoints(projection.group, projection.stream);
        const behind = [...end].some(
          ([p, next]) => (saved.find((c) => c.partition === p)?.offset ?? 0) < next && next > 1,
        );
        if (!behind) break;
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      }
    }
    return true;
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    generatedToken,
    app,
    store,
    log,
    logger,
    monitor,
    close: () =>
      (closing ??= (async () => {
        const deadline = Date.now() + config.shutdown.timeoutMs;
        accepting = false;
        clearInterval(heartbeat);
        await hub.close();
        await app.close();
        // Checks already made reach the log before it closes; the rest of the drain then stores them.
        await monitor?.close();
        await occupancyAlerts.close();
        await deliverer?.close();
        stopTail?.();
        const drained = !sinks || (await drainSinks(deadline));
        if (!drained)
          logger.warn(
            'shutdown deadline reached before sinks caught up; they resume from the log on next start',
          );
        await sinks?.close();
        await log.close();
        await store.close();
        logger.info('stopped');
      })()),
  };
}
