import type { Store } from '../../store/store.ts';
import type { CheckWriter, MonitorReader, TargetWriter } from '../check.ts';

/** The monitor wing's members of an opened store. */
export interface MonitorRepositories {
  readonly monitor: MonitorReader;
  readonly targets: TargetWriter;
}

/** The monitor wing's members of a store transaction. */
export interface MonitorWriters {
  readonly checks: CheckWriter;
}

/** The store as the monitor domain sees it: the engine and this wing's repositories. */
export type MonitorStore = Store<MonitorWriters> & MonitorRepositories;
