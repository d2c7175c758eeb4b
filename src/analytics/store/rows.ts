import type { Columns } from '../../store/columns.ts';
import {
  zeroCounters,
  type Definition,
  type EventRow,
  type Import,
  type OAuthClient,
  type OutboxMail,
  type Report,
  type RollupDelta,
  type SaltRotation,
  type SessionRow,
  type SharedLink,
  type Site,
  type Step,
} from '../model.ts';
import type { AggregateRow, RawQuery, RollupQuery } from './repositories.ts';

/** An `analytics_sites` row as either driver returns it (see `Columns`). */
export interface SiteRow {
  readonly id: string;
  readonly tenant: string;
  readonly domain: string;
  readonly allowed_domains: unknown;
  readonly timezone: string;
  readonly respect_dnt: unknown;
  readonly salt_rotation: string;
  readonly currency: string;
  readonly created_at: unknown;
}

/** An `analytics_oauth_clients` row as either driver returns it. */
export interface ClientRow {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly secret_hash: string;
  readonly created_at: unknown;
  readonly revoked_at: unknown;
}

/** An `analytics_sessions` row as either driver returns it (`SessionRow` is the session it maps to). */
export interface SessionDbRow {
  readonly tenant: string;
  readonly site: string;
  readonly id: string;
  readonly visitor: string;
  readonly started_at: unknown;
  readonly started_local: unknown;
  readonly last_at: unknown;
  readonly pageviews: unknown;
  readonly events: unknown;
  readonly entry_page: string;
  readonly exit_page: string;
  readonly source: string;
  readonly referrer: string;
  readonly utm_source: string;
  readonly utm_medium: string;
  readonly utm_campaign: string;
  readonly device: string;
  readonly browser: string;
  readonly os: string;
  readonly sample: unknown;
  readonly steps: string;
}

/** An `analytics_definitions` row. */
export interface DefinitionRow {
  readonly tenant: string;
  readonly site: string;
  readonly kind: string;
  readonly id: string;
  readonly name: string;
  readonly spec: string;
  readonly created_at: unknown;
  readonly updated_at: unknown;
}

/** An `analytics_shared_links` row. */
export interface SharedLinkRow {
  readonly tenant: string;
  readonly site: string;
  readonly id: string;
  readonly name: string;
  readonly secret_hash: string;
  readonly hint: string;
  readonly password_hash: string | null;
  readonly created_at: unknown;
  readonly revoked_at: unknown;
}

/** An `analytics_reports` row. */
export interface ReportRow {
  readonly tenant: string;
  readonly site: string;
  readonly id: string;
  readonly frequency: string;
  readonly recipients: string;
  readonly next_at: unknown;
  readonly created_at: unknown;
}

/** An `analytics_outbox` row. */
export interface OutboxRow {
  readonly id: string;
  readonly tenant: string;
  readonly site: string;
  readonly report: string;
  readonly period: string;
  readonly recipients: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly status: string;
  readonly attempts: unknown;
  readonly next_attempt_at: unknown;
  readonly sent_at: unknown;
  readonly error: string | null;
  readonly created_at: unknown;
}

/** An `analytics_imports` row. */
export interface ImportRow {
  readonly tenant: string;
  readonly site: string;
  readonly id: string;
  readonly source: string;
  readonly content_hash: string;
  readonly status: string;
  readonly done: unknown;
  readonly total: unknown;
  readonly first_day: unknown;
  readonly last_day: unknown;
  readonly skipped_days: unknown;
  readonly error: string | null;
  readonly created_at: unknown;
  readonly finished_at: unknown;
}

/** A row of summed rollups: the bucket `b` (local ms), the dimension's value and the six sums. */
export interface RollupSumRow {
  readonly b: unknown;
  readonly value: string;
  readonly visitors: unknown;
  readonly visits: unknown;
  readonly pageviews: unknown;
  readonly events: unknown;
  readonly bounces: unknown;
  readonly duration: unknown;
}

