import type { PoolClient } from 'pg';
import type { TimeLayout } from '../../store/postgres/migrations.ts';
import { dayStart, type DayPartitions } from '../../store/postgres/partitions.ts';

const DAY_MS = 86_400_000;

/** Advisory lock that serializes the creation of `occupancy_deltas` partitions across processes. */
const DELTA_PARTITION_LOCK = 0x62636e03;
const deltaPartitionName = (day: number) =>
  `occupancy_deltas_p${dayStart(day).slice(0, 10).replaceAll('-', '')}`;

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
export class DeltaPartitions implements DayPartitions {
  readonly #layout: TimeLayout;
  /** Days known to have a partition (committed). */
  readonly #known = new Set<number>();

  constructor(layout: TimeLayout) {
    this.#layout = layout;
  }

  /** Like `TablePartitions.ensure`: returns the days created, to be remembered after commit. */
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
