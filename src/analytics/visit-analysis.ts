/**
 * What funnels, journeys and retention share: the request's range and filters (segments expanded,
 * goals resolved) turned into a test on visits, and the answer's meta.
 */
import { BeaconError } from '../errors/catalog.ts';
import { loadGoals, segmentLoader } from './definitions.ts';
import { expandSegments, parseFilters, visitParts, visitPredicate, type RawFilters } from './filters.ts';
import type { Goal } from './goals.ts';
import type { SessionRow, Site } from './model.ts';
import { resolveRange, type SampleMeta } from './query.ts';
import type { AnalyticsReader } from './store/repositories.ts';
import { formatLocal, startOfDay, toLocal } from './time-zone.ts';
import { sampleMeta, SAMPLE_BUCKETS, type VisitSample } from './visit-sample.ts';

/** The part of every visit-level request that says which visits count. */
export interface AnalysisRequest {
  readonly dateRange: string | readonly string[];
  readonly filters?: RawFilters | undefined;
}

/** A request's visits: the local range, the site's goals, and the test each visit must pass. */
export interface AnalysisScope {
  readonly from: number;
  readonly to: number;
  readonly nowLocal: number;
  readonly goals: ReadonlyMap<string, Goal>;
  readonly keep: (visit: SessionRow) => boolean;
  /** What of each visit to read, for an analysis that needs steps or not (see `VisitQuery.parts`). */
  readonly parts: (steps: boolean) => 'all' | 'steps' | 'visitors';
}

/** The meta every visit-level answer carries. */
export interface AnalysisMeta {
  readonly timezone: string;
  readonly dateRange: [string, string];
  /** True when the range ended before today began in the site's zone. */
  readonly closed: boolean;
  readonly sample: SampleMeta | null;
  readonly saltRotation: Site['saltRotation'];
}

/** Resolves a request's range and filters for a site (QUERY_INVALID, SEGMENT_UNKNOWN, GOAL_UNKNOWN). */
export async function analysisScope(
  reader: AnalyticsReader,
  site: Site,
  request: AnalysisRequest,
  now: number,
  maxDays: number,
): Promise<AnalysisScope> {
  const nowLocal = toLocal(now, site.timezone);
  const [from, to] = resolveRange(request.dateRange, nowLocal);
  if (to - from > maxDays * 86_400_000)
    throw new BeaconError('QUERY_INVALID', `dateRange: at most ${maxDays} days here`);
  const filters = await expandSegments(
    parseFilters(request.filters, { code: 'QUERY_INVALID', segments: true }),
    segmentLoader(reader, site),
  );
  const goals = await loadGoals(reader, site);
  return {
    from,
    to,
    nowLocal,
    goals,
    keep: visitPredicate(filters, goals),
    parts: (steps) => visitParts(filters, steps),
  };
}

/** The meta of an answer over `scope`, read through `sample`. */
export function analysisMeta(site: Site, scope: AnalysisScope, sample: VisitSample): AnalysisMeta {
  return {
    timezone: site.timezone,
    dateRange: [formatLocal(scope.from, false), formatLocal(scope.to - 1, false)],
    closed: scope.to <= startOfDay(scope.nowLocal),
    sample: sample.buckets < SAMPLE_BUCKETS ? { fraction: sampleMeta(sample.buckets).fraction } : null,
    saltRotation: site.saltRotation,
  };
}

/** Groups visits by visitor, each visitor's in time order (they come in (started_local, id) order). */
export function byVisitor(visits: readonly SessionRow[]): Map<string, SessionRow[]> {
  const out = new Map<string, SessionRow[]>();
  for (const v of visits) {
    let list = out.get(v.visitor);
    if (!list) out.set(v.visitor, (list = []));
    list.push(v);
  }
  return out;
}

/** The middle value (the mean of the two middle ones for an even count); null for none. */
export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
