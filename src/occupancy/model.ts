/**
 * The occupancy domain (seed 004): spaces in a hierarchy, doorways between them, sensors watching
 * doorways through effective-dated placements, and the counts derived from sensor events.
 */

/** A weekday as open hours name it. */
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** One weekly opening: on these days, from `from` to `to` (local `HH:MM`; `to` ≤ `from` runs past midnight). */
export interface OpenHours {
  readonly days: readonly Weekday[];
  readonly from: string;
  readonly to: string;
}

/**
 * A place people are counted in. `parent` makes the hierarchy (building › floor › room): it is the
 * parent the space was created with; moves (`SpaceMove`) change it from a date on.
 */
export interface Space {
  readonly id: string;
  readonly name: string;
  readonly parent: string | null;
  readonly createdAt: number;
  /** How many people it holds; null or absent when not set. */
  readonly capacity?: number | null;
  /** Minutes over capacity before an alert; null or absent takes `occupancy.capacityAlertMinutes`. */
  readonly alertAfterMinutes?: number | null;
  /** When it is open (silent sensors count only open time); null or absent inherits the parent's. */
  readonly openHours?: readonly OpenHours[] | null;
}

/** A re-parenting: from `at` on, `space` sits inside `parent` (null: at the top). */
export interface SpaceMove {
  readonly space: string;
  readonly at: number;
  readonly parent: string | null;
  readonly createdAt: number;
}

/**
 * An operator's headcount: the corrected count of `space` at instant `at` was `count`. Corrected
 * counts after it start from it; crossings at or before `at` no longer change them.
 */
export interface Correction {
  readonly id: string;
  readonly space: string;
  readonly at: number;
  readonly count: number;
  readonly note: string;
  readonly createdAt: number;
  /** The token that recorded it. */
  readonly createdBy: string;
}

/** One entry of the occupancy audit trail: who changed what, and when. */
export interface AuditEntry {
  readonly id: string;
  readonly at: number;
  /** The token that made the change. */
  readonly actor: string;
  readonly action: string;
  readonly space: string;
  /** What changed, as the action defines it (the correction, the move…). */
  readonly detail: Readonly<Record<string, unknown>>;
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
  /** The spaces it entered (+1 each) under its placement, roll-up included; absent when none. */
  readonly enters?: readonly string[] | undefined;
  /** The spaces it left (−1 each); absent when none. */
  readonly leaves?: readonly string[] | undefined;
}

/**
 * The change one event makes to one space's count (roll-up included; an event keeps them as the
 * spaces it `enters` and `leaves`), or a transfer: the people inside a space that moved (re-parented)
 * leaving its old ancestors and entering its new ones at the moment of the move. A transfer's `key`
 * is the moved space, and it comes before the crossings of its millisecond.
 */
export interface Delta {
  readonly space: string;
  readonly ts: number;
  readonly key: string;
  readonly delta: number;
  readonly late: boolean;
  readonly transfer?: boolean;
}

/**
 * A summary of consecutive deltas of one space over a period [start, end): net change, the lowest
 * and highest running sum (both counting the empty prefix, so min ≤ 0 ≤ max), entries, exits, late
 * events, and `area`, the integral of the running sum over the period (Σ delta × (end − ts), in
 * person·ms), from which time-weighted averages come.
 */
export interface Segment {
  readonly net: number;
  readonly min: number;
  readonly max: number;
  readonly entries: number;
  readonly exits: number;
  readonly late: number;
  readonly area: number;
}

/** What an occupancy alert watches: a space over capacity, a silent sensor, a drifting doorway. */
export type AlertKind = 'capacity' | 'silent' | 'drift';

/**
 * One alert: opened when its condition began to hold, closed when it stopped. A drift alert is a
 * notice about one day of one doorway, closed as soon as it is opened.
 */
export interface Alert {
  readonly id: string;
  readonly kind: AlertKind;
  /** The space (capacity), sensor (silent) or doorway (drift) it is about. */
  readonly subject: string;
  /** The space it concerns, for the space's page: the space itself, or the inner side of the doorway. */
  readonly space: string | null;
  readonly openedAt: number;
  readonly closedAt: number | null;
  /** The figures behind it (count and capacity; last event; the day's entries and exits). */
  readonly detail: Readonly<Record<string, unknown>>;
}

/** The events occupancy alerts notify, by type (see `OccupancyEvent`). */
export type OccupancyEventType =
  | 'occupancy.capacity.exceeded'
  | 'occupancy.capacity.resolved'
  | 'occupancy.sensor.silent'
  | 'occupancy.sensor.resumed'
  | 'occupancy.doorway.drift';

/**
 * A notification, as `notify(tenant, event)` receives it and webhooks get it as JSON. `id` stays the
 * same across delivery attempts, so a receiver that sees it twice can drop the second.
 */
export interface OccupancyEvent {
  readonly id: string;
  readonly type: OccupancyEventType;
  readonly tenant: string;
  /** When the condition began or ended (ISO 8601 UTC). */
  readonly at: string;
  /** The alert the event opens or closes. */
  readonly alert: string;
  readonly subject: {
    readonly kind: 'space' | 'sensor' | 'doorway';
    readonly id: string;
    readonly name: string;
  };
  readonly space: { readonly id: string; readonly name: string } | null;
  /** One line for people: "Lab is over capacity: 34 of 30 for 10 minutes". */
  readonly summary: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** A notification waiting in (or delivered from) the outbox. */
export interface OutboxEntry {
  readonly id: string;
  readonly tenant: string;
  readonly event: OccupancyEvent;
  readonly createdAt: number;
  readonly attempts: number;
  readonly deliveredAt: number | null;
  readonly lastError: string | null;
  /** When the next attempt is due; null once delivered or given up. */
  readonly nextAttemptAt: number | null;
}
