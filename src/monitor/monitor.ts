import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type { Log } from '../log/log.ts';
import type { LogRecord } from '../log/record.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/store.ts';
import type { TenantRepositories } from '../tenants/store/repositories.ts';
import type { NotifyRepositories } from '../notify/store/repositories.ts';
import type { MonitorRepositories, MonitorWriters } from './store/repositories.ts';
import { MonitorMetrics } from './metrics.ts';
import { IncidentNotifier } from './notifier.ts';
import { CheckOutlet } from './outlet.ts';
import { Prober, type ProberOptions } from './prober.ts';
import { ProberPool } from './prober-pool.ts';
import { parseShard } from './schedule.ts';
import { Spool } from './spool.ts';
import { TargetFile } from './target-file.ts';

/** The running uptime monitor of one process. */
export interface RunningMonitor {
  readonly prober: Prober | ProberPool;
  readonly targetFile: TargetFile | undefined;
  readonly metrics: MonitorMetrics;
  /** Tells the prober that targets changed in this process (API writes), so it re-reads at once. */
  readonly targetsChanged: () => void;
  /** Stops probing, lets running checks finish and hands their records to the log (or the spool). */
  close(): Promise<void>;
}

const HOUR = 3_600_000;

/**
 * Due checks a second the main thread checks alone in an auto-sized pool (`monitor.workers: 0` in
 * `beacon probe`); past it the checks move to worker threads, one per this many, up to one per core.
 * The main thread alone kept 20,000 targets at 60 s (333 a second) on time at about 0.6 ms of CPU each,
 * and every worker thread is an isolate of its own, tens of MB (bench/monitor.ts, issue 20). 500 a
 * second is 30,000 targets at 60 s.
 */
export const CHECKS_PER_THREAD = 500;

/**
 * Starts the prober, the targets-file watcher and (when this process owns the store's upkeep) raw
 * check retention. Used in-process by `beacon start` and alone by `beacon probe`.
 */
export async function startMonitor(options: {
  config: Readonly<Config>;
  store: Store<MonitorWriters> & MonitorRepositories & TenantRepositories & NotifyRepositories;
  log: Log;
  metrics: Metrics;
  logger: Logger;
  /** Prune raw checks older than `monitor.retentionDays` (one process per store should). */
  retention: boolean;
  /**
   * Most prober threads when `monitor.workers` is 0 (auto): one per core for `beacon probe`, used as
   * the due rate needs them (see CHECKS_PER_THREAD); else 1.
   */
  defaultWorkers?: number;
  /** Announce incident changes live; the process with the live hub does. */
  publish?: (records: readonly LogRecord[]) => void;
}): Promise<RunningMonitor> {
  const { config, store, log, logger } = options;
  const settings = config.monitor;
  const metrics = new MonitorMetrics(options.metrics.registry);
  const outlet = new CheckOutlet({
    log,
    spool: new Spool({
      dir: join(config.dataDir, 'spool', settings.region),
      maxBytes: settings.spoolMaxBytes,
    }),
    metrics,
    logger: logger.child({ part: 'outlet' }),
    maxPending: 50_000,
    retryMs: 1000,
    flushMs: 200,
  });
  // Auto (0) in `beacon probe`: the main thread alone while it can keep up, then worker threads,
  // one per CHECKS_PER_THREAD due checks a second, up to one per core.
  const auto = settings.workers === 0 && (options.defaultWorkers ?? 1) > 1;
  const threads = settings.workers === 0 ? (options.defaultWorkers ?? 1) : settings.workers;
  const proberOptions: ProberOptions = {
    targets: () => store.monitor.targetPages(),
    version: () => store.monitor.targetsVersion(),
    emit: (record) => outlet.push(record),
    region: settings.region,
    shard: parseShard(settings.shard),
    concurrency: settings.concurrency,
    perHost: settings.perHost,
    refreshMs: settings.refreshMs,
    metrics,
    logger: logger.child({ part: 'prober' }),
    // Running checks get at most 5 s (less with a short shutdown timeout) after SIGTERM.
    drainMs: Math.min(5000, Math.floor(config.shutdown.timeoutMs / 2)),
    probeContext: {
      lastPush: (tenant, target) => store.pushes.last(tenant, target),
      pingCommand: settings.pingCommand,
    },
  };
  const prober =
    threads > 1
      ? new ProberPool({
          ...proberOptions,
          threads,
          ...(auto ? { checksPerThread: CHECKS_PER_THREAD } : {}),
          logLevel: config.logLevel,
        })
      : new Prober(proberOptions);
  if (prober instanceof ProberPool) await prober.ready();
  const targetFile =
    settings.targetsFile === undefined
      ? undefined
      : new TargetFile({
          file: settings.targetsFile,
          store,
          tenants: async () => new Set((await store.tenants.list()).map((t) => t.id)),
          applied: () => void prober.refresh(),
          preview: (targets, read) => prober.preload(targets, read),
          metrics,
          logger: logger.child({ part: 'targets-file' }),
        });
  try {
    await targetFile?.start();
  } catch (err) {
    // The file's first targets may have started already (preview): stop them with the start.
    await prober.stop();
    await outlet.close();
    throw err;
  }
  await prober.start();

  const notifier =
    options.publish === undefined
      ? undefined
      : new IncidentNotifier({
          reader: store.monitor,
          publish: options.publish,
          pollMs: 500,
          logger: logger.child({ part: 'incidents' }),
        });
  await notifier?.start();

  let pruner: NodeJS.Timeout | undefined;
  if (options.retention) {
    const prune = () => {
      const before = Date.now() - settings.retentionDays * 24 * HOUR;
      store
        .transaction((tx) => tx.checks.deleteChecksBefore(before))
        .then((n) => n > 0 && logger.info({ deleted: n }, 'old checks pruned'))
        .catch((err: unknown) => logger.error({ err }, 'pruning old checks failed'));
    };
    prune();
    pruner = setInterval(prune, HOUR);
    pruner.unref();
  }

  return {
    prober,
    targetFile,
    metrics,
    targetsChanged: () =>
      void prober.refresh().catch((err: unknown) => logger.error({ err }, 'reading targets failed')),
    async close() {
      clearInterval(pruner);
      notifier?.close();
      await targetFile?.close();
      await prober.stop();
      await outlet.close();
    },
  };
}
