import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresStore } from '../../src/roles/store-postgres.ts';
import { sqliteStore } from '../../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import { freshDatabase, sqlRows, type TestDatabase } from './postgres.ts';

/** A store of its own for one run of a property, and how to dispose of it. */
export type FreshStore = () => Promise<{ store: BeaconStore; dispose: () => Promise<void> }>;

/** A new SQLite store in a directory of its own, deleted with it. */
export const freshSqlite: FreshStore = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-occ-prop-'));
  const store = sqliteStore({ dataDir: dir });
  await store.open();
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** Every occupancy table, emptied between runs of a property on PostgreSQL. */
const OCCUPANCY_TABLES = `occupancy_spaces, occupancy_space_moves, occupancy_doorways, occupancy_sensors,
  occupancy_placements, occupancy_events, occupancy_transfers, occupancy_minutes, occupancy_hours,
  occupancy_days, occupancy_sensor_hours, occupancy_sensor_last, occupancy_corrections, occupancy_audit,
  occupancy_alerts, occupancy_outbox`;

/**
 * One PostgreSQL database for every run of a property in this file, emptied before each run
 * (creating a database per run costs seconds).
 */
export function freshPostgres(): FreshStore {
  let database: TestDatabase | undefined;
  return async () => {
    database ??= await freshDatabase();
    const store = postgresStore({ url: database.url, maintenanceIntervalMs: 0, poolSize: 2 });
    await store.open();
    await sqlRows(database.url, `TRUNCATE ${OCCUPANCY_TABLES}`);
    return { store, dispose: () => store.close() };
  };
}
