import type { Pool, PoolClient } from 'pg';
import { lockedTransaction } from './locked-transaction.ts';
import type { TimeLayout } from './migrations.ts';

const DAY_MS = 86_400_000;
/** Advisory lock that serializes partition creation and retention across processes. */
const PARTITION_LOCK = 0x62636e02;

/** Days since the epoch (UTC) of an epoch-millisecond instant. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

const iso = (day: number) => new Date(day * DAY_MS).toISOString();

/** One table partitioned by day: how its bounds are written and what goes with its dropped rows. */
export interface PartitionedTable {
  readonly table: string;
  /** SQL literal of the first instant of `day`, in the partition column's type. */
  bound(day: number): string;
  /**
   * Partitions also made ready for days before today: a column of local wall-clock times holds the
   * day before UTC's today in zones behind UTC.
   */
  readonly behind: number;
  /**
   * Runs in the maintenance transaction before rows older than `cutoffDay` are dropped: deletes what
   * other tables keep for those rows. Returns how many such rows it deleted.
   */
  beforeRetention?(client: PoolClient, cutoffDay: number): Promise<number>;
}

/** `messages`, by the UTC day it was received; its client keys go with its rows. */
export const messagesPartitions: PartitionedTable = {
  table: 'messages',
  bound: (day) => `'${iso(day)}'`,
  behind: 0,
  async beforeRetention(client, cutoffDay) {
    const keys = await client.query('DELETE FROM message_keys WHERE received_at < $1', [iso(cutoffDay)]);
    return keys.rowCount ?? 0;
  },
};

const partitionName = (table: string, day: number) =>
  `${table}_p${iso(day).slice(0, 10).replaceAll('-', '')}`;
const createPartition = (t: PartitionedTable, day: number) =>
  `CREATE TABLE IF NOT EXISTS ${partitionName(t.table, day)} PARTITION OF ${t.table}
   FOR VALUES FROM (${t.bound(day)}) TO (${t.bound(day + 1)})`;

/** What one maintenance pass did. */
export interface MaintenanceReport {
  /** Partitions created (native layout). */
  readonly created: string[];
  /** Partitions or chunks dropped by retention. */
  readonly dropped: string[];
  /** Idempotency keys deleted with the rows they guarded. */
  readonly keysDeleted: number;
}

/**
 * Keeps one time-partitioned table (`messages` unless told otherwise) ready and within retention. With the native layout it
 * creates one partition per UTC day, ahead of time and on demand for late or replayed rows, and drops
 * whole partitions that fall out of retention. With TimescaleDB, hypertables make their own chunks and
 * retention drops chunks. Either way the unpartitioned key table loses the keys of dropped rows.
 */
export class Partitions {
  readonly #layout: TimeLayout;
  readonly #t: PartitionedTable;
  /** Days known to have a partition; filled from the catalog and by creation, cleared by drops. */
  readonly #known = new Set<number>();

  constructor(layout: TimeLayout, table: PartitionedTable = messagesPartitions) {
    this.#layout = layout;
    this.#t = table;
  }

  /**
   * Makes sure every day in `days` has a partition, inside the caller's transaction (so the creation
   * commits or rolls back with the rows). Returns the days created, to be remembered after commit.
   */
  async ensure(client: PoolClient, days: Iterable<number>): Promise<number[]> {
    if (this.#layout !== 'native') return [];
    const missing = [...new Set(days)].filter((d) => !this.#known.has(d));
    if (missing.length === 0) return [];
    await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    for (const day of missing) await client.query(createPartition(this.#t, day));
    return missing;
  }

  /**
   * Forgets what is known, after an insert found no partition for its row: another process dropped
   * it by retention. The batch is retried and `ensure` creates the partition again.
   */
  forget(): void {
    this.#known.clear();
  }

  /** Records days whose partitions are committed. */
  remember(days: readonly number[]): void {
    for (const d of days) this.#known.add(d);
  }

  /**
   * Creates partitions for today and `ahead` days after `now`, and when `retentionDays` > 0 drops
   * partitions (or chunks) that end at or before `now - retentionDays`.
   */
  async maintain(
    pool: Pool,
    options: { now: number; ahead: number; retentionDays: number },
  ): Promise<MaintenanceReport> {
    return lockedTransaction(pool, PARTITION_LOCK, async (client) => {
      const created: string[] = [];
      const dropped: string[] = [];
      let keysDeleted = 0;
      const today = dayOf(options.now);
      const cutoffDay = today - options.retentionDays;
      if (this.#layout === 'native') {
        const existing = await this.#existingDays(client);
        for (let day = today - this.#t.behind; day <= today + options.ahead; day++) {
          if (existing.has(day)) continue;
          await client.query(createPartition(this.#t, day));
          existing.add(day);
          created.push(partitionName(this.#t.table, day));
        }
        if (options.retentionDays > 0) {
          keysDeleted = (await this.#t.beforeRetention?.(client, cutoffDay)) ?? 0;
          for (const day of [...existing].sort((a, b) => a - b)) {
            if (day + 1 > cutoffDay) continue;
            await client.query(`DROP TABLE ${partitionName(this.#t.table, day)}`);
            existing.delete(day);
            dropped.push(partitionName(this.#t.table, day));
          }
        }
        this.#known.clear();
        for (const d of existing) this.#known.add(d);
      } else if (options.retentionDays > 0) {
        keysDeleted = (await this.#t.beforeRetention?.(client, cutoffDay)) ?? 0;
        const chunks = await client.query<{ chunk: string }>(
          `SELECT drop_chunks('${this.#t.table}', older_than => ${this.#t.bound(cutoffDay)})::text AS chunk`,
        );
        dropped.push(...chunks.rows.map((r) => r.chunk));
      }
      return { created, dropped, keysDeleted };
    });
  }

  /** Days that have a partition, read from the catalog. */
  async #existingDays(client: PoolClient): Promise<Set<number>> {
    const { rows } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = $1::regclass`,
      [this.#t.table],
    );
    const pattern = new RegExp(`^${this.#t.table}_p(\\d{4})(\\d{2})(\\d{2})$`);
    const days = new Set<number>();
    for (const { name } of rows) {
      const m = pattern.exec(name);
      if (m) days.add(dayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
    }
    return days;
  }
}
