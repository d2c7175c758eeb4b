import pg, { type Pool, type PoolClient } from 'pg';
import type { Stream } from '../../log/record.ts';
import type { Checkpoint, Store, StoreTx } from '../store.ts';
import { guarded, isUnavailable, storeError, type Queryable } from './errors.ts';
import { migrate, pgMigrations, type TimeLayout } from './migrations.ts';
import { dayOf, DeltaPartitions, Partitions, type StoreMaintenanceReport } from './partitions.ts';
import { PostgresAnalyticsReader, PostgresAnalyticsWriter } from './postgres-analytics.ts';
import { PostgresMessageReader, PostgresMessageWriter } from './postgres-messages.ts';
import { PostgresOccupancyReader, PostgresOccupancyWriter } from './postgres-occupancy.ts';
import { PostgresCheckWriter, PostgresMonitorReader, PostgresTargetWriter } from './postgres-monitor.ts';
import { PostgresTenantRepository } from './postgres-tenants.ts';

/** SQLSTATE check_violation: raised, among others, for a row with no partition to go to. */
const NO_PARTITION = '23514';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  /** Connections in the pool (queries and the one write transaction at a time). */
  readonly poolSize?: number;
  /** Days of partitions kept ready after today. */
  readonly partitionsAhead?: number;
  /** Rows older than this many days are dropped with their partitions; 0 keeps everything. */
  readonly retentionDays?: number;
  /** How often partitions are created ahead and retention applied; 0 only at open. */
  readonly maintenanceIntervalMs?: number;
  /** Told about errors on idle pooled connections (a server restart); the pool replaces them. */
  readonly onIdleError?: (err: Error) => void;
  /** Told about a failed periodic maintenance pass; it is tried again at the next interval. */
  readonly onMaintenanceError?: (err: unknown) => void;
}

/**
 * The PostgreSQL store: a `pg` pool, versioned migrations under an advisory lock, messages and
 * monitor checks and occupancy deltas in time-partitioned tables (native daily partitions, or TimescaleDB hypertables when the server has
 * the extension), bulk writes by COPY. Transactions from one store run one at a time, as in SQLite,
 * so a sink's batches commit in order; reads use the rest of the pool.
 */