/**
 * A row of the raw aggregation, grouped by the bucket `b` and the values `g0`, `g1`… of the asked
 * dimensions: the events' counts (visitors, visits, pageviews, events) or their visits' sums
 * (bounces, duration).
 */
export type RawGroupRow = Readonly<Record<string, unknown>> & { readonly b: unknown };

/** A site from its row. */
export const toSite = (r: SiteRow, c: Columns): Site => ({
  id: r.id,
  tenant: r.tenant,
  domain: r.domain,
  allowedDomains: c.json<string[]>(r.allowed_domains),
  timezone: r.timezone,
  respectDnt: c.bool(r.respect_dnt),
  saltRotation: r.salt_rotation as SaltRotation,
  currency: r.currency,
  createdAt: c.int(r.created_at),
});

/**
 * A site's values as both backends write them, in their SQL's column order: id, tenant, domain,
 * allowed_domains (JSON text), timezone, respect_dnt, salt_rotation, currency, created_at.
 */
export const siteValues = (s: Site, bool: (b: boolean) => unknown) =>
  [
    s.id,
    s.tenant,
    s.domain,
    JSON.stringify(s.allowedDomains),
    s.timezone,
    bool(s.respectDnt),
    s.saltRotation,
    s.currency,
    s.createdAt,
  ] as const;

/**
 * Steps as stored: one JSON array per step, `[at, page]` for a page view and `[at, page, name,
 * props, milli, currency]` for a custom event, trailing parts left out when empty. Short, because a
 * visit's steps are rewritten whenever the visit goes on.
 */
export function encodeSteps(steps: readonly Step[]): string {
  return JSON.stringify(
    steps.map((s) => {
      if (s.name === 'pageview') return [s.at, s.page];
      const out: unknown[] = [s.at, s.page, s.name];
      if (s.props || s.revenue) out.push(s.props ?? {});
      if (s.revenue) out.push(s.revenue.milli, s.revenue.currency);
      return out;
    }),
  );
}

/** Steps from their stored JSON (see `encodeSteps`). A loop, not a map: visits are decoded by the ten thousand. */
export function decodeSteps(text: string): Step[] {
  const raw = JSON.parse(text) as [number, string, string?, Record<string, string>?, number?, string?][];
  const steps = new Array<Step>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i]!;
    if (r.length === 2) {
      steps[i] = { at: r[0], page: r[1], name: 'pageview', props: undefined, revenue: undefined };
      continue;
    }
    const props = r[3];
    let hasProps = false;
    for (const _ in props) {
      hasProps = true;
      break;
    }
    steps[i] = {
      at: r[0],
      page: r[1],
      name: r[2]!,
      props: hasProps ? props : undefined,
      revenue: r[4] === undefined || r[5] === undefined ? undefined : { milli: r[4], currency: r[5] },
    };
  }
  return steps;
}

/** A goal or segment from its row. */
export const toDefinition = (r: DefinitionRow, c: Columns): Definition => ({
  tenant: r.tenant,
  site: r.site,
  kind: r.kind as Definition['kind'],
  id: r.id,
  name: r.name,
  spec: JSON.parse(r.spec) as unknown,
  createdAt: c.int(r.created_at),
  updatedAt: c.int(r.updated_at),
});

/** A shared link from its row. */
export const toSharedLink = (r: SharedLinkRow, c: Columns): SharedLink => ({
  tenant: r.tenant,
  site: r.site,
  id: r.id,
  name: r.name,
  secretHash: r.secret_hash,
  hint: r.hint,
  passwordHash: r.password_hash,
  createdAt: c.int(r.created_at),
  revokedAt: c.intOrNull(r.revoked_at),
});

