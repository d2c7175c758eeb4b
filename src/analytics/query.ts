import { BeaconError } from '../errors/catalog.ts';
import { segmentLoader } from './definitions.ts';
import { EXIT_DIM, SESSION_DIMS } from './event-rules.ts';
import { expandSegments, isStatsDim, parseFilters, type RawFilters } from './filters.ts';
import { isGoalQuery, runGoalQuery } from './goal-query.ts';
import { zeroCounters, type Counters, type Filter, type Interval, type Site } from './model.ts';
import type { AggregateRow, AnalyticsReader } from './store/repositories.ts';
import {
  DAY,
  formatLocal,
  HOUR,
  MINUTE,
  startOfDay,
  startOfHour,
  startOfMonth,
  startOfWeek,
  toLocal,
} from './time-zone.ts';

/** The metrics a stats query may ask for. */
export const METRICS = [
  'visitors',
  'visits',
  'pageviews',
  'events',
  'views_per_visit',
  'bounce_rate',
  'visit_duration',
  'conversion_rate',
] as const;
/** One of `METRICS`. */
export type Metric = (typeof METRICS)[number];
/** The time buckets a stats query may ask for, in the site's zone. */
export const INTERVALS = ['minute', 'hour', 'day', 'week', 'month'] as const;
/** The date range keywords: `realtime` is the last five minutes, the others whole days up to today. */
export const DATE_RANGES = ['realtime', 'day', '7d', '30d', '90d', 'month'] as const;

/** The body of `POST /v1/sites/:id/query`, in the spirit of Plausible's Stats API v2. */
export interface StatsQuery {
  readonly metrics: readonly string[];
  readonly dimensions?: readonly string[] | undefined;
  readonly filters?: RawFilters | undefined;
  /** A keyword, or `[from, to]` local dates (`YYYY-MM-DD`, both inclusive). */
  readonly dateRange: string | readonly string[];
  readonly interval?: string | undefined;
  readonly limit?: number | undefined;
  /** Add imported aggregates where the answer's shape allows (default true). */
  readonly imports?: boolean | undefined;
  /** The currency revenue metrics total (default: the site's). */
  readonly currency?: string | undefined;
}

/** How much of a site a visit-level answer read, when it did not read every visit. */
export interface SampleMeta {
  /** The share of visitors read (0–1); counts were scaled up by its inverse. */
  readonly fraction: number;
}

/** The answer to a stats query, as `POST /v1/sites/:id/query` returns it. */
export interface StatsResult {
  readonly results: { dimensions: string[]; metrics: number[] }[];
  readonly meta: {
    /** Pre-aggregated rollups, raw events, or visits (goal and revenue metrics). */
    readonly source: 'rollups' | 'events' | 'visits';
    readonly timezone: string;
    /** True when the range ended before today began in the site's zone: the answer cannot change. */
    readonly closed: boolean;
    /** True when imported aggregates were added in. */
    readonly imported: boolean;
    /** Set when a visit-level answer read a sample of the visitors. */
    readonly sample: SampleMeta | null;
    /** The currency revenue metrics are in, when some were asked. */
    readonly currency?: string | undefined;
    /** Revenue left out of those metrics for being in another currency, by currency (units). */
    readonly otherCurrencies?: Readonly<Record<string, number>> | undefined;
  };
  readonly query: {
    readonly metrics: string[];
    readonly dimensions: string[];
    readonly dateRange: [string, string];
    readonly interval: Interval | null;
  };
}

const invalid = (message: string) => new BeaconError('QUERY_INVALID', message);
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Metrics each rollup dimension holds; anything else is answered from raw events. */
function rollupMetrics(dim: string | undefined): ReadonlySet<Metric> {
  if (dim === undefined || (SESSION_DIMS as readonly string[]).includes(dim)) return new Set(METRICS);
  if (dim === EXIT_DIM) return new Set(['visits']);
  return new Set(['visitors', 'pageviews', 'events', 'conversion_rate']);
}

/** Resolves a date range to [from, to) in local wall-clock ms. */
export function resolveRange(range: string | readonly string[], nowLocal: number): [number, number] {
  const today = startOfDay(nowLocal);
  if (Array.isArray(range)) {
    const [a, b] = range as string[];
    if (range.length !== 2 || !DATE.test(a ?? '') || !DATE.test(b ?? ''))
      throw invalid('dateRange must be a keyword or [from, to] as YYYY-MM-DD');
    const from = Date.parse(`${a}T00:00:00Z`);
    const to = Date.parse(`${b}T00:00:00Z`) + DAY;
    if (!(from < to)) throw invalid('dateRange: from must not be after to');
    if (to - from > 3 * 366 * DAY) throw invalid('dateRange: at most three years');
    return [from, to];
  }
  switch (range) {
    case 'realtime':
      return [nowLocal - 5 * MINUTE, nowLocal + MINUTE];
    case 'day':
      return [today, today + DAY];
    case '7d':
      return [today - 6 * DAY, today + DAY];
    case '30d':
      return [today - 29 * DAY, today + DAY];
    case '90d':
      return [today - 89 * DAY, today + DAY];
    case 'month':
      return [startOfMonth(nowLocal), today + DAY];
    default:
      throw invalid(`dateRange must be one of ${DATE_RANGES.join(', ')}, or [from, to]`);
  }
}

