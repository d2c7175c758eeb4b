import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { BeaconError } from '../errors/catalog.ts';
import type { KafkaLog } from '../log/kafka/kafka-log.ts';
import { isKafkaUrl, parseKafkaUrl } from '../log/kafka/kafka-url.ts';
import type { Log } from '../log/log.ts';
import type { Stream } from '../log/record.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { BeaconStore } from './store.ts';

/**
 * What a role may change about the embedded backends it opens, over the configuration: `beacon probe`
 * only appends batches of checks and reads its targets, so it asks for less memory than a server.
 */
export interface EmbeddedTuning {
  /** Commit on a writer thread (default: `embeddedLog.writerThread`). */
  readonly writerThread?: boolean;
  /** SQLite page cache per connection, in MiB (default `sqliteCacheMiB`). */
  readonly cacheMiB?: number;
  /**
   * Per stream whose store keeps every record (checks), the offset below which its sink has stored
   * them: the embedded log drops those past the hot window instead of archiving them.
   */
  readonly released?: () => Promise<ReadonlyMap<Stream, number>>;
}

/**
 * Streams whose store deduplicates records by key: checks, by target, region and slot. No client
 * waits for a check's first answer, so the embedded log keeps no key index for them.
 */
const KEYLESS_STREAMS: readonly Stream[] = ['checks'];

// Each backend is imported only once it is chosen: the Kafka client alone costs a process (and every
// worker thread that opens a log) about 60 MB of RSS, and pg some more, which an embedded deployment
// or a `beacon probe` on 100 MB should not pay for code it never runs.

/** Chooses the log backend from configuration, once, at start-up. */
export async function createLog(
  config: Readonly<Config>,
  metrics: Metrics,
  logger: Logger,
  tuning: EmbeddedTuning = {},
): Promise<Log> {
  if (config.log === 'embedded') {
    const { EmbeddedLog } = await import('../log/embedded/embedded-log.ts');
    return new EmbeddedLog({
      dataDir: config.dataDir,
      maxQueue: config.ingest.queueMax,
      retentionDays: config.embeddedLog.retentionDays,
      hotMinutes: config.embeddedLog.hotMinutes,
      idempotencyHours: config.embeddedLog.idempotencyHours,
      maintenanceIntervalMs: config.embeddedLog.sweepIntervalMs,
      keylessStreams: KEYLESS_STREAMS,
      ...(tuning.released === undefined ? {} : { released: tuning.released }),
      writerThread: tuning.writerThread ?? config.embeddedLog.writerThread,
      cacheMiB: tuning.cacheMiB ?? config.sqliteCacheMiB,
      logger,
      onCommit: (records, seconds) => {
        metrics.commitBatchSize.observe(records);
        metrics.commitSeconds.observe(seconds);
      },
    });
  }
  if (isKafkaUrl(config.log)) return createKafkaLog(config, metrics, logger);
  throw new BeaconError('CONFIG_INVALID', `config key log: unsupported log backend ${config.log}`);
}

/** The Kafka log from the `log` URL and the `kafka` section; `beacon setup` also uses it for topics. */
export async function createKafkaLog(
  config: Readonly<Config>,
  metrics: Metrics,
  logger: Logger,
): Promise<KafkaLog> {
  const { KafkaLog } = await import('../log/kafka/kafka-log.ts');
  const { kafka } = config;
  return new KafkaLog({
    brokers: parseKafkaUrl(config.log),
    clientId: kafka.clientId,
    prefix: kafka.topicPrefix,
    partitions: kafka.partitions,
    replicationFactor: kafka.replicationFactor,
    compression: kafka.compression,
    requestTimeoutMs: kafka.requestTimeoutMs,
    maxQueue: config.ingest.queueMax,
    recentKeys: kafka.recentKeys,
    logger: logger.child({ log: 'kafka' }),
    onCommit: (records, seconds) => {
      metrics.commitBatchSize.observe(records);
      metrics.commitSeconds.observe(seconds);
    },
  });
}

/** Chooses the store backend from configuration, once, at start-up. */
export async function createStore(
  config: Readonly<Config>,
  logger?: Logger,
  tuning: Pick<EmbeddedTuning, 'cacheMiB'> = {},
): Promise<BeaconStore> {
  if (config.store === 'sqlite') {
    const { sqliteStore } = await import('./store-sqlite.ts');
    return sqliteStore({ dataDir: config.dataDir, cacheMiB: tuning.cacheMiB ?? config.sqliteCacheMiB });
  }
  if (/^postgres(ql)?:\/\//.test(config.store)) {
    const { postgresStore } = await import('./store-postgres.ts');
    return postgresStore({
      url: config.store,
      ...config.postgres,
      onIdleError: (err) => logger?.warn({ err }, 'postgres connection lost; it reconnects on next use'),
      onMaintenanceError: (err) =>
        logger?.error({ err }, 'postgres partition maintenance failed; retried later'),
    });
  }
  throw new BeaconError('CONFIG_INVALID', `config key store: unsupported store backend ${config.store}`);
}
