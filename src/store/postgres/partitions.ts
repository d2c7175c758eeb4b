import type { PoolClient } from 'pg';
import type { TimeLayout } from './migrations.ts';

const DAY_MS = 86_400_000;
/** Advisory lock that serializes partition creation and retention across processes. */
export const PARTITION_LOCK = 0x62636e02;

/** SQLSTATE check_violation: raised, among others, for a row with no partition to go to. */
const NO_PARTITION = '23514';

/**
 * True when a write failed for want of a partition: another process dropped it by retention. The
 * wing then forgets what it knew, and the retried batch creates the partition again.
 */
export const isNoPartition = (err: unknown): boolean => (err as { code?: unknown }).code === NO_PARTITION;

/** Days since the epoch (UTC) of an epoch-millisecond instant. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/** The start of a UTC day as ISO 8601. */
export const dayStart = (day: number) => new Date(day * DAY_MS).toISOString();

/** Daily partitions a transaction makes on demand: what `PostgresTx.ensurePartitions` drives. */
export interface DayPartitions {
  /** Creates the missing partitions of `days` in the caller's transaction; returns the days created. */
  ensure(client: PoolClient, days: Iterable<number>): Promise<number[]>;
  /** Records days whose partitions are committed. */
  remember(days: readonly number[]): void;
  /** Forgets what is known, after a write found a partition missing. */
  forget(): void;
}

/**
 * A table partitioned by range on one column, one partition per day: a timestamptz column by UTC day,
 * or (`local`) a bigint column of wall-clock ms in a site's zone by local day.
 */
export interface TimeTable {
  readonly table: string;
  readonly column: string;
  readonly local?: boolean;
}

/**
 * The daily partitions of one time-partitioned table (native layout): created ahead of time and on
 * demand for late or replayed rows, dropped whole by retention. With TimescaleDB the table is a
 * hypertable that makes its own chunks, and only retention has work to do.
 */
export class TablePartitions implements DayPartitions {
  readonly #layout: TimeLayout;
  readonly #table: TimeTable;
  readonly #pattern: RegExp;
  /** Days known to have a partition; filled from the catalog and by creation, cleared by drops. */
  readonly #known = new Set<number>();

  constructor(layout: TimeLayout, table: TimeTable) {
    this.#layout = layout;
    this.#table = table;
    this.#pattern = new RegExp(`^${table.table}_p(\\d{4})(\\d{2})(\\d{2})$`);
  }

  get layout(): TimeLayout {
    return this.#layout;
  }

  /** The partition of `day`: `<table>_pYYYYMMDD`. */
  name(day: number): string {
    return `${this.#table.table}_p${dayStart(day).slice(0, 10).replaceAll('-', '')}`;
  }

  #bound(day: number): string {
    return this.#table.local ? String(day * DAY_MS) : `'${dayStart(day)}'`;
  }

  #create(day: number): string {
    return `CREATE TABLE IF NOT EXISTS ${this.name(day)} PARTITION OF ${this.#table.table}
      FOR VALUES FROM (${this.#bound(day)}) TO (${this.#bound(day + 1)})`;
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
    for (const day of missing) await client.query(this.#create(day));
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
   * Creates the partitions of days `from` to `to` (inclusive) that are missing; returns their names.
   * A hypertable makes its own chunks: nothing to do.
   */
  async createDays(client: PoolClient, from: number, to: number): Promise<string[]> {
    if (this.#layout !== 'native') return [];
    const created: string[] = [];
    const existing = await this.existingDays(client);
    for (let day = from; day <= to; day++) {
      if (existing.has(day)) continue;
      await client.query(this.#create(day));
      existing.add(day);
      created.push(this.name(day));
    }
    this.#known.clear();
    for (const d of existing) this.#known.add(d);
    return created;
  }

  /**
   * Drops the partitions that end at or before the start of `cutoffDay`, in the caller's transaction
   * (which must hold PARTITION_LOCK). `count` also counts their rows first. Returns what was dropped.
   */
  async dropBefore(
    client: PoolClient,
    cutoffDay: number,
    count = false,
  ): Promise<{ dropped: string[]; rows: number }> {
    const dropped: string[] = [];
    let rows = 0;
    for (const day of [...(await this.existingDays(client))].sort((a, b) => a - b)) {
      if (day + 1 > cutoffDay) continue;
      if (count) {
        const { rows: n } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.name(day)}`);
        rows += Number(n[0]!.n);
      }
      await client.query(`DROP TABLE ${this.name(day)}`);
      // Forgotten at once: if the transaction rolls back, `ensure` only re-runs CREATE IF NOT EXISTS.
      this.#known.delete(day);
      dropped.push(this.name(day));
    }
    return { dropped, rows };
  }

  /** Days that have a partition, read from the catalog. */
  async existingDays(client: PoolClient): Promise<Set<number>> {
    const { rows } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = $1::regclass`,
      [this.#table.table],
    );
    const days = new Set<number>();
    for (const { name } of rows) {
      const m = this.#pattern.exec(name);
      if (m) days.add(dayOf(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
    }
    return days;
  }

  /**
   * Retention: drops what ends at or before the start of `cutoffDay`, in the caller's transaction
   * (which must hold PARTITION_LOCK): whole partitions, or with TimescaleDB whole chunks. Returns the
   * names dropped.
   */
  async retain(client: PoolClient, cutoffDay: number): Promise<string[]> {
    if (this.#layout === 'native') return (await this.dropBefore(client, cutoffDay)).dropped;
    const bound = this.#table.local
      ? `${cutoffDay * DAY_MS}::bigint`
      : `'${dayStart(cutoffDay)}'::timestamptz`;
    const chunks = await client.query<{ chunk: string }>(
      `SELECT drop_chunks('${this.#table.table}', older_than => ${bound})::text AS chunk`,
    );
    return chunks.rows.map((r) => r.chunk);
  }
}

/**
 * The CREATE statement of a table partitioned by time on `column`: native daily range partitions
 * (made by `TablePartitions`), or a TimescaleDB hypertable with day-long chunks. `chunk` is the
 * hypertable's chunk interval as SQL (`interval '1 day'`, or `86400000` for epoch-ms columns).
 */
export function timeTable(
  layout: TimeLayout,
  table: string,
  columns: string,
  column: string,
  chunk: string,
): string {
  return layout === 'native'
    ? `
      CREATE TABLE ${table} (${columns}
      ) PARTITION BY RANGE (${column});`
    : `
      CREATE TABLE ${table} (${columns}
      );
      SELECT create_hypertable('${table}', '${column}', chunk_time_interval => ${chunk});`;
}