/** The start of the `interval` bucket holding local ms `local`. */
export function bucketStart(local: number, interval: Interval): number {
  switch (interval) {
    case 'minute':
      return Math.floor(local / MINUTE) * MINUTE;
    case 'hour':
      return startOfHour(local);
    case 'day':
      return startOfDay(local);
    case 'week':
      return startOfWeek(local);
    case 'month':
      return startOfMonth(local);
  }
}

function nextBucket(bucket: number, interval: Interval): number {
  if (interval === 'month') {
    const d = new Date(bucket);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  const step = { minute: MINUTE, hour: HOUR, day: DAY, week: 7 * DAY }[interval];
  return bucket + step;
}

function metricValue(metric: Metric, c: Counters, total: number): number {
  const per = (a: number, b: number, digits = 0) => (b === 0 ? 0 : Number((a / b).toFixed(digits)));
  switch (metric) {
    case 'visitors':
    case 'visits':
    case 'pageviews':
    case 'events':
      return c[metric];
    case 'views_per_visit':
      return per(c.pageviews, c.visits, 2);
    case 'bounce_rate':
      return per(c.bounces * 100, c.visits);
    case 'visit_duration':
      return per(c.duration, c.visits * 1000);
    case 'conversion_rate':
      return per(c.visitors * 100, total, 2);
  }
}

/** A validated query: what to read, and from where. */
interface Plan {
  readonly metrics: Metric[];
  readonly dims: string[];
  readonly filters: Filter[];
  readonly interval: Interval | undefined;
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  readonly rollups: boolean;
}

/** Checks a query (its filters already parsed, segments expanded) and decides whether rollups can answer it. */
export function planQuery(q: StatsQuery, filters: Filter[], nowLocal: number): Plan {
  if (!Array.isArray(q.metrics) || q.metrics.length === 0)
    throw invalid('metrics must list at least one metric');
  for (const m of q.metrics as readonly string[])
    if (!(METRICS as readonly string[]).includes(m))
      throw invalid(`unknown metric ${m}; use ${METRICS.join(', ')}`);
  const metrics = q.metrics as Metric[];
  const dims = [...(q.dimensions ?? [])];
  for (const d of dims) if (!isStatsDim(d)) throw invalid(`unknown dimension ${d}`);
  if (dims.length > 2) throw invalid('at most two dimensions');
  const interval = q.interval as Interval | undefined;
  if (interval !== undefined && !(INTERVALS as readonly string[]).includes(interval))
    throw invalid(`interval must be one of ${INTERVALS.join(', ')}`);
  const [from, to] = resolveRange(q.dateRange, nowLocal);
  if (interval === 'minute' && to - from > 2 * DAY) throw invalid('minute intervals cover at most two days');
  if (interval === 'hour' && to - from > 93 * DAY) throw invalid('hour intervals cover at most 93 days');
  if (
    metrics.includes('conversion_rate') &&
    !dims.includes('event:name') &&
    !filters.some((f) => f.dim === 'event:name')
  )
    throw invalid('conversion_rate needs the event:name dimension or an event:name filter (the goal)');
  const limit = q.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw invalid('limit must be 1 to 10000');
  const dayAligned = from % DAY === 0 && to % DAY === 0;
  const available = rollupMetrics(dims[0]);
  const rollups =
    filters.length === 0 &&
    dims.length <= 1 &&
    dayAligned &&
    interval !== 'minute' &&
    !(interval === 'hour' && dims.length > 0) &&
    metrics.every((m) => available.has(m));
  return { metrics, dims, filters, interval, from, to, limit, rollups };
}

/** How a stats query may be answered, besides what it asks. */
export interface QueryOptions {
  /** Most visits a visit-level answer (goals, revenue) reads before it samples visitors. */
  readonly visitBudget: number;
}

/** The visit budget when none is configured (`analytics.visitBudget`). */
export const DEFAULT_VISIT_BUDGET = 50_000;

/** Rollups with imported aggregates added, cell by cell; imported cells exist at day grain only. */
function addImported(rows: AggregateRow[], imported: readonly AggregateRow[]): AggregateRow[] {
  const key = (r: AggregateRow) => JSON.stringify([r.bucket ?? 0, ...r.values]);
  const byKey = new Map(rows.map((r) => [key(r), { ...r, counters: { ...r.counters } }]));
  for (const r of imported) {
    const row = byKey.get(key(r));
    if (!row) byKey.set(key(r), r);
    else for (const k of Object.keys(row.counters) as (keyof Counters)[]) row.counters[k] += r.counters[k];
  }
  return [...byKey.values()];
}

/**
 * Answers a stats query for one site: goal and revenue questions from its visits, others from rollups
 * (with imported aggregates added) where they can, otherwise from raw events. Segment filters stand
 * for their segment's filters.
 */
export async function runQuery(
  reader: AnalyticsReader,
  site: Site,
  q: StatsQuery,
  now = Date.now(),
  options: QueryOptions = { visitBudget: DEFAULT_VISIT_BUDGET },
): Promise<StatsResult> {
  const filters = await expandSegments(
    parseFilters(q.filters, { code: 'QUERY_INVALID', segments: true }),
    segmentLoader(reader, site),
  );
  if (isGoalQuery(q, filters)) return runGoalQuery(reader, site, q, filters, now, options.visitBudget);
  const nowLocal = toLocal(now, site.timezone);
  const plan = planQuery(q, filters, nowLocal);
  const base = { tenant: site.tenant, site: site.id, from: plan.from, to: plan.to };
  const rollupInterval = plan.interval === 'minute' ? undefined : plan.interval;
  const withImports = q.imports !== false && plan.interval !== 'hour';
  let imported = false;
  const sumCells = async (dim: string | undefined): Promise<AggregateRow[]> => {
    const rows = await reader.sumRollups({
      ...base,
      grain: plan.interval === 'hour' ? 'hour' : 'day',
      dim,
      interval: rollupInterval,
    });
    if (!withImports || plan.interval === 'minute') return rows;
    const extra = await reader.sumImported({ ...base, dim, interval: plan.interval });
    if (extra.length > 0) imported = true;
    return extra.length > 0 ? addImported(rows, extra) : rows;
  };
  const rows: AggregateRow[] = plan.rollups
    ? await sumCells(plan.dims[0])
    : await reader.aggregateRaw({ ...base, dims: plan.dims, interval: plan.interval, filters: plan.filters });

  // Conversion rate divides by all of the site's visitors in the same bucket.
  const totals = new Map<number, number>();
  if (plan.metrics.includes('conversion_rate')) {
    const all =
      plan.interval === 'minute' || !(base.from % DAY === 0 && base.to % DAY === 0)
        ? await reader.aggregateRaw({ ...base, dims: [], interval: plan.interval, filters: [] })
        : plan.rollups
          ? await sumCells(undefined)
          : await reader.sumRollups({
              ...base,
              grain: plan.interval === 'hour' ? 'hour' : 'day',
              interval: rollupInterval,
            });
    for (const r of all) totals.set(r.bucket ?? 0, r.counters.visitors);
  }

  let out: AggregateRow[];
  if (plan.interval && plan.dims.length === 0) {
    // Charts want every bucket, including empty ones.
    const byBucket = new Map(rows.map((r) => [r.bucket!, r]));
    out = [];
    for (let b = bucketStart(plan.from, plan.interval); b < plan.to; b = nextBucket(b, plan.interval)) {
      out.push(byBucket.get(b) ?? { bucket: b, values: [], counters: zeroCounters() });
    }
  } else if (!plan.interval) {
    const first = plan.metrics[0]!;
    out = [...rows]
      .filter((r) => r.values.every((v) => v !== ''))
      .sort(
        (a, b) =>
          metricValue(first, b.counters, 1) - metricValue(first, a.counters, 1) ||
          (a.values[0]! < b.values[0]! ? -1 : 1),
      )
      .slice(0, plan.limit);
  } else {
    out = [...rows].sort((a, b) => a.bucket! - b.bucket! || b.counters.visitors - a.counters.visitors);
  }
  const withTime = plan.interval === 'minute' || plan.interval === 'hour';
  const today = startOfDay(nowLocal);
  return {
    results: out.map((r) => ({
      dimensions: [...(plan.interval ? [formatLocal(r.bucket!, withTime)] : []), ...r.values],
      metrics: plan.metrics.map((m) => metricValue(m, r.counters, totals.get(r.bucket ?? 0) ?? 0)),
    })),
    meta: {
      source: plan.rollups ? 'rollups' : 'events',
      timezone: site.timezone,
      closed: plan.to <= today,
      imported,
      sample: null,
    },
    query: {
      metrics: plan.metrics,
      dimensions: plan.dims,
      dateRange: [formatLocal(plan.from, false), formatLocal(plan.to - 1, false)],
      interval: plan.interval ?? null,
    },
  };
}
