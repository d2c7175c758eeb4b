import type { Columns } from '../../store/columns.ts';
import type { DefinitionSource } from '../maintenance.ts';
import type { StatusPage, StatusPageSpec, StatusUpdate, UpdateStatus } from '../status-page.ts';
import type {
  AlertState,
  CertificateWarning,
  CheckRow,
  CheckState,
  ErrorClass,
  Incident,
  IncidentChange,
  Observed,
  Rollup,
  RollupSize,
  TargetFacts,
  TargetState,
} from '../model.ts';
import {
  addressOf,
  kindOf,
  specOf,
  storedSpec,
  type MonitorKind,
  type Target,
  type TargetSource,
  type TargetSpec,
} from '../target.ts';
import type { DefinitionMeta, FileTargetsChange, Push, TargetWriter } from './repositories.ts';
import type { Block, HotRow, Series } from './check-history.ts';

// Rows as either driver returns them (see `Columns`). Times are epoch ms as numbers on both
// backends, fractions kept: SQLite stores them so, and the PostgreSQL queries select their
// timestamptz columns as float8 milliseconds. Columns typed `unknown` differ by driver.

/** A `monitor_targets` row. */
export interface TargetRow {
  readonly tenant: string;
  readonly id: string;
  readonly source: TargetSource;
  readonly spec: unknown;
  readonly created_at: unknown;
  readonly updated_at: unknown;
}

/** A `monitor_checks` row. */
export interface CheckDbRow {
  readonly tenant: string;
  readonly target: string;
  readonly scheduled_at: number;
  readonly region: string;
  readonly slot: unknown;
  readonly started_at: number;
  readonly duration_ms: number;
  readonly dns_ms: number;
  readonly connect_ms: number;
  readonly tls_ms: number;
  readonly ttfb_ms: number;
  readonly transfer_ms: number;
  readonly status: number | null;
  readonly http_version: string | null;
  readonly bytes: unknown;
  readonly tls_expires_at: number | null;
  readonly pattern_matched: unknown;
  readonly redirects: number;
  readonly ok: unknown;
  readonly error_class: string | null;
  readonly error_detail: string | null;
  readonly kind: string | null;
  readonly state: string | null;
  readonly observed: unknown;
}

/** A `monitor_series` row. Times are epoch ms (float8 on PostgreSQL). */
export interface SeriesDbRow {
  readonly id: unknown;
  readonly tenant: string;
  readonly target: string;
  readonly region: string;
  readonly compacted_until: number;
}

/** A `monitor_hot_checks` row without its series. */
export interface HotDbRow {
  readonly scheduled_at: number;
  readonly body: Uint8Array;
}

/** A `monitor_check_blocks` row without its series. */
export interface BlockDbRow {
  readonly period_start: number;
  readonly period_end: number;
  readonly checks: number;
  readonly data: Uint8Array;
}

/** A `monitor_rollups` row. */
export interface RollupRow {
  readonly tenant: string;
  readonly target: string;
  readonly size: RollupSize;
  readonly start: number;
  readonly region: string;
  readonly checks: number;
  readonly up: number;
  readonly latency_sum_ms: number;
  readonly latency: unknown;
  readonly errors: unknown;
}

/** A `monitor_states` row. */
export interface StateRow {
  readonly tenant: string;
  readonly target: string;
  readonly region: string;
  readonly down: unknown;
  readonly streak: number;
  readonly fails: number;
  readonly slow: number;
  readonly streak_start: number;
  readonly last_scheduled_at: number;
  readonly incident_start: number | null;
}

/** A `monitor_incidents` row. */
export interface IncidentRow {
  readonly tenant: string;
  readonly target: string;
  readonly started_at: number;
  readonly region: string;
  readonly ended_at: number | null;
  readonly cause: string;
  readonly detail: string;
  readonly seq: unknown;
}

/** A stored target: the spec (http when stored before kinds), then its identity and bookkeeping. */
export const toTarget = (r: TargetRow, c: Columns): Target => ({
  ...storedSpec(c.json<TargetSpec>(r.spec)),
  id: r.id,
  tenant: r.tenant,
  source: r.source,
  createdAt: c.int(r.created_at),
  updatedAt: c.int(r.updated_at),
});

