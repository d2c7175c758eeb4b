import type { Hierarchy } from './hierarchy.ts';
import type { Doorway, Placement } from './model.ts';

/** The spaces a crossing enters and leaves, each absent when none. */
export interface Spaces {
  readonly enters?: readonly string[];
  readonly leaves?: readonly string[];
}

/**
 * What counting reads of one tenant's model: placements by sensor, doorways, the tree, and the spaces
 * each placement's crossings enter and leave. A sink keeps one across batches for as long as the
 * tenant's model version (`OccupancyReader.modelVersion`) stays the same: every change to spaces,
 * moves, doorways, sensors or placements raises it in the transaction that makes the change, so a
 * batch never counts against a model older than the one its transaction reads. Filled only with what
 * was read whole, so a failed read leaves nothing half-known behind.
 */
export class CountingModel {
  /** The model version it was read at; undefined for one that lives for one count only. */
  readonly version: number | undefined;
  hierarchy: Hierarchy | undefined;
  readonly doorways = new Map<string, Doorway | undefined>();
  readonly placements = new Map<string, Placement[]>();
  /** By placement (as loaded), tree epoch and direction: the spaces a crossing enters and leaves. */
  readonly spaces = new WeakMap<Placement, (Spaces | undefined)[]>();

  constructor(version?: number) {
    this.version = version;
  }
}