export class PostgresStore implements Store {
  readonly backend = 'postgres' as const;
  readonly #options: PostgresStoreOptions;
  #pool: Pool | undefined;
  #db: Queryable | undefined;
  #partitions: Partitions | undefined;
  #deltaPartitions: DeltaPartitions | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** Pooled connections that have each temporary staging table. */
  readonly #staged = {
    messages: new WeakSet<PoolClient>(),
    checks: new WeakSet<PoolClient>(),
    occupancy: new WeakSet<PoolClient>(),
    analytics: new WeakSet<PoolClient>(),
  };
  #existing: readonly string[] = [];
  #layout: TimeLayout = 'native';
  tenants!: PostgresTenantRepository;
  messages!: PostgresMessageReader;
  occupancy!: PostgresOccupancyReader;
  monitor!: PostgresMonitorReader;
  targets!: PostgresTargetWriter;
  analytics!: PostgresAnalyticsReader;

  constructor(options: PostgresStoreOptions) {
    this.#options = options;
  }

  /** Migrations that were already in the database when `open()` ran (for `beacon setup`). */
  get existing(): readonly string[] {
    return this.#existing;
  }

  /** `native` partitions or `timescaledb` hypertables, as chosen when the schema was created. */
  get layout(): TimeLayout {
    return this.#layout;
  }

  async open(): Promise<string[]> {
    const pool = new pg.Pool({
      connectionString: this.#options.url,
      max: this.#options.poolSize ?? 10,
      // Fail fast while the server is down, so callers see STORE_UNAVAILABLE instead of hanging.
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    // An idle connection dies when the server restarts; the pool discards it and the next query
    // connects afresh. Without a listener the 'error' event would crash the process.
    pool.on('error', (err) => this.#options.onIdleError?.(err));
    this.#pool = pool;
    try {
      const report = await migrate(pool, pgMigrations);
      this.#existing = report.existing;
      this.#layout = report.layout;
      this.#partitions = new Partitions(report.layout);
      this.#deltaPartitions = new DeltaPartitions(report.layout);
      this.#db = guarded(pool);
      this.tenants = new PostgresTenantRepository(this.#db);
      this.messages = new PostgresMessageReader(this.#db);
      this.occupancy = new PostgresOccupancyReader(this.#db);
      this.monitor = new PostgresMonitorReader(this.#db);
      this.targets = new PostgresTargetWriter(pool, this.#db);
      this.analytics = new PostgresAnalyticsReader(this.#db);
      await this.maintain();
      const every = this.#options.maintenanceIntervalMs ?? 3_600_000;
      if (every > 0) {
        this.#timer = setInterval(() => {
          this.maintain().catch((err: unknown) => this.#options.onMaintenanceError?.(err));
        }, every);
        this.#timer.unref();
      }
      return report.applied;
    } catch (err) {
      await pool.end();
      this.#pool = undefined;
      throw storeError(err);
    }
  }

  /**
   * Creates partitions ahead and applies retention as of `now`. Runs at open and every
   * `maintenanceIntervalMs`; any process may run it, an advisory lock keeps passes apart.
   */
  async maintain(now = Date.now()): Promise<StoreMaintenanceReport> {
    try {
      return await this.#partitions!.maintain(this.#pool!, {
        now,
        ahead: this.#options.partitionsAhead ?? 7,
        retentionDays: this.#options.retentionDays ?? 0,
      });
    } catch (err) {
      throw storeError(err);
    }
  }

  async checkpoints(group: string, stream: Stream): Promise<Checkpoint[]> {
    const { rows } = await this.#db!.query<{ partition: number; next_offset: string }>(
      'SELECT partition, next_offset FROM checkpoints WHERE consumer_group = $1 AND stream = $2',
      [group, stream],
    );
    return rows.map((r) => ({ group, stream, partition: r.partition, offset: Number(r.next_offset) }));
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    // One write transaction at a time: later callers wait their turn rather than interleave.
    const run = this.#queue.then(() => this.#run(fn));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.#pool!.connect();
    } catch (err) {
      throw storeError(err);
    }
    const partitions = this.#partitions!;
    const createdDays: number[] = [];
    const createdCheckDays: number[] = [];
    const deltaPartitions = this.#deltaPartitions!;
    const createdDeltaDays: number[] = [];
    const occupancy = new PostgresOccupancyWriter(client, this.#staged.occupancy, async (days) => {
      createdDeltaDays.push(...(await deltaPartitions.ensure(client, days)));
    });
    // Analytics partitions created in this transaction, remembered once it commits.
    const createdAnalytics: (() => void)[] = [];
    const analytics = new PostgresAnalyticsWriter(client, this.#staged.analytics, async (table, days) => {
      const target = table === 'analytics_events' ? partitions.analyticsEvents : partitions.analyticsSeen;
      const made = await target.ensure(client, days);
      if (made.length > 0) createdAnalytics.push(() => target.remember(made));
    });
    const tx: StoreTx = {
      messages: new PostgresMessageWriter(client, this.#staged.messages, async (rows) => {
        createdDays.push(
          ...(await partitions.messages.ensure(
            client,
            rows.map((r) => dayOf(r.receivedAt)),
          )),
        );
      }),
      occupancy,
      checks: new PostgresCheckWriter(client, this.#staged.checks, partitions.checks, (days) =>
        createdCheckDays.push(...days),
      ),
      analytics,
      saveCheckpoint: async (c: Checkpoint) => {
        await client.query(
          `INSERT INTO checkpoints (consumer_group, stream, partition, next_offset) VALUES ($1, $2, $3, $4)
           ON CONFLICT (consumer_group, stream, partition) DO UPDATE SET next_offset = excluded.next_offset`,
          [c.group, c.stream, c.partition, c.offset],
        );
      },
    };
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await occupancy.flushDeltas();
      await analytics.finish();
      await client.query('COMMIT');
      partitions.messages.remember(createdDays);
      partitions.checks.remember(createdCheckDays);
      deltaPartitions.remember(createdDeltaDays);
      for (const remember of createdAnalytics) remember();
      return result;
    } catch (err) {
      broken = isUnavailable(err);
      // The rollback may have undone the staging table's creation: make the next batch create it.
      this.#staged.messages.delete(client);
      this.#staged.checks.delete(client);
      this.#staged.occupancy.delete(client);
      this.#staged.analytics.delete(client);
      if ((err as { code?: unknown }).code === NO_PARTITION) {
        partitions.forget();
        deltaPartitions.forget();
      }
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw storeError(err);
    } finally {
      // A connection that failed mid-transaction is closed rather than returned to the pool.
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.#db!.query('SELECT 1');
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#queue;
    await this.#pool?.end();
    this.#pool = undefined;
  }
}
