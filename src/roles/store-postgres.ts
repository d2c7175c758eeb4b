import { postgresAnalytics } from '../analytics/store/postgres-analytics.ts';
import { postgresMessages } from '../messages/store/postgres-messages.ts';
import { postgresMonitor } from '../monitor/store/postgres-monitor.ts';
import { postgresNotify } from '../notify/store/postgres-notify.ts';
import { postgresOccupancy } from '../occupancy/store/postgres-occupancy.ts';
import { PostgresStore, type PostgresStoreOptions } from '../store/postgres/postgres-store.ts';
import type { PostgresWing } from '../store/postgres/wing.ts';
import { postgresTenants } from '../tenants/store/postgres-tenants.ts';
import type { Complete, Repositories, Writers } from './store.ts';

/** Every domain's PostgreSQL wing, in the order of `Repositories`. */
const wings = [
  postgresTenants,
  postgresMessages,
  postgresMonitor,
  postgresAnalytics,
  postgresOccupancy,
  postgresNotify,
] as const;

type RepositoriesOf<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends PostgresWing<infer R, object> ? R : never;
};
type WritersOf<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends PostgresWing<object, infer W> ? W : never;
};
// Fails to compile when a domain's wing is missing from the list.
true satisfies Complete<RepositoriesOf<typeof wings>, WritersOf<typeof wings>>;

/** Beacon's store on PostgreSQL, with its maintenance and layout; not yet opened. */
export type BeaconPostgresStore = PostgresStore<Writers> & Repositories;

/** Beacon's store on PostgreSQL, not yet opened. */
export function postgresStore(options: PostgresStoreOptions): BeaconPostgresStore {
  // The engine adds each wing's repositories as members at open(); its type cannot say so itself.
  return new PostgresStore<Writers>({ ...options, wings }) as BeaconPostgresStore;
}
