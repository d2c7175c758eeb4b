/**
 * The occupancy domain (seed 004): spaces in a hierarchy, doorways between them, sensors watching
 * doorways through effective-dated placements, and the counts derived from sensor events.
 */

/** A place people are counted in. `parent` makes the hierarchy (building › floor › room). */
export interface Space {
  readonly id: string;
  readonly name: string;
  readonly parent: string | null;
  readonly createdAt: number;
}

/** A passage between space `a` and space `b`; `b` null means the outside. */
export interface Doorway {
  readonly id: string;
  readonly name: string;
  readonly a: string;
  readonly b: string | null;
  readonly createdAt: number;
}

/** A people-counting device (seed 004's DPU). Its id is what it sends with every event. */
export interface Sensor {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export type Side = 'a' | 'b';

/**
 * Which doorway a sensor watched, and when. A +1 crossing enters the `positive` side's space (and
 * leaves the other); a -1 crossing goes the other way. Effective over [from, to); `to` null is open.
 */
export interface Placement {
  readonly id: string;
  readonly sensor: string;
  readonly doorway: string;
  readonly positive: Side;
  readonly from: number;
  readonly to: number | null;
  readonly createdAt: number;
}

/** One crossing as the projection keeps it: the raw event plus the placement it counted against. */
export interface SensorEvent {
  /** The record's idempotency key. */
  readonly key: string;
  readonly sensor: string;
  readonly ts: number;
  readonly direction: 1 | -1;
  readonly receivedAt: number;
  /** Arrived more than `occupancy.lateAfterMs` after its timestamp. */
  readonly late: boolean;
  /** The placement in force at `ts`; null while none covers it (kept, reported, not counted). */
  readonly placement: string | null;
}

/** The change one event makes to one space's count (roll-up included). */
export interface Delta {
  readonly space: string;
  readonly ts: number;
  readonly key: string;
  readonly delta: 1 | -1;
  readonly late: boolean;
}

/**
 * A summary of consecutive deltas of one space: net change, the lowest and highest running sum
 * (both counting the empty prefix, so min ≤ 0 ≤ max), entries, exits and late events.
 */
export interface Segment {
  readonly net: number;
  readonly min: number;
  readonly max: number;
  readonly entries: number;
  readonly exits: number;
  readonly late: number;
}
