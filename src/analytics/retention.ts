/**
 * Retention: visitors grouped by the day or week they were first seen (their cohort), and the share
 * of each cohort seen again in each later period. A visitor is their visitor id, so retention reaches
 * only as far as an id lasts: one UTC day with daily salts (nobody can be seen returning), one UTC
 * month with monthly salts. docs/analytics.md says what that trades.
 */
import { BeaconError } from '../errors/catalog.ts';
import type { SessionRow, Site } from './model.ts';
import type { AnalyticsReader } from './store/repositories.ts';
import { DAY, formatLocal, startOfDay, startOfWeek } from './time-zone.ts';
import {
  analysisMeta,
  analysisScope,
  type AnalysisMeta,
  type AnalysisRequest,
  type AnalysisScope,
} from './visit-analysis.ts';
import { forEachVisitGroup, sampleFor, sampleMeta } from './visit-sample.ts';

/** The body of `POST /v1/sites/:id/retention`. */
export interface RetentionQuery extends AnalysisRequest {
  /** Cohorts by first-seen `day` or `week` (Monday), in the site's zone. */
  readonly period: string;
}

/** One cohort: its period, its size, and how many of it came back in each period since (0 = its own). */
export interface Cohort {
  readonly start: string;
  readonly visitors: number;
  readonly returning: number[];
  /** `returning` as shares of the cohort, %. */
  readonly shares: number[];
}

/** The answer of retention. */
export interface RetentionResult {
  readonly period: 'day' | 'week';
  readonly cohorts: Cohort[];
  readonly meta: AnalysisMeta;
}

/** Longest range per period: 92 daily cohorts, 53 weekly ones. */
const MAX_DAYS = { day: 92, week: 371 } as const;

/**
 * How far before the range a visitor id may already have been seen, so that only visitors new in a
 * period join its cohort: one salt period (a UTC day or month), plus a day for the site's offset.
 */
const lookbackMs = (site: Site) => (site.saltRotation === 'monthly' ? 32 : 2) * DAY;

/** Answers retention over a site's visits, sampled beyond `budget` visits. */
export async function runRetention(
  reader: AnalyticsReader,
  site: Site,
  q: RetentionQuery,
  now: number,
  budget: number,
): Promise<RetentionResult> {
  if (q.period !== 'day' && q.period !== 'week')
    throw new BeaconError('QUERY_INVALID', 'period must be day or week');
  const period = q.period;
  const scope: AnalysisScope = await analysisScope(reader, site, q, now, MAX_DAYS[period]);
  const periodOf = period === 'day' ? startOfDay : startOfWeek;
  const first = periodOf(scope.from);
  const step = period === 'day' ? DAY : 7 * DAY;
  const count = Math.ceil((scope.to - first) / step);
  const sample = {
    ...(await sampleFor(reader, site, scope.from - lookbackMs(site), scope.to, budget)),
    parts: scope.parts(false),
  };
  // Per cohort: its visitors' sets of periods seen (as offsets from the cohort).
  const size = new Array<number>(count).fill(0);
  const returning = Array.from({ length: count }, () => new Array<number>(count).fill(0));
  const tally = (visits: readonly SessionRow[]) => {
    const seen = new Map<string, { first: number; periods: Set<number> }>();
    for (const v of visits) {
      if (!scope.keep(v)) continue;
      const p = Math.floor((periodOf(v.startedLocal) - first) / step);
      const entry = seen.get(v.visitor);
      if (entry) entry.periods.add(p);
      else seen.set(v.visitor, { first: p, periods: new Set([p]) });
    }
    for (const { first: cohort, periods } of seen.values()) {
      // Seen before the range (within the lookback): not new in any of its periods.
      if (cohort < 0 || cohort >= count) continue;
      size[cohort]! += 1;
      for (const p of periods) if (p >= cohort && p < count) returning[cohort]![p - cohort]! += 1;
    }
  };
  await forEachVisitGroup(reader, sample, tally);
  const { scale } = sampleMeta(sample.buckets);
  return {
    period,
    cohorts: size.map((n, c) => {
      const back = returning[c]!.slice(0, count - c);
      return {
        start: formatLocal(first + c * step, false),
        visitors: Math.round(n * scale),
        returning: back.map((r) => Math.round(r * scale)),
        shares: back.map((r) => (n === 0 ? 0 : Number(((r * 100) / n).toFixed(2)))),
      };
    }),
    meta: analysisMeta(site, scope, sample),
  };
}
