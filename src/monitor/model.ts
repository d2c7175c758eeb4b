import type { AssertionResult } from './assertions.ts';
import type { MonitorKind, TargetSpec } from './target.ts';

/**
 * Why a check failed. Network classes come from the socket error; `status`, `pattern`,
 * `body-too-large` and `assertion` from judging an HTTP answer; `answer` from a DNS answer without
 * the expected values; `missed` and `reported` from a heartbeat that did not come or said it failed;
 * `permission` from a host that lets this process send no ICMP.
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
  'assertion',
  'answer',
  'missed',
  'reported',
  'permission',
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

/**
 * A check's outcome: `up`; `down`; `degraded` (up, but slower than the target's `degradedAboveMs`);
 * `maintenance` (made during a maintenance window: it opens no incident, sends no alert and does not
 * count toward uptime).
 */
export const CHECK_STATES = ['up', 'down', 'degraded', 'maintenance'] as const;
export type CheckState = (typeof CHECK_STATES)[number];

/**
 * Why a prober let a slot pass unchecked: the target's previous check was still waiting for a place
 * under the per-host limit (`per-host-limit`) or the global one (`concurrency-limit`), or was still
 * running (`overrun`: slower than the interval), or the process was stalled past the slot (`stalled`).
 */
export const MISSED_REASONS = ['per-host-limit', 'concurrency-limit', 'overrun', 'stalled'] as const;
export type MissedReason = (typeof MISSED_REASONS)[number];

/** What a check saw besides its timings, by kind. */
export interface Observed {
  /** Slots of this target the prober let pass since its previous check, and why (the last reason). */
  readonly missed?: { readonly slots: number; readonly reason: MissedReason };
  /** dns: the answer, one normalized value per record. */
  readonly answers?: readonly string[];
  /** http: each assertion's outcome, in the target's order. */
  readonly assertions?: readonly AssertionResult[];
  /** push: the last push the check found (epoch ms), with what it reported. */
  readonly push?: { readonly at: number; readonly status: 'up' | 'down'; readonly message: string } | null;
  /** icmp: echo requests sent and answered, and round-trip times. */
  readonly ping?: {
    readonly sent: number;
    readonly received: number;
    readonly rttMinMs: number | null;
    readonly rttMaxMs: number | null;
  };
}

/** What one probe of one target observed. */
export interface ProbeResult {
  readonly ok: boolean;
  /** up, down or degraded; absent in checks made before states (read `ok`). */
  readonly state?: CheckState;
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
  readonly observed?: Observed | null;
}

/** A check's state: as recorded, or, for checks made before states, from `ok`. */
export const stateOf = (c: Pick<ProbeResult, 'ok' | 'state'>): CheckState =>
  c.state ?? (c.ok ? 'up' : 'down');

/** A check as it travels in the log (`checks` stream body) and as it is stored. */
export interface Check extends ProbeResult {
  /** Absent for http (every check before kinds was one). */
  readonly kind?: MonitorKind;
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
  /** Failed checks in a row, whether or not an incident is open (alert rules count these). */
  readonly fails: number;
  /** Degraded checks in a row. */
  readonly slow: number;
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

/** What alerting needs to know of a target: how it is named and grouped, and its thresholds. */
export interface TargetFacts extends Thresholds {
  readonly kind: MonitorKind;
  readonly name: string | undefined;
  /** What it checks (URL, host and port, DNS query…), for messages. */
  readonly address: string;
  readonly tags: readonly string[];
  /** Days before a certificate's expiry to warn (http and tcp). */
  readonly tlsExpiryDays: readonly number[];
  readonly degradedAboveMs: number | undefined;
}

/** A certificate warning recorded once per threshold per certificate (its expiry identifies it). */
export interface CertificateWarning {
  readonly tenant: string;
  readonly target: string;
  readonly expiresAt: number;
  /** The threshold crossed, in days. */
  readonly days: number;
  /** When the check that saw it was due. */
  readonly at: number;
}

/** Where one alert rule stands for one target: what it last told. */
export interface AlertState {
  readonly tenant: string;
  readonly rule: string;
  readonly target: string;
  readonly down: boolean;
  readonly degraded: boolean;
  /** When the current down (or degraded) period began, by check time. */
  readonly since: number;
  /** When it last told of it (for reminders). */
  readonly notifiedAt: number;
}
