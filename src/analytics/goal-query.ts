/**
 * Goal and revenue metrics of the stats query, answered from visits: a goal is a pattern over a
 * visit's steps, so no rollup can hold its conversions in advance. The visits are read as a bounded
 * sample (`visit-sample.ts`) and judged in memory.
 */
import { BeaconError } from '../errors/catalog.ts';
import { loadGoals } from './definitions.ts';
import { GOAL_DIM, isVisitDim, visitParts, visitPredicate, visitValue } from './filters.ts';
import type { Goal } from './goals.ts';
import type { Filter, Interval, Site } from './model.ts';
import { bucketStart, resolveRange, type StatsQuery, type StatsResult } from './query.ts';
import { CURRENCY, units } from './revenue.ts';
import type { AnalyticsReader } from './store/repositories.ts';
import { formatLocal, startOfDay, toLocal } from './time-zone.ts';
import { forEachVisitGroup, sampleFor, sampleMeta, SAMPLE_BUCKETS } from './visit-sample.ts';

/**
 * Metrics of goal answers. `visitors` are the visitors of the row (the conversion rate's denominator),
 * `conversions` those of them who completed the goal, `events` the completions; revenue is the sum of
 * the completions' amounts in one currency, `average_revenue` per completion carrying revenue, and
 * `revenue_per_visitor` per visitor of the row.
 */
export const GOAL_METRICS = [
  'visitors',
  'conversions',
  'events',
  'conversion_rate',
  'total_revenue',
  'average_revenue',
  'revenue_per_visitor',
] as const;
type GoalMetric = (typeof GOAL_METRICS)[number];
/** Metrics only a goal answer has: asking for one makes a query a goal query. */
const GOAL_ONLY = new Set<string>(['conversions', 'total_revenue', 'average_revenue', 'revenue_per_visitor']);

const invalid = (message: string) => new BeaconError('QUERY_INVALID', message);

/** True when a query asks about goals or revenue, so visits must answer it. */
export function isGoalQuery(q: StatsQuery, filters: readonly Filter[]): boolean {
  return (
    (q.dimensions ?? []).includes(GOAL_DIM) ||
    filters.some((f) => f.dim === GOAL_DIM) ||
    q.metrics.some((m) => GOAL_ONLY.has(m))
  );
}

/** What one row of the answer collects. */
interface Cell {
  readonly visitors: Set<string>;
  readonly converted: Set<string>;
  events: number;
  revenue: number;
  revenueEvents: number;
}

const newCell = (): Cell => ({
  visitors: new Set(),
  converted: new Set(),
  events: 0,
  revenue: 0,
  revenueEvents: 0,
});

