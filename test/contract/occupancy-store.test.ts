import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { migrate, openDatabase, type SqliteDatabase } from '../../src/sqlite/database.ts';
import { sqliteMigrations86f62b7 } from '../fixtures/86f62b7/sqlite-migrations.ts';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import {
  assertEventsCompacted,
  assertHoursBackfilled,
  EVENTS_BEFORE_13,
  MINUTES_BEFORE_HOURS,
  runOccupancyStoreContract,
} from './occupancy.contract.ts';

runOccupancyStoreContract({
  name: 'sqlite',
  async create() {
    const store = sqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-store-')) });
    await store.open();
    return store;
  },
});

/** A database at schema version `version` of 86f62b7, filled by `fill`, in a directory of its own. */
function oldStore(version: number, fill: (db: SqliteDatabase) => void): string {
  const dataDir = mkdtempSync(join(tmpdir(), `beacon-store-v${version}-`));
  const db = openDatabase(join(dataDir, 'beacon.db'), { synchronous: 'normal' });
  migrate(
    db,
    sqliteMigrations86f62b7.filter((m) => m.version <= version),
  );
  fill(db);
  db.close();
  return dataDir;
}

test('migration 6 builds hour rows and running sums of days from the minute rows', async () => {
  const dataDir = oldStore(5, (v5) => {
    const minute = v5.prepare(
      `INSERT INTO occupancy_minutes (tenant, space, minute, net, min_prefix, max_prefix, entries, exits, late, last_ts, last_key)
       VALUES ('t1', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'k')`,
    );
    const day = v5.prepare(
      `INSERT INTO occupancy_days (tenant, space, day, net, entries, exits, late) VALUES ('t1', ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, space, day) DO UPDATE SET net = net + excluded.net, entries = entries + excluded.entries,
         exits = exits + excluded.exits, late = late + excluded.late`,
    );
    for (const { space, minute: at, segment: s } of MINUTES_BEFORE_HOURS) {
      minute.run(space, at, s.net, s.min, s.max, s.entries, s.exits, s.late, at);
      day.run(space, Math.floor(at / 86_400_000) * 86_400_000, s.net, s.entries, s.exits, s.late);
    }
  });
  const store = sqliteStore({ dataDir });
  try {
    assert.equal((await store.open())[0], '006_occupancy_hours');
    await assertHoursBackfilled(store);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('migration 13 keeps each event’s spaces in the event and builds sensor hours, last events and areas', async () => {
  const dataDir = oldStore(6, (v6) => {
    const insert = (table: string, rows: readonly (readonly unknown[])[]) => {
      for (const row of rows) {
        v6.prepare(`INSERT INTO ${table} VALUES (${row.map(() => '?').join(', ')})`).run(...row);
      }
    };
    insert('occupancy_events', EVENTS_BEFORE_13.events);
    insert('occupancy_deltas', EVENTS_BEFORE_13.deltas);
    for (const [space, minute, ...rest] of EVENTS_BEFORE_13.minutes) {
      v6.prepare(
        `INSERT INTO occupancy_minutes (tenant, space, minute, net, min_prefix, max_prefix, entries, exits, late, last_ts, last_key)
         VALUES ('t1', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(space, minute, ...rest);
    }
  });
  const store = sqliteStore({ dataDir });
  try {
    assert.ok((await store.open()).includes('013_occupancy_compact_events'));
    await assertEventsCompacted(store);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