/** A scheduled report from its row. */
export const toReport = (r: ReportRow, c: Columns): Report => ({
  tenant: r.tenant,
  site: r.site,
  id: r.id,
  frequency: r.frequency as Report['frequency'],
  recipients: JSON.parse(r.recipients) as string[],
  nextAt: c.int(r.next_at),
  createdAt: c.int(r.created_at),
});

/** An outbox mail from its row. */
export const toOutboxMail = (r: OutboxRow, c: Columns): OutboxMail => ({
  id: r.id,
  tenant: r.tenant,
  site: r.site,
  report: r.report,
  period: r.period,
  recipients: JSON.parse(r.recipients) as string[],
  subject: r.subject,
  html: r.html,
  text: r.text,
  status: r.status as OutboxMail['status'],
  attempts: c.int(r.attempts),
  nextAttemptAt: c.int(r.next_attempt_at),
  sentAt: c.intOrNull(r.sent_at),
  error: r.error,
  createdAt: c.int(r.created_at),
});

/**
 * An outbox mail's values as both backends insert them: id, tenant, site, report, period, recipients,
 * subject, html, text, status, attempts, next_attempt_at, sent_at, error, created_at.
 */
export const outboxValues = (m: OutboxMail) =>
  [
    m.id,
    m.tenant,
    m.site,
    m.report,
    m.period,
    JSON.stringify(m.recipients),
    m.subject,
    m.html,
    m.text,
    m.status,
    m.attempts,
    m.nextAttemptAt,
    m.sentAt,
    m.error,
    m.createdAt,
  ] as const;

/** An import from its row. */
export const toImport = (r: ImportRow, c: Columns): Import => ({
  tenant: r.tenant,
  site: r.site,
  id: r.id,
  source: r.source as Import['source'],
  contentHash: r.content_hash,
  status: r.status as Import['status'],
  done: c.int(r.done),
  total: c.int(r.total),
  firstDay: c.intOrNull(r.first_day),
  lastDay: c.intOrNull(r.last_day),
  skippedDays: c.int(r.skipped_days),
  error: r.error,
  createdAt: c.int(r.created_at),
  finishedAt: c.intOrNull(r.finished_at),
});

/**
 * An import's progress as both backends update it, then its key: status, done, total, first_day,
 * last_day, skipped_days, error, finished_at, lease_until, tenant, site, id.
 */
export const importProgressValues = (i: Import, leaseUntil: number) =>
  [
    i.status,
    i.done,
    i.total,
    i.firstDay,
    i.lastDay,
    i.skippedDays,
    i.error,
    i.finishedAt,
    leaseUntil,
    i.tenant,
    i.site,
    i.id,
  ] as const;

/**
 * An import's values as both backends insert them: tenant, site, id, source, content_hash, status,
 * done, total, first_day, last_day, skipped_days, error, created_at, finished_at.
 */
export const importValues = (i: Import) =>
  [
    i.tenant,
    i.site,
    i.id,
    i.source,
    i.contentHash,
    i.status,
    i.done,
    i.total,
    i.firstDay,
    i.lastDay,
    i.skippedDays,
    i.error,
    i.createdAt,
    i.finishedAt,
  ] as const;

/** An OAuth2 client from its row. */
export const toClient = (r: ClientRow, c: Columns): OAuthClient => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  secretHash: r.secret_hash,
  createdAt: c.int(r.created_at),
  revokedAt: c.intOrNull(r.revoked_at),
});

/** A session from its row. */
export const toSession = (r: SessionDbRow, c: Columns): SessionRow => ({
  tenant: r.tenant,
  site: r.site,
  id: r.id,
  visitor: r.visitor,
  startedAt: c.int(r.started_at),
  startedLocal: c.int(r.started_local),
  lastAt: c.int(r.last_at),
  pageviews: c.int(r.pageviews),
  events: c.int(r.events),
  entryPage: r.entry_page,
  exitPage: r.exit_page,
  source: r.source,
  referrer: r.referrer,
  utmSource: r.utm_source,
  utmMedium: r.utm_medium,
  utmCampaign: r.utm_campaign,
  device: r.device,
  browser: r.browser,
  os: r.os,
  sample: c.int(r.sample),
  steps: decodeSteps(r.steps),
});