/** What alerting needs of a target's stored spec; a field it lacks takes the schema's default. */
export const toTargetFacts = (r: Pick<TargetRow, 'spec'>, c: Columns): TargetFacts => {
  const spec = storedSpec(c.json<TargetSpec>(r.spec));
  const partial = spec as Partial<TargetSpec> & { tlsExpiryDays?: number[] };
  return {
    kind: kindOf(spec),
    name: spec.name,
    address: addressOf(spec),
    tags: partial.tags ?? [],
    downAfter: partial.downAfter ?? 3,
    upAfter: partial.upAfter ?? 2,
    tlsExpiryDays: partial.tlsExpiryDays ?? [21, 14, 7],
    degradedAboveMs: partial.degradedAboveMs,
  };
};

/** A stored check; an error class without detail reads as an empty detail. */
export const toCheck = (r: CheckDbRow, c: Columns): CheckRow => ({
  tenant: r.tenant,
  target: r.target,
  region: r.region,
  slot: c.int(r.slot),
  scheduledAt: r.scheduled_at,
  startedAt: r.started_at,
  durationMs: r.duration_ms,
  phases: {
    dnsMs: r.dns_ms,
    connectMs: r.connect_ms,
    tlsMs: r.tls_ms,
    ttfbMs: r.ttfb_ms,
    transferMs: r.transfer_ms,
  },
  status: r.status,
  httpVersion: r.http_version,
  bytes: c.int(r.bytes),
  tlsExpiresAt: r.tls_expires_at,
  patternMatched: c.boolOrNull(r.pattern_matched),
  redirects: r.redirects,
  ok: c.bool(r.ok),
  error: r.error_class === null ? null : { class: r.error_class as ErrorClass, detail: r.error_detail ?? '' },
  // Fields checks have had since monitor kinds; rows stored before have none of them.
  ...(r.kind === null ? {} : { kind: r.kind as MonitorKind }),
  ...(r.state === null ? {} : { state: r.state as CheckState }),
  ...(r.observed === null ? {} : { observed: c.json<Observed>(r.observed) }),
});

/** A stored series. */
export const toSeries = (r: SeriesDbRow, c: Columns): Series => ({
  id: c.int(r.id),
  tenant: r.tenant,
  target: r.target,
  region: r.region,
  compactedUntil: r.compacted_until,
});

/** A stored hot row. */
export const toHotRow = (r: HotDbRow): HotRow => ({ scheduledAt: r.scheduled_at, body: r.body });

/** A stored block. */
export const toBlock = (r: BlockDbRow): Block => ({
  periodStart: r.period_start,
  periodEnd: r.period_end,
  checks: r.checks,
  data: r.data,
});

/** A stored rollup, its histogram and error counts parsed. */
export const toRollup = (r: RollupRow, c: Columns): Rollup => ({
  tenant: r.tenant,
  target: r.target,
  region: r.region,
  size: r.size,
  start: r.start,
  checks: r.checks,
  up: r.up,
  latencySumMs: r.latency_sum_ms,
  latency: c.json<number[]>(r.latency),
  errors: c.json<Rollup['errors']>(r.errors),
});

/** A stored target state. */
export const toState = (r: StateRow, c: Columns): TargetState => ({
  tenant: r.tenant,
  target: r.target,
  region: r.region,
  down: c.bool(r.down),
  streak: r.streak,
  fails: r.fails,
  slow: r.slow,
  streakStart: r.streak_start,
  lastScheduledAt: r.last_scheduled_at,
  incidentStart: r.incident_start,
});

/** A stored incident, without its change seq (every column but `seq` reads alike on both backends). */
export const toIncident = (r: IncidentRow): Incident => ({
  tenant: r.tenant,
  target: r.target,
  region: r.region,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  cause: r.cause as ErrorClass,
  detail: r.detail,
});

/** A stored incident with the seq of its last change. */
export const toIncidentChange = (r: IncidentRow, c: Columns): IncidentChange => ({
  ...toIncident(r),
  seq: c.int(r.seq),
});

// What the writers bind: a row's values in the order of its table's columns. Flags are 1 or 0:
// SQLite has no boolean to bind, and PostgreSQL's boolean input reads 1 and 0 as true and false.

const flag = (b: boolean): number => (b ? 1 : 0);

/** A target's spec as the JSON text both backends store. */
export const specText = (t: Target): string => JSON.stringify(specOf(t));

/** A push target's token, kept in its own indexed column so a push finds its target. */
export const pushTokenOf = (spec: TargetSpec): string | null =>
  spec.kind === 'push' ? (spec.pushToken ?? null) : null;

/** A `monitor_targets` row's values. */
export const targetValues = (t: Target): unknown[] => [
  t.tenant,
  t.id,
  t.source,
  specText(t),
  t.createdAt,
  t.updatedAt,
  pushTokenOf(t),
];

