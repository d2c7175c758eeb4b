import type { AnalyticsRepositories, AnalyticsWriters } from '../analytics/store/repositories.ts';
import type { MessageRepositories, MessageWriters } from '../messages/store/repositories.ts';
import type { MonitorRepositories, MonitorWriters } from '../monitor/store/repositories.ts';
import type { NotifyRepositories, NotifyWriters } from '../notify/store/repositories.ts';
import type { OccupancyRepositories, OccupancyWriters } from '../occupancy/store/repositories.ts';
import type { Store } from '../store/store.ts';
import type { TenantRepositories } from '../tenants/store/repositories.ts';

/**
 * Beacon's store: the engine with every domain's wing, in this order (which is also the order of
 * their parts of a shared schema version). `store-sqlite.ts` and `store-postgres.ts` list the wings
 * of each backend; a new domain adds its wing to both and its types here.
 */
export type Repositories = TenantRepositories &
  MessageRepositories &
  MonitorRepositories &
  AnalyticsRepositories &
  OccupancyRepositories &
  NotifyRepositories;

/** Every wing's writers: the members of a store transaction besides `saveCheckpoint`. */
export type Writers = MessageWriters & MonitorWriters & AnalyticsWriters & OccupancyWriters & NotifyWriters;

/** The store every role opens. */
export type BeaconStore = Store<Writers> & Repositories;

/** One type made of every type in a tuple. */
type All<T extends readonly unknown[]> = T extends readonly [infer First, ...infer Rest]
  ? First & All<Rest>
  : unknown;

/**
 * True when a backend's wings, whose repositories and writers are the tuples `R` and `W`, make up
 * all of Beacon's: `store-sqlite.ts` and `store-postgres.ts` check their lists with it.
 */
export type Complete<R extends readonly unknown[], W extends readonly unknown[]> = [All<R>] extends [
  Repositories,
]
  ? [All<W>] extends [Writers]
    ? true
    : false
  : false;