/**
 * A session's values as both backends write them, in their SQL's column order: tenant, site, id,
 * visitor, started_at, started_local, last_at, pageviews, events, entry_page, exit_page, source,
 * referrer, utm_source, utm_medium, utm_campaign, device, browser, os, sample, steps (JSON text).
 */
export const sessionValues = (r: SessionRow) =>
  [
    r.tenant,
    r.site,
    r.id,
    r.visitor,
    r.startedAt,
    r.startedLocal,
    r.lastAt,
    r.pageviews,
    r.events,
    r.entryPage,
    r.exitPage,
    r.source,
    r.referrer,
    r.utmSource,
    r.utmMedium,
    r.utmCampaign,
    r.device,
    r.browser,
    r.os,
    r.sample,
    encodeSteps(r.steps),
  ] as const;

/**
 * An event's values as both backends write them, in their SQL's column order: tenant, site, key, ts,
 * ts_local, session, visitor, name, page, props (as JSON text).
 */
export const eventValues = (r: EventRow) =>
  [
    r.tenant,
    r.site,
    r.key,
    r.ts,
    r.local,
    r.session,
    r.visitor,
    r.name,
    r.page,
    JSON.stringify(r.props),
  ] as const;

/**
 * A rollup delta's values as both backends write them, in their SQL's column order: grain, bucket,
 * dim, value, then the six counters (visitors, visits, pageviews, events, bounces, duration).
 */
export const rollupValues = ({ grain, bucket, dim, value, counters }: RollupDelta) =>
  [
    grain,
    bucket,
    dim,
    value,
    counters.visitors,
    counters.visits,
    counters.pageviews,
    counters.events,
    counters.bounces,
    counters.duration,
  ] as const;

/** One answer row of `sumRollups`: the bucket only when an interval was asked, the value only for a breakdown. */
export const toRollupAggregate = (
  r: RollupSumRow,
  q: Pick<RollupQuery, 'interval' | 'dim'>,
  c: Columns,
): AggregateRow => ({
  bucket: q.interval ? c.int(r.b) : undefined,
  values: q.dim ? [r.value] : [],
  counters: {
    visitors: c.int(r.visitors),
    visits: c.int(r.visits),
    pageviews: c.int(r.pageviews),
    events: c.int(r.events),
    bounces: c.int(r.bounces),
    duration: c.int(r.duration),
  },
});

/**
 * The answer of `aggregateRaw` from its two queries: each group of events with its counts, and the
 * bounces and duration of the visits in that group added. A missing value (an event without the
 * property) reads as ''.
 */
export function toRawAggregates(
  q: RawQuery,
  eventRows: readonly RawGroupRow[],
  sessionRows: readonly RawGroupRow[],
  c: Columns,
): AggregateRow[] {
  const keyOf = (r: RawGroupRow) => JSON.stringify([r.b, ...q.dims.map((_, i) => r[`g${i}`] ?? '')]);
  const out = new Map<string, AggregateRow>();
  for (const r of eventRows) {
    out.set(keyOf(r), {
      bucket: q.interval ? c.int(r.b) : undefined,
      values: q.dims.map((_, i) => (r[`g${i}`] as string | number | null) ?? '').map(String),
      counters: {
        ...zeroCounters(),
        visitors: c.int(r.visitors),
        visits: c.int(r.visits),
        pageviews: c.int(r.pageviews),
        events: c.int(r.events),
      },
    });
  }
  for (const r of sessionRows) {
    const row = out.get(keyOf(r));
    if (!row) continue;
    row.counters.bounces = c.int(r.bounces);
    row.counters.duration = c.int(r.duration);
  }
  return [...out.values()];
}
