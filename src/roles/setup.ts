import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { isKafkaUrl } from '../log/kafka/kafka-url.ts';
import { Metrics } from '../observability/metrics.ts';
import { bootstrapTenants } from '../tenants/bootstrap.ts';
import { createKafkaLog, createStore } from './backends.ts';

/** What `beacon setup` created and what it found already there. */
export interface SetupReport {
  readonly log: {
    readonly backend: string;
    readonly created: string[];
    readonly existing: string[];
    /** Kafka: brokers the cluster lists, and where it falls short of the configured layout. */
    readonly brokers?: number;
    readonly warnings: string[];
  };
  readonly store: { readonly backend: string; readonly migrationsApplied: string[] };
  /** The default tenant's admin token when this run created it (shown once). */
  readonly generatedToken: string | undefined;
}

/**
 * `beacon setup`: creates what the distributed roles need and is safe to run again. Kafka topics are
 * created with the configured partitions and replication factor (existing ones are left alone); the
 * store's migrations are applied; the default tenant and its admin token are created on first run.
 */
export async function runSetup(config: Readonly<Config>, logger: Logger): Promise<SetupReport> {
  let log: SetupReport['log'] = { backend: 'embedded', created: [], existing: [], warnings: [] };
  if (isKafkaUrl(config.log)) {
    const topics = await (await createKafkaLog(config, new Metrics(), logger)).setup();
    log = { backend: 'kafka', ...topics };
  }
  const store = await createStore(config);
  try {
    const migrationsApplied = await store.open();
    const { generatedToken } = await bootstrapTenants(store.tenants, {
      adminToken: config.adminToken,
      logger,
    });
    return { log, store: { backend: store.backend, migrationsApplied }, generatedToken };
  } finally {
    await store.close();
  }
}
