import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { BeaconError } from '../errors/catalog.ts';
import { EmbeddedLog } from '../log/embedded/embedded-log.ts';
import { KafkaLog } from '../log/kafka/kafka-log.ts';
import { isKafkaUrl, parseKafkaUrl } from '../log/kafka/kafka-url.ts';
import type { Log } from '../log/log.ts';
import type { Metrics } from '../observability/metrics.ts';
import { PostgresStore } from '../store/postgres/postgres-store.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';

/** Chooses the log backend from configuration, once, at start-up. */
export function createLog(config: Readonly<Config>, metrics: Metrics, logger: Logger): Log {
  if (config.log === 'embedded') {
    return new EmbeddedLog({
      dataDir: config.dataDir,
      maxQueue: config.ingest.queueMax,
      retentionDays: config.embeddedLog.retentionDays,
      sweepIntervalMs: config.embeddedLog.sweepIntervalMs,
      writerThread: config.embeddedLog.writerThread,
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
export function createKafkaLog(config: Readonly<Config>, metrics: Metrics, logger: Logger): KafkaLog {
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
export function createStore(config: Readonly<Config>, logger?: Logger): Store {
  if (config.store === 'sqlite') return new SqliteStore({ dataDir: config.dataDir });
  if (/^postgres(ql)?:\/\//.test(config.store)) {
    return new PostgresStore({
      url: config.store,
      ...config.postgres,
      onIdleError: (err) => logger?.warn({ err }, 'postgres connection lost; it reconnects on next use'),
      onMaintenanceError: (err) =>
        logger?.error({ err }, 'postgres partition maintenance failed; retried later'),
    });
  }
  throw new BeaconError('CONFIG_INVALID', `config key store: unsupported store backend ${config.store}`);
}
