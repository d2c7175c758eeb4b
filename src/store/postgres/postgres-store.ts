import pg, { type Pool, type PoolClient, type QueryResultRow } from 'pg';
import { BeaconError } from '../../errors/catalog.ts';
import { postgresColumns } from '../columns.ts';
import {
  DEAD_LETTER_COLUMNS,
  DEAD_LETTER_KEY,
  DEAD_LETTER_ORDER,
  deadLetterValues,
  toDeadLetter,
  type DeadLetterRow,
} from '../dead-letters.ts';
import type { Stream } from '../../log/record.ts';
import type {
  Checkpoint,
  CheckpointWriter,
  DeadLetter,
  DeadLetterQuery,
  MaintenanceReport,
  Store,
} from '../store.ts';
import { guarded, isUnavailable, storeError, type Queryable } from './errors.ts';
import { checkOut, lockedTransaction, type CheckedOut } from './locked-transaction.ts';
import { migrate, type MigrationReport, type PgMigration, type TimeLayout } from './migrations.ts';
import { isNoPartition, PARTITION_LOCK, type DayPartitions } from './partitions.ts';

/** Advisory lock held shared by every process running sinks and exclusively by a replay. */
const PROJECTIONS_LOCK = 0x62636e05;
import type { OpenPostgresWing, PostgresTx, PostgresWing } from './wing.ts';
import type { StoragePart } from '../storage.ts';

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
  /**
   * Longest a statement may run, or a connection sit silent inside a transaction, before it counts
   * as lost (0: no limit). Migrations are exempt.
   */
  readonly queryTimeoutMs?: number;
  /** Told about errors on idle pooled connections (a server restart); the pool replaces them. */
  readonly onIdleError?: (err: Error) => void;
  /** Told about a failed periodic maintenance pass; it is tried again at the next interval. */
  readonly onMaintenanceError?: (err: unknown) => void;
}

/** A maintenance pass over every wing: the totals, and each wing's own report by its name. */
export interface StoreMaintenanceReport extends MaintenanceReport {
  readonly wings: Readonly<Record<string, MaintenanceReport>>;
}

/**
 * The engine's own part of the schema: its settings (the time layout, chosen once), the sinks'
 * resume points, and the records they set aside.
 */
const engineMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: (layout) => `
      CREATE TABLE beacon_settings (name text PRIMARY KEY, value text NOT NULL);
      INSERT INTO beacon_settings (name, value) VALUES ('time_layout', '${layout}');
      CREATE TABLE checkpoints (
        consumer_group text NOT NULL,
        stream text NOT NULL,
        partition integer NOT NULL,
        next_offset bigint NOT NULL,
        PRIMARY KEY (consumer_group, stream, partition)
      );`,
  },
  {
    version: 7,
    name: '007_dead_letters',
    sql: () => `
      CREATE TABLE dead_letters (
        consumer_group text NOT NULL,
        stream text NOT NULL,
        partition integer NOT NULL,
        "offset" bigint NOT NULL,
        tenant text COLLATE "C" NOT NULL,
        record_id text NOT NULL,
        key text NOT NULL,
        error text NOT NULL,
        record text NOT NULL,
        failed_at bigint NOT NULL,
        PRIMARY KEY (consumer_group, stream, partition, "offset")
      );
      CREATE INDEX dead_letters_tenant ON dead_letters (tenant, failed_at);`,
  },
];

/**
 * SQLSTATE classes that may pass if the work is tried again: connection trouble (08), too many
 * connections or no space (53), a serialization failure or deadlock (40), operator intervention
 * (57), system errors (58, XX). Data exceptions and constraint violations do not.
 */
const RETRYABLE_STATES = /^(08|40|53|57|58|XX)/;

/**
 * The PostgreSQL store: a `pg` pool, versioned migrations under an advisory lock, time-partitioned
 * tables (native daily partitions, or TimescaleDB hypertables when the server has the extension) kept
 * by the wings that own them, and a maintenance pass on a timer. Transactions from one store run one
 * at a time, as in SQLite, so a sink's batches commit in order; reads use the rest of the pool.
 */
export class PostgresStore<W extends object = object> implements Store<W> {
  readonly backend = 'postgres' as const;
  readonly #options: PostgresStoreOptions;
  readonly #wings: readonly PostgresWing<object, object>[];
  #open: readonly OpenPostgresWing<object, object>[] = [];
  #pool: Pool | undefined;
  #db: Queryable | undefined;
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #existing: readonly string[] = [];
  #layout: TimeLayout = 'native';
  /** Temporary tables each pooled connection has made (see `PostgresTx.stage`). */
  readonly #staged = new WeakMap<PoolClient, Set<string>>();
  /** Every partition cache a transaction has used, to forget when a partition went missing. */
  readonly #partitionCaches = new Set<DayPartitions>();

