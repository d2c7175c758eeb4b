import type { Pool, PoolClient } from 'pg';
import { lockedTransaction } from './locked-transaction.ts';
import type { TimeLayout } from './migrations.ts';

const DAY_MS = 86_400_000;
/** Advisory lock that serializes partition creation and retention across processes. */
export const PARTITION_LOCK = 0x62636e02;

/** Days since the epoch (UTC) of an epoch-millisecond instant. */
export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

const iso = (day: number) => new Date(day * DAY_MS).toISOString();

/**
 * A table partitioned by range on one column, one partition per day: a timestamptz column by UTC day,
 * or (`local`) a bigint column of wall-clock ms in a site's zone by local day.
 */
export interface TimeTable {
  readonly table: string;
  readonly column: string;
  readonly local?: boolean;
}

export const MESSAGES: TimeTable = { table: 'messages', column: 'received_at' };
export const CHECKS: TimeTable = { table: 'monitor_checks', column: 'scheduled_at' };
export const ANALYTICS_EVENTS: TimeTable = { table: 'analytics_events', column: 'ts_local', local: true };
export const ANALYTICS_SEEN: TimeTable = { table: 'analytics_seen', column: 'bucket', local: true };

/** What one maintenance pass did. */
export interface MaintenanceReport {
  /** Partitions created (native layout). */
  readonly created: string[];
  /** Partitions or chunks dropped by retention. */
  readonly dropped: string[];
  /** Idempotency keys deleted with the rows they guarded. */
  readonly keysDeleted: number;
}

/** A maintenance pass: `messages` and `monitor_checks` at the top level, the analytics tables apart. */
export interface StoreMaintenanceReport extends MaintenanceReport {
  readonly analytics: MaintenanceReport;
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

  #bound(day: number): string {
    return this.#table.local ? String(day * DAY_MS) : `'${iso(day)}'`;
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
  readonly analyticsEvents: TablePartitions;
  readonly analyticsSeen: TablePartitions;

  constructor(layout: TimeLayout) {
    this.#layout = layout;
    this.messages = new TablePartitions(layout, MESSAGES);
    this.checks = new TablePartitions(layout, CHECKS);
    this.analyticsEvents = new TablePartitions(layout, ANALYTICS_EVENTS);
    this.analyticsSeen = new TablePartitions(layout, ANALYTICS_SEEN);
  }

  /** After an insert found no partition for its row: see `TablePartitions.forget`. */
  forget(): void {
    this.messages.forget();
    this.checks.forget();
    this.analyticsEvents.forget();
    this.analyticsSeen.forget();
  }

  /**
   * Creates partitions for today and `ahead` days after `now`, and when `retentionDays` > 0 drops
   * message partitions (or chunks) that end at or before `now - retentionDays`.
   */
  async maintain(
    pool: Pool,
    options: { now: number; ahead: number; retentionDays: number },
  ): Promise<StoreMaintenanceReport> {
    return lockedTransaction(pool, PARTITION_LOCK, async (client) => {
      const analytics = await this.#maintainAnalytics(client, options);
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
      return { created, dropped, keysDeleted, analytics };
    });
  }

  /**
   * The analytics tables, partitioned by local day: ready from UTC's yesterday (zones ahead of UTC
   * are already a day on). Retention drops raw events and seen marks whole, after deleting the
   * events' keys and the sessions that started a day before the cutoff; rollups are kept.
   */
  async #maintainAnalytics(
    client: PoolClient,
    options: { now: number; ahead: number; retentionDays: number },
  ): Promise<MaintenanceReport> {
    const created: string[] = [];
    const dropped: string[] = [];
    let keysDeleted = 0;
    const today = dayOf(options.now);
    const cutoffDay = today - options.retentionDays;
    const tables = [this.analyticsEvents, this.analyticsSeen];
    if (this.#layout === 'native') {
      for (const table of tables)
        created.push(...(await table.createDays(client, today - 1, today + options.ahead)));
    }
    if (options.retentionDays > 0) {
      const keys = await client.query(
        `DELETE FROM analytics_event_keys k USING analytics_events e
         WHERE e.ts_local < $1 AND k.tenant = e.tenant AND k.key = e.key`,
        [cutoffDay * DAY_MS],
      );
      keysDeleted = keys.rowCount ?? 0;
      await client.query('DELETE FROM analytics_sessions WHERE started_local < $1', [
        (cutoffDay - 1) * DAY_MS,
      ]);
      if (this.#layout === 'native') {
        for (const table of tables) dropped.push(...(await table.dropBefore(client, cutoffDay)).dropped);
      } else {
        for (const table of ['analytics_events', 'analytics_seen']) {
          const chunks = await client.query<{ chunk: string }>(
            `SELECT drop_chunks('${table}', older_than => ${cutoffDay * DAY_MS}::bigint)::text AS chunk`,
          );
          dropped.push(...chunks.rows.map((r) => r.chunk));
        }
      }
    }
    return { created, dropped, keysDeleted };
  }
}

/** Advisory lock that serializes the creation of `occupancy_deltas` partitions across processes. */
const DELTA_PARTITION_LOCK = 0x62636e03;
const deltaPartitionName = (day: number) => `occupancy_deltas_p${iso(day).slice(0, 10).replaceAll('-', '')}`;

/**
 * Daily partitions of `occupancy_deltas` (range on `ts`, epoch ms), made on demand inside the
 * transaction that first writes a day. Never dropped by retention: every count sums history from its
 * beginning, and a late event or a recount may rewrite any minute, which needs that minute's deltas.
 *
 * A partition is made as a plain table and then attached: `ATTACH PARTITION` locks the parent only
 * against other schema changes (SHARE UPDATE EXCLUSIVE), where `CREATE TABLE … PARTITION OF` would
 * lock out every reader and writer of the parent until the sink's transaction commits (and could
 * deadlock with an API transaction recounting a placement).
 */
export class DeltaPartitions {
  readonly #layout: TimeLayout;
  /** Days known to have a partition (committed). */
  readonly #known = new Set<number>();

  constructor(layout: TimeLayout) {
    this.#layout = layout;
  }

  /** Like `Partitions.ensure`: returns the days created, to be remembered after commit. */
  async ensure(client: PoolClient, days: Iterable<number>): Promise<number[]> {
    if (this.#layout !== 'native') return [];
    const missing = [...new Set(days)].filter((d) => !this.#known.has(d));
    if (missing.length === 0) return [];
    // Under the lock no other process creates or attaches: what the catalog says stays true.
    await client.query('SELECT pg_advisory_xact_lock($1)', [DELTA_PARTITION_LOCK]);
    const { rows } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'occupancy_deltas'::regclass AND c.relname = ANY ($1)`,
      [missing.map(deltaPartitionName)],
    );
    const attached = new Set(rows.map((r) => r.name));
    for (const day of missing) {
      const name = deltaPartitionName(day);
      if (attached.has(name)) continue;
      // A CHECK matching the bounds lets ATTACH skip its validation scan; the indexes are made by it.
      await client.query(
        `CREATE TABLE ${name} (LIKE occupancy_deltas INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
           CONSTRAINT ${name}_bounds CHECK (ts >= ${day * DAY_MS} AND ts < ${(day + 1) * DAY_MS}))`,
      );
      await client.query(
        `ALTER TABLE occupancy_deltas ATTACH PARTITION ${name}
         FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`,
      );
      await client.query(`ALTER TABLE ${name} DROP CONSTRAINT ${name}_bounds`);
    }
    return missing;
  }

  remember(days: readonly number[]): void {
    for (const d of days) this.#known.add(d);
  }

  forget(): void {
    this.#known.clear();
  }
}
