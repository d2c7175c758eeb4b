import type { TargetSpec } from './target.ts';

/**
 * Why a check failed. Network classes come from the socket error; `status`, `pattern` and
 * `body-too-large` from judging the response.
 */
export const ERROR_CLASSES = [
  'dns',
  'refused',
  'reset',
  'timeout',
  'tls',
  'unreachable',
  'protocol',
  'redirect',
  'status',
  'pattern',
  'body-too-large',
  'other',
] as const;
/** Why a check failed: one of `ERROR_CLASSES`. */
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Milliseconds spent in each phase of the last request (blackbox_exporter's breakdown). */
export interface Phases {
  readonly dnsMs: number;
  readonly connectMs: number;
  readonly tlsMs: number;
  readonly ttfbMs: number;
  readonly transferMs: number;
}

/** What one probe of one target observed. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Epoch ms when the request began. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly phases: Phases;
  readonly status: number | null;
  readonly httpVersion: string | null;
  readonly bytes: number;
  /** Epoch ms when the server's certificate expires (https only). */
  readonly tlsExpiresAt: number | null;
  /** Null when the target has no pattern or the body was never read. */
  readonly patternMatched: boolean | null;
  readonly redirects: number;
  readonly error: { readonly class: ErrorClass; readonly detail: string } | null;
}

/** A check as it travels in the log (`checks` stream body) and as it is stored. */
export interface Check extends ProbeResult {
  readonly target: string;
  readonly region: string;
  /** floor((scheduledAt - offset) / interval): the slot number within the target's interval. */
  readonly slot: number;
  /** Epoch ms the slot began: when the check was due. Part of the identity with target and region. */
  readonly scheduledAt: number;
}

/** A stored check with its tenant. */
export interface CheckRow extends Check {
  readonly tenant: string;
}

/** The idempotency key of a check: one per (target, region, slot), whoever probed it. */
export function checkKey(check: Pick<Check, 'target' | 'region' | 'scheduledAt'>): string {
  return `${check.target}@${check.region}@${check.scheduledAt}`;
}

/** The bucket lengths rollups are kept in. */
export type RollupSize = 'minute' | 'hour' | 'day';

/** Aggregated checks of one target in one bucket and region; merged by rollup.ts. */
export interface Rollup {
  readonly tenant: string;
  readonly target: string;
  readonly region: string;
  readonly size: RollupSize;
  /** Epoch ms the bucket begins. */
  readonly start: number;
  readonly checks: number;
  readonly up: number;
  readonly latencySumMs: number;
  /** Counts per latency bucket (rollup.ts LATENCY_BOUNDS_MS). */
  readonly latency: readonly number[];
  /** Failures by error class. */
  readonly errors: Readonly<Partial<Record<ErrorClass, number>>>;
}

/** A run of failures: opened after `downAfter` failed checks in a row, closed after `upAfter` good ones. */
export interface Incident {
  readonly tenant: string;
  readonly target: string;
  readonly region: string;
  /** Slot start of the first failed check of the run. */
  readonly startedAt: number;
  /** Slot start of the check that closed it; null while it is open. */
  readonly endedAt: number | null;
  readonly cause: ErrorClass;
  readonly detail: string;
}

/** What identifies an incident: its target and region, and when it started. */
export type IncidentKey = Pick<Incident, 'tenant' | 'target' | 'region' | 'startedAt'>;

/** An incident as of one change (its opening or closing), numbered in the order the changes committed. */
export type IncidentChange = Incident & { readonly seq: number };

/** Where a target's checks in one region stand; kept by the projection between batches. */
export interface TargetState {
  readonly tenant: string;
  readonly target: string;
  readonly region: string;
  readonly down: boolean;
  /** Failed checks in a row (while up) or good checks in a row (while down). */
  readonly streak: number;
  /** Slot start of the first check of the current streak. */
  readonly streakStart: number;
  readonly lastScheduledAt: number;
  /** startedAt of the open incident, when down. */
  readonly incidentStart: number | null;
}

/** What identifies a target state: one per target and region. */
export type StateKey = Pick<TargetState, 'tenant' | 'target' | 'region'>;

/** A state's key as one string, to find it in maps and sets. */
export const stateId = (k: StateKey): string => `${k.tenant}\u0000${k.target}\u0000${k.region}`;

/** What identifies a rollup: its target, region, bucket length and bucket start. */
export type RollupKey = Pick<Rollup, 'tenant' | 'target' | 'region' | 'size' | 'start'>;

/** A rollup's key as one string, to find it in maps and sets. */
export const rollupId = (k: RollupKey): string =>
  `${k.tenant}\u0000${k.target}\u0000${k.region}\u0000${k.size}\u0000${k.start}`;

/** How many failed checks in a row open an incident, and how many good ones close it. */
export type Thresholds = Pick<TargetSpec, 'downAfter' | 'upAfter'>;