  /** `wings`: the domains stored here; their repositories become members of the store at `open()`. */
  constructor(options: PostgresStoreOptions & { readonly wings: readonly PostgresWing<object, object>[] }) {
    this.#options = options;
    this.#wings = options.wings;
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
    const timeout = this.#options.queryTimeoutMs ?? 30_000;
    const pool = new pg.Pool({
      connectionString: this.#options.url,
      max: this.#options.poolSize ?? 10,
      // Fail fast while the server is down, so callers see STORE_UNAVAILABLE instead of hanging.
      connectionTimeoutMillis: 5000,
      keepAlive: true,
      // No JIT compilation: Beacon's statements take milliseconds, and once a table is large the
      // planner's estimate for a parameterized range passes jit_above_cost, so each execution spent
      // 20–470 ms compiling (measured on occupancy's delta reads at 10 million events, for a 1 ms
      // query). A connection string's own `options` still wins.
      options: '-c jit=off',
      // A network partition loses packets without an error: a statement would wait on its socket
      // for as long as TCP keeps retrying (many minutes). The client gives up after `timeout` and
      // discards the connection; the server ends the statement, or the transaction its silent client
      // left open, so no lock it holds outlives the partition by more than that either.
      ...(timeout > 0
        ? {
            query_timeout: timeout,
            statement_timeout: timeout,
            idle_in_transaction_session_timeout: timeout,
          }
        : {}),
    });
    // An idle connection dies when the server restarts; the pool discards it and the next query
    // connects afresh. Without a listener the 'error' event would crash the process.
    pool.on('error', (err) => this.#options.onIdleError?.(err));
    this.#pool = pool;
    try {
      const report = await this.#migrate();
      this.#existing = report.existing;
      this.#layout = report.layout;
      this.#db = guarded(pool);
      const connections = { db: this.#db, pool, layout: report.layout };
      this.#open = this.#wings.map((wing) => wing.open(connections));
      for (const wing of this.#open) Object.assign(this, wing.repositories);
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
   * Applies the migrations on a connection of their own without the query timeout: one may rewrite
   * a large table, and another process's migration may hold the lock for as long.
   */
  async #migrate(): Promise<MigrationReport> {
    const pool = new pg.Pool({ connectionString: this.#options.url, max: 1, connectionTimeoutMillis: 5000 });
    pool.on('error', (err) => this.#options.onIdleError?.(err));
    try {
      return await migrate(pool, [...engineMigrations, ...this.#wings.flatMap((w) => w.migrations)]);
    } finally {
      await pool.end();
    }
  }

  /**
   * Creates partitions ahead and applies retention as of `now`, wing by wing, in one transaction.
   * Runs at open and every `maintenanceIntervalMs`; any process may run it, an advisory lock keeps
   * passes apart.
   */
  async maintain(now = Date.now()): Promise<StoreMaintenanceReport> {
    const options = {
      now,
      ahead: this.#options.partitionsAhead ?? 7,
      retentionDays: this.#options.retentionDays ?? 0,
    };
    try {
      return await lockedTransaction(this.#pool!, PARTITION_LOCK, async (client) => {
        const wings: Record<string, MaintenanceReport> = {};
        const created: string[] = [];
        const dropped: string[] = [];
        let keysDeleted = 0;
        for (const [i, wing] of this.#open.entries()) {
          if (!wing.maintain) continue;
          const report = await wing.maintain(client, options);
          wings[this.#wings[i]!.name] = report;
          created.push(...report.created);
          dropped.push(...report.dropped);
          keysDeleted += report.keysDeleted;
        }
        return { created, dropped, keysDeleted, wings };
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

  async deadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const params: unknown[] = [query.tenant];
    const where = ['tenant = $1'];
    if (query.stream !== undefined) {
      params.push(query.stream);
      where.push(`stream = $${params.length}`);
    }
    if (query.before) {
      const b = query.before;
      params.push(b.failedAt, b.group, b.stream, b.partition, b.offset);
      const at = params.length - 4;
      where.push(`${DEAD_LETTER_KEY} < ($${at}, $${at + 1}, $${at + 2}, $${at + 3}, $${at + 4})`);
    }
    params.push(query.limit);
    const { rows } = await this.#db!.query<DeadLetterRow & QueryResultRow>(
      `SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE ${where.join(' AND ')}
       ORDER BY ${DEAD_LETTER_ORDER} LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => toDeadLetter(r, postgresColumns));
  }

  async dismissDeadLetter(
    tenant: string,
    d: Pick<DeadLetter, 'group' | 'stream' | 'partition' | 'offset'>,
  ): Promise<boolean> {
    const result = await this.#db!.query(
      'DELETE FROM dead_letters WHERE tenant = $1 AND consumer_group = $2 AND stream = $3 AND partition = $4 AND "offset" = $5',
      [tenant, d.group, d.stream, d.partition, d.offset],
    );
    return result.rowCount === 1;
  }

  retryable(err: unknown): boolean {
    if (isUnavailable(err) || (err instanceof BeaconError && err.code === 'STORE_UNAVAILABLE')) return true;
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' && RETRYABLE_STATES.test(code);
  }

  transaction<T>(fn: (tx: W & CheckpointWriter) => Promise<T>): Promise<T> {
    // One write transaction at a time: later callers wait their turn rather than interleave.
    const run = this.#queue.then(() => this.#run(fn));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #run<T>(fn: (tx: W & CheckpointWriter) => Promise<T>): Promise<T> {
    let checkedOut: CheckedOut;
    try {
      checkedOut = await checkOut(this.#pool!);
    } catch (err) {
      throw storeError(err);
    }
    const { client } = checkedOut;
    const beforeCommit: (() => Promise<void>)[] = [];
    const afterCommit: (() => void)[] = [];
    const onFailure: ((err: unknown) => void)[] = [];
    const created = new Map<DayPartitions, number[]>();
    const context: PostgresTx = {
      client,
      beforeCommit: (fn) => beforeCommit.push(fn),
      afterCommit: (fn) => afterCommit.push(fn),
      onFailure: (fn) => onFailure.push(fn),
      ensurePartitions: async (partitions, days) => {
        this.#partitionCaches.add(partitions);
        const made = await partitions.ensure(client, days);
        if (made.length > 0) created.set(partitions, [...(created.get(partitions) ?? []), ...made]);
      },
      stage: async (name, create) => {
        let staged = this.#staged.get(client);
        if (!staged) this.#staged.set(client, (staged = new Set()));
        if (staged.has(name)) return false;
        await client.query(create);
        staged.add(name);
        return true;
      },
    };
    const checkpoints: CheckpointWriter = {
      saveCheckpoint: async (c: Checkpoint) => {
        await client.query(
          `INSERT INTO checkpoints (consumer_group, stream, partition, next_offset) VALUES ($1, $2, $3, $4)
           ON CONFLICT (consumer_group, stream, partition) DO UPDATE SET next_offset = excluded.next_offset`,
          [c.group, c.stream, c.partition, c.offset],
        );
      },
      saveDeadLetter: async (d: DeadLetter) => {
        await client.query(
          `INSERT INTO dead_letters (${DEAD_LETTER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT DO NOTHING`,
          deadLetterValues(d),
        );
      },
    };
    const tx = Object.assign(checkpoints, ...this.#open.map((w) => w.writers(context))) as W &
      CheckpointWriter;
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      for (const step of beforeCommit) await step();
      await client.query('COMMIT');
      for (const [partitions, days] of created) partitions.remember(days);
      for (const step of afterCommit) step();
      return result;
    } catch (err) {
      broken = isUnavailable(err);
      // The rollback may have undone a staging table's creation: the next use makes it again.
      this.#staged.delete(client);
      if (isNoPartition(err)) for (const partitions of this.#partitionCaches) partitions.forget();
      for (const step of onFailure) step(err);
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw storeError(err);
    } finally {
      // A connection that failed mid-transaction is closed rather than returned to the pool.
      checkedOut.release(broken);
    }
  }

  /**
   * A session-level advisory lock on a connection of its own (shared by every sink process, exclusive
   * for a replay), held until released or until the connection ends with its process.
   */
  async lockProjections(mode: 'shared' | 'exclusive'): Promise<() => Promise<void>> {
    const client = new pg.Client({ connectionString: this.#options.url, connectionTimeoutMillis: 5000 });
    // A lost connection loses the lock; the process's other connections report the outage.
    client.on('error', (err) => this.#options.onIdleError?.(err));
    try {
      await client.connect();
      const fn = mode === 'exclusive' ? 'pg_try_advisory_lock' : 'pg_try_advisory_lock_shared';
      const { rows } = await client.query<{ held: boolean }>(`SELECT ${fn}($1) AS held`, [PROJECTIONS_LOCK]);
      if (!rows[0]!.held) {
        throw new BeaconError(
          'STORE_IN_USE',
          mode === 'exclusive'
            ? 'another process runs the sinks of this database (beacon start or beacon sink): stop them first'
            : 'a replay is rebuilding the projections of this database: wait for it to finish',
        );
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw storeError(err);
    }
    return () => client.end();
  }

  async ping(): Promise<void> {
    await this.#db!.query('SELECT 1');
  }

  /** PostgreSQL reuses freed space itself (autovacuum); nothing to give back here. */
  reclaim(): Promise<number> {
    return Promise.resolve(0);
  }

  async storage(): Promise<StoragePart[]> {
    const db = this.#db!;
    // Each table with its indexes and TOAST, its partitions summed into it (pg_partition_tree has no
    // rows for a table that is not partitioned).
    const { rows } = await db.query<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, coalesce(
         (SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(c.oid) t),
         pg_total_relation_size(c.oid)) AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    );
    const declared = new Map(this.#wings.flatMap((w) => w.storage ?? []).map((u) => [u.table, u]));
    const parts: StoragePart[] = [];
    for (const row of rows) {
      const use = declared.get(row.name);
      const counted = use?.postgresRecords ?? use?.records;
      const records =
        counted === undefined
          ? null
          : Number((await db.query<{ n: string | null }>(counted)).rows[0]?.n ?? 0);
      parts.push({
        stream: use?.stream ?? null,
        tier: use?.tier ?? 'derived',
        label: use?.label ?? row.name,
        bytes: Number(row.bytes),
        records,
      });
    }
    return parts;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#queue;
    await this.#pool?.end();
    this.#pool = undefined;
  }
}
