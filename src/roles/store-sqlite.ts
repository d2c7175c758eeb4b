import { sqliteAnalytics } from '../analytics/store/sqlite-analytics.ts';
import { sqliteMessages } from '../messages/store/sqlite-messages.ts';
import { sqliteMonitor } from '../monitor/store/sqlite-monitor.ts';
import { sqliteNotify } from '../notify/store/sqlite-notify.ts';
import { sqliteOccupancy } from '../occupancy/store/sqlite-occupancy.ts';
import { SqliteStore, type SqliteStoreOptions } from '../store/sqlite/sqlite-store.ts';
import type { SqliteWing } from '../store/sqlite/wing.ts';
import { sqliteTenants } from '../tenants/store/sqlite-tenants.ts';
import type { BeaconStore, Complete, Repositories, Writers } from './store.ts';

/** Every domain's SQLite wing, in the order of `Repositories`. */
const wings = [
  sqliteTenants,
  sqliteMessages,
  sqliteMonitor,
  sqliteAnalytics,
  sqliteOccupancy,
  sqliteNotify,
] as const;

type RepositoriesOf<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends SqliteWing<infer R, object> ? R : never;
};
type WritersOf<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends SqliteWing<object, infer W> ? W : never;
};
// Fails to compile when a domain's wing is missing from the list.
true satisfies Complete<RepositoriesOf<typeof wings>, WritersOf<typeof wings>>;

/** Beacon's store on SQLite (`data/beacon.db`), not yet opened. */
export function sqliteStore(options: SqliteStoreOptions): BeaconStore {
  // The engine adds each wing's repositories as members at open(); its type cannot say so itself.
  return new SqliteStore<Writers>({ ...options, wings }) as SqliteStore<Writers> & Repositories;
}
