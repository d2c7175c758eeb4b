import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { migrate, openDatabase } from '../../src/sqlite/database.ts';
import { sqliteMigrations86f62b7 } from '../fixtures/86f62b7/sqlite-migrations.ts';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import {
  assertHoursBackfilled,
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

test('migration 6 builds hour rows and running sums of days from the minute rows', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-store-v5-'));
  const v5 = openDatabase(join(dataDir, 'beacon.db'), { synchronous: 'normal' });
  migrate(
    v5,
    sqliteMigrations86f62b7.filter((m) => m.version <= 5),
  );
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
  v5.close();
  const store = sqliteStore({ dataDir });
  try {
    assert.equal((await store.open())[0], '006_occupancy_hours');
    await assertHoursBackfilled(store);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
