/**
 * A space's watchers: the sensors placed on a doorway with a side at or under it, in any tree it has
 * had (its children now, and every space a move ever put under it or under one of them). Only their
 * events can enter or leave the space, so a count reads its deltas by seeking to their events in a
 * minute instead of looking at every event the tenant's sensors made in it (for a room of a building,
 * a hundredth of them). A superset is enough: every event read is still tested for the space.
 *
 * Both stores keep the watchers their plain reader (never a transaction's) has looked up, by tenant
 * and space, with the tenant's model version they were read at (`OccupancyReader.modelVersion`,
 * raised by every change to spaces, moves, doorways, sensors and placements). The statement that
 * uses them checks that version itself and reads the minute whole when it has moved on, so a count
 * is exact whatever the cache holds; the cache is only dropped and read again.
 */

/**
 * Above this many watchers a space's minute is read whole: that costs less than a seek for each. At
 * 700 events a minute from 1,000 sensors (bench/occupancy.ts), a room's 10 watchers read its deltas
 * in 0.09 ms against 0.12 ms for the whole minute on SQLite (0.31–0.41 against 0.44–0.62 ms on
 * PostgreSQL, query and round trip), but a floor's 100 took longer than the whole minute on both.
 */
export const MAX_WATCHERS = 32;
/** Tenants whose watchers are kept, the least recently used dropped first. */
export const WATCHER_TENANTS = 256;

/** What a read of a space's watchers found: the version it was read at, and the sensors (undefined: too many). */
export interface Watchers {
  readonly version: number;
  readonly sensors: readonly string[] | undefined;
}

/** The watchers looked up so far, by tenant (at most `WATCHER_TENANTS` of them) and space. */
export class WatcherCache {
  readonly #tenants = new Map<string, { version: number; spaces: Map<string, Watchers> }>();
  readonly #max: number;

  constructor(maxTenants = WATCHER_TENANTS) {
    this.#max = maxTenants;
  }

  /** The watchers of `space` as last read, if any were read at the tenant's current known version. */
  get(tenant: string, space: string): Watchers | undefined {
    const entry = this.#tenants.get(tenant);
    if (!entry) return undefined;
    // Most recently used last.
    this.#tenants.delete(tenant);
    this.#tenants.set(tenant, entry);
    return entry.spaces.get(space);
  }

  /** Keeps what a read found; a read at another version than the tenant's others drops theirs. */
  set(tenant: string, space: string, read: Watchers): void {
    let entry = this.#tenants.get(tenant);
    if (!entry || entry.version !== read.version) {
      this.#tenants.delete(tenant);
      entry = { version: read.version, spaces: new Map() };
    } else this.#tenants.delete(tenant);
    this.#tenants.set(tenant, entry);
    entry.spaces.set(space, read);
    while (this.#tenants.size > this.#max) this.#tenants.delete(this.#tenants.keys().next().value!);
  }

  /** Notes the tenant's model version as a read saw it: watchers of an older one are dropped. */
  seen(tenant: string, version: number): void {
    const entry = this.#tenants.get(tenant);
    if (entry && entry.version !== version) this.#tenants.delete(tenant);
  }

  /** How many tenants are kept (for tests). */
  get size(): number {
    return this.#tenants.size;
  }
}

/** Sensors as a read keeps them: undefined when more than `MAX_WATCHERS`. */
export const watchersOf = (version: number, sensors: readonly string[]): Watchers => ({
  version,
  sensors: sensors.length > MAX_WATCHERS ? undefined : sensors,
});
