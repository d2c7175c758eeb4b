/**
 * A site's saved definitions as the analyses use them: goals by name, compiled to match steps, and
 * segments by id, as the filters they stand for.
 */
import { BeaconError } from '../errors/catalog.ts';
import { parseFilters, type RawFilters } from './filters.ts';
import { compileGoal, parseGoalSpec, type Goal } from './goals.ts';
import type { Filter, Site } from './model.ts';
import type { AnalyticsReader } from './store/repositories.ts';

/** A segment as stored and as the API takes it: the filters it stands for. */
export interface SegmentSpec {
  readonly filters: RawFilters;
}

/** Validates a segment's definition (SEGMENT_INVALID); its filters may name goals, not segments. */
export function parseSegmentSpec(raw: unknown): { spec: SegmentSpec; filters: Filter[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new BeaconError('SEGMENT_INVALID', 'a segment is an object with filters');
  const filters = parseFilters((raw as { filters?: RawFilters }).filters, {
    code: 'SEGMENT_INVALID',
    segments: false,
  });
  if (filters.length === 0) throw new BeaconError('SEGMENT_INVALID', 'a segment needs at least one filter');
  return { spec: { filters: filters.map((f) => [f.op, f.dim, f.values] as const) }, filters };
}

/** The site's goals by name, ready to match steps. */
export async function loadGoals(reader: AnalyticsReader, site: Site): Promise<Map<string, Goal>> {
  const rows = await reader.definitions(site.tenant, site.id, 'goal');
  return new Map(rows.map((d) => [d.name, compileGoal(d.name, parseGoalSpec(d.spec))]));
}

/** Looks a segment of the site up by id, as its filters (SEGMENT_UNKNOWN when the site has none such). */
export function segmentLoader(reader: AnalyticsReader, site: Site): (id: string) => Promise<Filter[]> {
  return async (id) => {
    const d = await reader.definition(site.tenant, site.id, 'segment', id);
    if (!d) throw new BeaconError('SEGMENT_UNKNOWN', `no segment ${id}`);
    return parseSegmentSpec(d.spec).filters;
  };
}
