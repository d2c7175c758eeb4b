import type { Target, TargetSource, TargetSpec } from './target.ts';

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

/** Keyset position in the (scheduledAt desc, region) order of a target's checks. */
export interface CheckCursor {
  readonly scheduledAt: number;
  readonly region: string;
}

export interface CheckQuery {
  readonly tenant: string;
  readonly target: string;
  readonly limit: number;
  readonly before?: CheckCursor | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

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

export interface RollupQuery {
  readonly tenant: string;
  readonly target: string;
  readonly size: RollupSize;
  readonly from: number;
  readonly to: number;
}

/** Reads targets and their history; every backend answers alike. */
export interface MonitorReader {
  getTarget(tenant: string, id: string): Promise<Target | undefined>;
  /** A tenant's targets in id order, keyset-paged. */
  listTargets(tenant: string, limit: number, after?: string): Promise<Target[]>;
  /**
   * Every tenant's targets: what a prober schedules. Iterate it at once (a backend may stream rows
   * from an open statement), and only once.
   */
  allTargets(): Promise<Iterable<Target>>;
  /**
   * A fingerprint of the target set (how many, and their update times): while it is unchanged, so are
   * the targets, and a prober need not read them again. Every write stamps its targets with the time
   * it was made, so only a target deleted and another written within the same millisecond as the
   * deleted one's last write could go unseen, until the next change.
   */
  targetsVersion(): Promise<string>;
  /** A target's checks, newest first. */
  listChecks(query: CheckQuery): Promise<CheckRow[]>;
  rollups(query: RollupQuery): Promise<Rollup[]>;
  /** A target's incidents, newest first. */
  listIncidents(tenant: string, target: string, limit: number, before?: number): Promise<Incident[]>;
  /** Incidents opened or closed after change `seq`, oldest change first (every tenant). */
  incidentChanges(afterSeq: number, limit: number): Promise<(Incident & { readonly seq: number })[]>;
  /** The newest incident change's seq (0 when none). */
  lastIncidentSeq(): Promise<number>;
  /** The newest check of each of a tenant's targets (current state), by target id. */
  latestChecks(tenant: string): Promise<CheckRow[]>;
}

/** Target definitions, written outside sinks (API and YAML file). */
export interface TargetWriter {
  /** Creates a target; false when the id is taken in this tenant. */
  create(target: Target): Promise<boolean>;
  /** Replaces a target's spec; false when it does not exist. */
  update(tenant: string, id: string, spec: TargetSpec, at: number): Promise<boolean>;
  delete(tenant: string, id: string): Promise<boolean>;
  /**
   * Makes the file-defined targets exactly `targets`, in one transaction: upserts them and deletes
   * file targets not in the list. API targets are untouched.
   */
  replaceFileTargets(targets: readonly Target[]): Promise<{ upserted: number; deleted: number }>;
  /** The source of an existing target, or undefined. */
  sourceOf(tenant: string, id: string): Promise<TargetSource | undefined>;
}

/** Writes checks and rollups inside a sink transaction. */
export interface CheckWriter {
  /** Inserts checks whose (tenant, target, region, scheduledAt) is new; returns the new ones. */
  insert(rows: readonly CheckRow[]): Promise<CheckRow[]>;
  /** Reads the rollup rows for the given keys, for merging. */
  getRollups(keys: readonly RollupKey[]): Promise<Rollup[]>;
  putRollups(rollups: readonly Rollup[]): Promise<void>;
  getStates(keys: readonly Pick<TargetState, 'tenant' | 'target' | 'region'>[]): Promise<TargetState[]>;
  putStates(states: readonly TargetState[]): Promise<void>;
  /** The down/up thresholds of targets, by id (targets deleted since have none). */
  thresholds(
    tenant: string,
    ids: readonly string[],
  ): Promise<Map<string, { downAfter: number; upAfter: number }>>;
  openIncident(incident: Incident): Promise<void>;
  closeIncident(
    key: Pick<Incident, 'tenant' | 'target' | 'region' | 'startedAt'>,
    endedAt: number,
  ): Promise<void>;
  /** Deletes raw checks scheduled before `before`; returns how many. Rollups are kept. */
  deleteChecksBefore(before: number): Promise<number>;
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

export type RollupKey = Pick<Rollup, 'tenant' | 'target' | 'region' | 'size' | 'start'>;
