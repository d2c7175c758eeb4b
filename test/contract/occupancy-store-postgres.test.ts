import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../../src/store/postgres/migrations.ts';
import { postgresMigrations86f62b7 } from '../fixtures/86f62b7/postgres-migrations.ts';
import { postgresStore } from '../../src/roles/store-postgres.ts';
import { freshDatabase, freshPostgresStore } from '../helpers/postgres.ts';
import {
  assertEventsCompacted,
  assertHoursBackfilled,
  EVENTS_BEFORE_13,
  MINUTES_BEFORE_HOURS,
  runOccupancyStoreContract,
} from './occupancy.contract.ts';

runOccupancyStoreContract({
  name: 'postgres',
  create: freshPostgresStore,
});

/** A database at schema version `version` of 86f62b7, filled by `fill`. */
async function oldDatabase(version: number, fill: (pool: pg.Pool) => Promise<void>): Promise<string> {
  const db = await freshDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    await migrate(
      pool,
      postgresMigrations86f62b7.filter((m) => m.version <= version),
    );
    await fill(pool);
  } finally {
    await pool.end();
  }
  return db.url;
}

test('migration 6 builds hour rows and running sums of days from the minute rows', async () => {
  const url = await oldDatabase(5, async (pool) => {
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
  });
  const store = postgresStore({ url, maintenanceIntervalMs: 0 });
  try {
    assert.equal((await store.open())[0], '006_occupancy_hours');
    await assertHoursBackfilled(store);
  } finally {
    await store.close();
  }
});

test('migration 13 keeps each event’s spaces in the event and builds sensor hours, last events and areas', async () => {
  const url = await oldDatabase(6, async (pool) => {
    const day = Math.floor(Number(EVENTS_BEFORE_13.deltas[0][2]) / 86_400_000) * 86_400_000;
    const name = `occupancy_deltas_p${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
    await pool.query(
      `CREATE TABLE ${name} PARTITION OF occupancy_deltas FOR VALUES FROM (${day}) TO (${day + 86_400_000})`,
    );
    for (const row of EVENTS_BEFORE_13.events) {
      await pool.query('INSERT INTO occupancy_events VALUES ($1, $2, $3, $4, $5, $6, $7::int::boolean, $8)', [
        ...row,
      ]);
    }
    for (const row of EVENTS_BEFORE_13.deltas) {
      await pool.query('INSERT INTO occupancy_deltas VALUES ($1, $2, $3, $4, $5, $6::int::boolean)', [
        ...row,
      ]);
    }
    for (const [space, minute, ...rest] of EVENTS_BEFORE_13.minutes) {
      await pool.query(
        `INSERT INTO occupancy_minutes (tenant, space, minute, net, min_prefix, max_prefix, entries, exits, late, last_ts, last_key)
         VALUES ('t1', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [space, minute, ...rest],
      );
    }
  });
  const store = postgresStore({ url, maintenanceIntervalMs: 0 });
  try {
    assert.ok((await store.open()).includes('013_occupancy_compact_events'));
    await assertEventsCompacted(store);
  } finally {
    await store.close();
  }
});