/** Answers a goal query (`isGoalQuery`); `filters` are parsed, with segments expanded. */
export async function runGoalQuery(
  reader: AnalyticsReader,
  site: Site,
  q: StatsQuery,
  filters: readonly Filter[],
  now: number,
  budget: number,
): Promise<StatsResult> {
  for (const m of q.metrics)
    if (!(GOAL_METRICS as readonly string[]).includes(m))
      throw invalid(`goal answers have the metrics ${GOAL_METRICS.join(', ')}; ${m} is not one`);
  const metrics = q.metrics as GoalMetric[];
  const dims = [...(q.dimensions ?? [])];
  if (dims.length > 2) throw invalid('at most two dimensions');
  for (const d of dims)
    if (d !== GOAL_DIM && !isVisitDim(d))
      throw invalid(`goal answers break down by event:goal and visit dimensions; ${d} is neither`);
  const interval = q.interval as Interval | undefined;
  if (interval !== undefined && !['day', 'week', 'month'].includes(interval))
    throw invalid('goal answers take a day, week or month interval');
  const currency = q.currency ?? site.currency;
  if (!CURRENCY.test(currency)) throw invalid('currency must be an ISO 4217 code such as EUR');
  const limit = q.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw invalid('limit must be 1 to 10000');

  const goals = await loadGoals(reader, site);
  const chosen = filters.filter((f) => f.dim === GOAL_DIM && f.op === 'is').flatMap((f) => f.values);
  for (const name of chosen)
    if (!goals.has(name)) throw new BeaconError('GOAL_UNKNOWN', `no goal named ${JSON.stringify(name)}`);
  const counted: Goal[] = chosen.length > 0 ? chosen.map((n) => goals.get(n)!) : [...goals.values()];
  const byGoal = dims.includes(GOAL_DIM);
  if (!byGoal && chosen.length === 0)
    throw invalid('goal metrics need the event:goal dimension or an event:goal filter');
  // `is` goal filters choose the goals that count as conversions; every other filter chooses visits.
  const keep = visitPredicate(
    filters.filter((f) => !(f.dim === GOAL_DIM && f.op === 'is')),
    goals,
  );

  const nowLocal = toLocal(now, site.timezone);
  const [from, to] = resolveRange(q.dateRange, nowLocal);
  const visitDims = dims.filter((d) => d !== GOAL_DIM);
  const sample = {
    ...(await sampleFor(reader, site, from, to, budget)),
    parts: visitDims.length > 0 ? ('all' as const) : visitParts(filters, true),
  };
  // Rows by key (bucket and visit values), and per goal within them when broken down by goal.
  const rows = new Map<string, { bucket: number; values: string[]; all: Cell; goals: Map<string, Cell> }>();
  const other = new Map<string, number>();
  await forEachVisitGroup(reader, sample, (visits) => {
    for (const v of visits) {
      if (!keep(v)) continue;
      const bucket = interval ? bucketStart(v.startedLocal, interval) : 0;
      const values = visitDims.map((d) => visitValue(d, v));
      const key = JSON.stringify([bucket, ...values]);
      let row = rows.get(key);
      if (!row) rows.set(key, (row = { bucket, values, all: newCell(), goals: new Map() }));
      row.all.visitors.add(v.visitor);
      for (const goal of counted) {
        const done = v.steps.filter((s) => goal.matches(s));
        if (done.length === 0) continue;
        const cells = byGoal ? [row.all, goalCell(row.goals, goal.name)] : [row.all];
        for (const cell of cells) {
          cell.converted.add(v.visitor);
          cell.events += done.length;
        }
        for (const s of done) {
          if (!s.revenue) continue;
          if (s.revenue.currency !== currency) {
            other.set(s.revenue.currency, (other.get(s.revenue.currency) ?? 0) + s.revenue.milli);
            continue;
          }
          for (const cell of cells) {
            cell.revenue += s.revenue.milli;
            cell.revenueEvents += 1;
          }
        }
      }
    }
  });

  const { scale } = sampleMeta(sample.buckets);
  const value = (m: GoalMetric, cell: Cell, visitors: number): number => {
    const per = (a: number, b: number, digits: number) => (b === 0 ? 0 : Number((a / b).toFixed(digits)));
    switch (m) {
      case 'visitors':
        return Math.round(visitors * scale);
      case 'conversions':
        return Math.round(cell.converted.size * scale);
      case 'events':
        return Math.round(cell.events * scale);
      case 'conversion_rate':
        return per(cell.converted.size * 100, visitors, 2);
      case 'total_revenue':
        return Number(units(cell.revenue * scale).toFixed(3));
      case 'average_revenue':
        return per(units(cell.revenue), cell.revenueEvents, 3);
      case 'revenue_per_visitor':
        return per(units(cell.revenue), visitors, 3);
    }
  };
  const label = (bucket: number) => (interval ? [formatLocal(bucket, false)] : []);
  const out: { dimensions: string[]; metrics: number[]; sort: number; bucket: number }[] = [];
  for (const row of rows.values()) {
    const visitors = row.all.visitors.size;
    const cells = byGoal
      ? [...row.goals].map(([name, cell]) => ({ name, cell }))
      : [{ name: '', cell: row.all }];
    for (const { name, cell } of cells) {
      const dimensions = [
        ...label(row.bucket),
        ...dims.map((d) => (d === GOAL_DIM ? name : row.values[visitDims.indexOf(d)]!)),
      ];
      const m = metrics.map((metric) => value(metric, cell, visitors));
      out.push({ dimensions, metrics: m, sort: m[0] ?? 0, bucket: row.bucket });
    }
  }
  out.sort(
    (a, b) =>
      a.bucket - b.bucket || b.sort - a.sort || (a.dimensions.join('\0') < b.dimensions.join('\0') ? -1 : 1),
  );
  const revenueAsked = metrics.some((m) => m.includes('revenue'));
  return {
    results: out.slice(0, limit).map(({ dimensions, metrics: m }) => ({ dimensions, metrics: m })),
    meta: {
      source: 'visits',
      timezone: site.timezone,
      closed: to <= startOfDay(nowLocal),
      imported: false,
      sample: sample.buckets < SAMPLE_BUCKETS ? { fraction: sampleMeta(sample.buckets).fraction } : null,
      ...(revenueAsked && {
        currency,
        otherCurrencies: Object.fromEntries(
          [...other].sort(([a], [b]) => (a < b ? -1 : 1)).map(([c, milli]) => [c, units(milli * scale)]),
        ),
      }),
    },
    query: {
      metrics: [...metrics],
      dimensions: dims,
      dateRange: [formatLocal(from, false), formatLocal(to - 1, false)],
      interval: interval ?? null,
    },
  };
}

function goalCell(cells: Map<string, Cell>, name: string): Cell {
  let cell = cells.get(name);
  if (!cell) cells.set(name, (cell = newCell()));
  return cell;
}