/** The columns of `monitor_checks`, in the order `checkValues` gives their values. */
export const CHECK_COLUMNS = [
  'tenant',
  'target',
  'scheduled_at',
  'region',
  'slot',
  'started_at',
  'duration_ms',
  'dns_ms',
  'connect_ms',
  'tls_ms',
  'ttfb_ms',
  'transfer_ms',
  'status',
  'http_version',
  'bytes',
  'tls_expires_at',
  'pattern_matched',
  'redirects',
  'ok',
  'error_class',
  'error_detail',
  'kind',
  'state',
  'observed',
] as const;

/** A `monitor_checks` row's values, times as epoch ms. */
export const checkValues = (k: CheckRow): (string | number | null)[] => [
  k.tenant,
  k.target,
  k.scheduledAt,
  k.region,
  k.slot,
  k.startedAt,
  k.durationMs,
  k.phases.dnsMs,
  k.phases.connectMs,
  k.phases.tlsMs,
  k.phases.ttfbMs,
  k.phases.transferMs,
  k.status,
  k.httpVersion,
  k.bytes,
  k.tlsExpiresAt,
  k.patternMatched === null ? null : flag(k.patternMatched),
  k.redirects,
  flag(k.ok),
  k.error?.class ?? null,
  k.error?.detail ?? null,
  k.kind ?? null,
  k.state ?? null,
  k.observed === undefined || k.observed === null ? null : JSON.stringify(k.observed),
];

/** A `monitor_rollups` row's values, start as epoch ms. */
export const rollupValues = (r: Rollup): unknown[] => [
  r.tenant,
  r.target,
  r.size,
  r.start,
  r.region,
  r.checks,
  r.up,
  r.latencySumMs,
  JSON.stringify(r.latency),
  JSON.stringify(r.errors),
];

/** A `monitor_states` row's values, times as epoch ms. */
export const stateValues = (s: TargetState): unknown[] => [
  s.tenant,
  s.target,
  s.region,
  flag(s.down),
  s.streak,
  s.fails,
  s.slow,
  s.streakStart,
  s.lastScheduledAt,
  s.incidentStart,
];

/** A `monitor_alert_rules` or `monitor_maintenance` row: a spec with its identity. */
export interface DefinitionRow {
  readonly tenant: string;
  readonly id: string;
  readonly source: DefinitionSource;
  readonly spec: unknown;
  readonly created_at: unknown;
  readonly updated_at: unknown;
}

/** A stored definition: its spec, then its identity and bookkeeping. */
export const toDefinition = <D extends DefinitionMeta>(r: DefinitionRow, c: Columns): D =>
  ({
    ...c.json<object>(r.spec),
    tenant: r.tenant,
    id: r.id,
    source: r.source,
    createdAt: c.int(r.created_at),
    updatedAt: c.int(r.updated_at),
  }) as D;

/** A definition's spec as stored: everything but its identity and bookkeeping. */
export const definitionSpec = (d: DefinitionMeta): string => {
  const {
    tenant: _t,
    id: _i,
    source: _s,
    createdAt: _c,
    updatedAt: _u,
    ...spec
  } = d as DefinitionMeta & Record<string, unknown>;
  return JSON.stringify(spec);
};

/** A definition row's values, in `DefinitionRow` order. */
export const definitionValues = (d: DefinitionMeta): unknown[] => [
  d.tenant,
  d.id,
  d.source,
  definitionSpec(d),
  d.createdAt,
  d.updatedAt,
];

/** A `monitor_alert_states` row. */
export interface AlertStateRow {
  readonly tenant: string;
  readonly rule: string;
  readonly target: string;
  readonly down: unknown;
  readonly degraded: unknown;
  readonly since: unknown;
  readonly notified_at: unknown;
}

export const toAlertState = (r: AlertStateRow, c: Columns): AlertState => ({
  tenant: r.tenant,
  rule: r.rule,
  target: r.target,
  down: c.bool(r.down),
  degraded: c.bool(r.degraded),
  since: c.int(r.since),
  notifiedAt: c.int(r.notified_at),
});

/** An alert state's values, in `AlertStateRow` order. */
export const alertStateValues = (s: AlertState): unknown[] => [
  s.tenant,
  s.rule,
  s.target,
  flag(s.down),
  flag(s.degraded),
  s.since,
  s.notifiedAt,
];

