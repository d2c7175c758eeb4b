import type { Columns } from '../../store/columns.ts';
import {
  zeroCounters,
  type EventRow,
  type OAuthClient,
  type RollupDelta,
  type SessionRow,
  type Site,
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
  createdAt: c.int(r.created_at),
});

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
});

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
export const toRollupAggregate = (r: RollupSumRow, q: RollupQuery, c: Columns): AggregateRow => ({
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
