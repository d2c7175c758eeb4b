import type { Pool, PoolClient } from 'pg';
import { lockedTransaction } from './locked-transaction.ts';
import type { TimeLayout } from './migrations.ts';

const DAY_MS = 86_400_000;
/** Advisory lock that serializes partition creation and retention across processes. */
export const PARTITION_LOCK = 0x62636e02;

/** Days since the epoch (UTC) of an epoch-millisecond instant. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

const iso = (day: number) => new Date(day * DAY_MS).toISOString();

/** A table partitioned by range on one timestamptz column, one partition per UTC day. */
export interface TimeTable {
  readonly table: string;
  readonly column: string;
}

export const MESSAGES: TimeTable = { table: 'messages', column: 'received_at' };
export const CHECKS: TimeTable = { table: 'monitor_checks', column: 'scheduled_at' };

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
 * The daily partitions of one time-partitioned table (native layout): created ahead of time and on
 * demand for late or replayed rows, dropped whole by retention. With TimescaleDB the table is a
 * hypertable that makes its own chunks, and only retention has work to do.
 */
export class TablePartitions {
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
    return `${this.#table.table}_p${iso(day).slice(0, 10).replaceAll('-', '')}`;
  }

  #create(day: number): string {
    return `CREATE TABLE IF NOT EXISTS ${this.name(day)} PARTITION OF ${this.#table.table}
      FOR VALUES FROM ('${iso(day)}') TO ('${iso(day + 1)}')`;
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

  /** Creates the partitions of days `from` to `to` (inclusive) that are missing; returns their names. */
  async createDays(client: PoolClient, from: number, to: number): Promise<string[]> {
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
}

/**
 * Keeps the store's time-partitioned tables ready and within retention: `messages` and
 * `monitor_checks` get partitions for today and the days ahead; `messages` loses partitions (or
 * TimescaleDB chunks) past the store's retention, and the unpartitioned key table loses the keys of
 * the dropped rows. Raw checks follow the monitor's own retention (`deleteChecksBefore`).
 */
export class Partitions {
  readonly #layout: TimeLayout;
  readonly messages: TablePartitions;
  readonly checks: TablePartitions;

  constructor(layout: TimeLayout) {
    this.#layout = layout;
    this.messages = new TablePartitions(layout, MESSAGES);
    this.checks = new TablePartitions(layout, CHECKS);
  }

  /** After an insert found no partition for its row: see `TablePartitions.forget`. */
  forget(): void {
    this.messages.forget();
    this.checks.forget();
  }

  /**
   * Creates partitions for today and `ahead` days after `now`, and when `retentionDays` > 0 drops
   * message partitions (or chunks) that end at or before `now - retentionDays`.
   */
  async maintain(
    pool: Pool,
    options: { now: number; ahead: number; retentionDays: number },
  ): Promise<MaintenanceReport> {
    return lockedTransaction(pool, PARTITION_LOCK, async (client) => {
      const created: string[] = [];
      const dropped: string[] = [];
      const today = dayOf(options.now);
      const cutoffDay = today - options.retentionDays;
      if (this.#layout === 'native') {
        for (const table of [this.messages, this.checks]) {
          created.push(...(await table.createDays(client, today, today + options.ahead)));
        }
        if (options.retentionDays > 0) {
          dropped.push(...(await this.messages.dropBefore(client, cutoffDay)).dropped);
        }
      } else if (options.retentionDays > 0) {
        const chunks = await client.query<{ chunk: string }>(
          "SELECT drop_chunks('messages', older_than => $1::timestamptz)::text AS chunk",
          [iso(cutoffDay)],
        );
        dropped.push(...chunks.rows.map((r) => r.chunk));
      }
      let keysDeleted = 0;
      if (options.retentionDays > 0) {
        const keys = await client.query('DELETE FROM message_keys WHERE received_at < $1', [iso(cutoffDay)]);
        keysDeleted = keys.rowCount ?? 0;
      }
      return { created, dropped, keysDeleted };
    });
  }
}