/** A `monitor_pushes` row. */
export interface PushRow {
  readonly at: unknown;
  readonly status: 'up' | 'down';
  readonly message: string;
  readonly duration_ms: number | null;
}

export const toPush = (r: PushRow, c: Columns): Push => ({
  at: c.int(r.at),
  status: r.status,
  message: r.message,
  durationMs: r.duration_ms,
});

/** A `monitor_cert_warnings` row. */
export interface CertificateWarningRow {
  readonly tenant: string;
  readonly target: string;
  readonly expires_at: unknown;
  readonly days: number;
  readonly at: unknown;
}

export const toCertificateWarning = (r: CertificateWarningRow, c: Columns): CertificateWarning => ({
  tenant: r.tenant,
  target: r.target,
  expiresAt: c.int(r.expires_at),
  days: r.days,
  at: c.int(r.at),
});

/** A `monitor_status_pages` row. */
export interface StatusPageRow {
  readonly tenant: string;
  readonly id: string;
  readonly slug: string;
  readonly domain: string | null;
  readonly spec: unknown;
  readonly created_at: unknown;
  readonly updated_at: unknown;
}

/** A stored status page: its spec, then its identity and bookkeeping. */
export const toStatusPage = (r: StatusPageRow, c: Columns): StatusPage => ({
  ...c.json<StatusPageSpec>(r.spec),
  tenant: r.tenant,
  id: r.id,
  createdAt: c.int(r.created_at),
  updatedAt: c.int(r.updated_at),
});

/** A page's spec as stored: everything but its identity and bookkeeping. */
export const statusPageSpec = (p: StatusPageSpec): string => {
  const {
    tenant: _t,
    id: _i,
    createdAt: _c,
    updatedAt: _u,
    ...spec
  } = p as StatusPageSpec & Partial<StatusPage>;
  return JSON.stringify(spec);
};

/** A page row's values, in `StatusPageRow` order. */
export const statusPageValues = (p: StatusPage): unknown[] => [
  p.tenant,
  p.id,
  p.slug,
  p.domain ?? null,
  statusPageSpec(p),
  p.createdAt,
  p.updatedAt,
];

/** A `monitor_status_updates` row. */
export interface StatusUpdateRow {
  readonly tenant: string;
  readonly page: string;
  readonly id: string;
  readonly at: unknown;
  readonly status: UpdateStatus;
  readonly title: string;
  readonly body: string;
  readonly created_at: unknown;
  readonly updated_at: unknown;
}

export const toStatusUpdate = (r: StatusUpdateRow, c: Columns): StatusUpdate => ({
  tenant: r.tenant,
  page: r.page,
  id: r.id,
  title: r.title,
  body: r.body,
  status: r.status,
  at: c.int(r.at),
  createdAt: c.int(r.created_at),
  updatedAt: c.int(r.updated_at),
});

/** An update row's values, in `StatusUpdateRow` order. */
export const statusUpdateValues = (u: StatusUpdate): unknown[] => [
  u.tenant,
  u.page,
  u.id,
  u.at,
  u.status,
  u.title,
  u.body,
  u.createdAt,
  u.updatedAt,
];

/** Targets a page of targetPages reads: about 0.4 MB of row objects at a time. */
export const TARGET_PAGE = 500;

/**
 * Pages of rows in (tenant, id) order, each read by `page` after the last row of the one before,
 * until a page comes back short. It yields to the event loop before each page after the first: an
 * embedded store answers at once, and 20,000 targets read without a break were one task of tens of
 * milliseconds, its garbage all made at once.
 */
export async function* keysetPages<T extends { readonly tenant: string; readonly id: string }>(
  size: number,
  page: (after: T | undefined) => Promise<T[]>,
): AsyncGenerator<T[]> {
  let after: T | undefined;
  for (;;) {
    const rows = await page(after);
    if (rows.length > 0) yield rows;
    if (rows.length < size) return;
    after = rows.at(-1);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * TargetWriter.replaceFileTargets through a load of its own, a page at a time (`targets` is iterated
 * once, and no page is kept once added).
 */
export async function replaceThroughLoad(
  writer: Pick<TargetWriter, 'loadFileTargets'>,
  targets: Iterable<Target>,
): Promise<FileTargetsChange> {
  const load = await writer.loadFileTargets();
  try {
    let page: Target[] = [];
    for (const t of targets) {
      page.push(t);
      if (page.length < TARGET_PAGE) continue;
      await load.add(page);
      page = [];
    }
    await load.add(page);
    return await load.commit();
  } finally {
    await load.discard();
  }
}
