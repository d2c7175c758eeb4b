import type { Store } from '../../store/store.ts';
import type { AnalyticsReader, AnalyticsWriter } from '../analytics.ts';

/** The analytics wing's members of an opened store. */
export interface AnalyticsRepositories {
  readonly analytics: AnalyticsReader;
}

/** The analytics wing's members of a store transaction. */
export interface AnalyticsWriters {
  readonly analytics: AnalyticsWriter;
}

/** The store as the analytics domain sees it: the engine and this wing's repositories. */
export type AnalyticsStore = Store<AnalyticsWriters> & AnalyticsRepositories;
