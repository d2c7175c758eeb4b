import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OccupancyReader } from '../../src/occupancy/store/repositories.ts';
import pg from 'pg';
import { migrate } from '../../src/store/postgres/migrations.ts';
import { postgresMigrations86f62b7 } from '../fixtures/86f62b7/postgres-migrations.ts';
import { postgresStore } from '../../src/roles/store-postgres.ts';
import { freshDatabase, freshPostgresStore, sqlRows } from '../helpers/postgres.ts';
import {
  assertHoursBackfilled,
  MINUTES_BEFORE_HOURS,
  runOccupancyStoreContract,
} from './occupancy.contract.ts';

runOccupancyStoreContract({
  name: 'postgres',
  create: freshPostgresStore,
});

test('a new day of deltas gets its partition without locking out readers until commit', async () => {
  const db = await freshDatabase();
  const store = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
  await store.open();
  try {
    const day = Date.UTC(2026, 2, 10);
    const delta = { space: 'r', key: 'k', delta: 1 as const, late: false };
    const sumDeltas = async (o: OccupancyReader) =>
      (await o.steps('t1', 'r', [{ level: 'delta', from: 0, to: day * 2, total: true }]))[0]![0];
    await store.transaction(async (tx) => {
      await tx.occupancy.insertDeltas('t1', [{ ...delta, ts: day + 5 }]);
      // Reading through the transaction writes the held-back delta (and makes its partition) first.
      assert.equal(await sumDeltas(tx.occupancy), 1, 'the transaction sees its delta');
      // While the writing transaction is open, a reader on another connection answers at once.
      const read = sumDeltas(store.occupancy);
      const timeout = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('the reader waited for the writer')), 3000).unref(),
      );
      assert.equal(await Promise.race([read, timeout]), 0, 'the uncommitted delta is not seen');
    });
    assert.equal(await sumDeltas(store.occupancy), 1);
    const parts = await sqlRows<{ partition: string; indexes: string }>(
      db.url,
      `SELECT c.relname AS partition, count(x.indexrelid)::text AS indexes
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid LEFT JOIN pg_index x ON x.indrelid = c.oid
       WHERE i.inhparent = 'occupancy_deltas'::regclass GROUP BY 1`,
    );
    assert.deepEqual(parts, [{ partition: 'occupancy_deltas_p20260310', indexes: '2' }]);
    // A second store (another process) finds the partition there and inserts into it.
    const other = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
    await other.open();
    try {
      await other.transaction((tx) =>
        tx.occupancy.insertDeltas('t1', [{ ...delta, key: 'k2', ts: day + 6 }]),
      );
    } finally {
      await other.close();
    }
    assert.equal(await sumDeltas(store.occupancy), 2);
  } finally {
    await store.close();
  }
});

test('migration 6 builds hour rows and running sums of days from the minute rows', async () => {
  const db = await freshDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    await migrate(
      pool,
      postgresMigrations86f62b7.filter((m) => m.version <= 5),
    );
    for (const { space, minute, segment: s } of MINUTES_BEFORE_HOURS) {
      await pool.query(
        `INSERT INTO occupancy_minutes (tenant, space, minute, net, min_prefix, max_prefix, entries, exits, late, last_ts, last_key)
         VALUES ('t1', $1, $2, $3, $4, $5, $6, $7, $8, $2, 'k')`,
        [space, minute, s.net, s.min, s.max, s.entries, s.exits, s.late],
      );
      await pool.query(
        `INSERT INTO occupancy_days AS d (tenant, space, day, net, entries, exits, late) VALUES ('t1', $1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant, space, day) DO UPDATE SET net = d.net + excluded.net,
           entries = d.entries + excluded.entries, exits = d.exits + excluded.exits, late = d.late + excluded.late`,
        [space, Math.floor(minute / 86_400_000) * 86_400_000, s.net, s.entries, s.exits, s.late],
      );
    }
  } finally {
    await pool.end();
  }
  const store = postgresStore({ url: db.url, maintenanceIntervalMs: 0 });
  try {
    assert.equal((await store.open())[0], '006_occupancy_hours');
    await assertHoursBackfilled(store);
  } finally {
    await store.close();
  }
});
