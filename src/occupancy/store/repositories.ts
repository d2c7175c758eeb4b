import type { Store } from '../../store/store.ts';
import type { OccupancyReader, OccupancyWriter } from '../model.ts';

/** The occupancy wing's members of an opened store. */
export interface OccupancyRepositories {
  readonly occupancy: OccupancyReader;
}

/** The occupancy wing's members of a store transaction. */
export interface OccupancyWriters {
  readonly occupancy: OccupancyWriter;
}

/** The store as the occupancy domain sees it: the engine and this wing's repositories. */
export type OccupancyStore = Store<OccupancyWriters> & OccupancyRepositories;
