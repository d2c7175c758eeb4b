/**
 * Filters, as every analytics query takes them: `[op, dimension, [values]]`. Besides the stats
 * dimensions, `event:goal` names goals and `["is", "segment", [ID]]` stands for a saved segment's
 * filters, so a segment is usable wherever a filter is. This module parses them, expands segments,
 * and judges a whole visit by them (what the visit-level analyses do).
 */
import { BeaconError } from '../errors/catalog.ts';
import { EVENT_DIMS, EXIT_DIM, PROPS_PREFIX, SESSION_DIMS } from './event-rules.ts';
import { propertyMatcher, type Goal } from './goals.ts';
import type { Filter, SessionRow } from './model.ts';

/** The filter dimension that names goals. */
export const GOAL_DIM = 'event:goal';
/** The filter dimension that names a saved segment. */
export const SEGMENT_DIM = 'segment';

const PROP_DIM = /^event:props:[A-Za-z0-9_.-]{1,64}$/;
const FIXED_DIMS = new Set<string>([...SESSION_DIMS, ...EVENT_DIMS, EXIT_DIM]);

/** A dimension the stats can break down or filter by (not goals or segments). */
export const isStatsDim = (d: string): boolean => FIXED_DIMS.has(d) || PROP_DIM.test(d);

/** Raw filters as a request carries them. */
export type RawFilters = readonly (readonly [string, string, readonly string[]])[];

/**
 * Validates filters, naming the first bad one with `code`. `segments: false` refuses `segment`
 * filters (a segment may not contain another).
 */
export function parseFilters(
  raw: RawFilters | undefined,
  options: { code: 'QUERY_INVALID' | 'SEGMENT_INVALID'; segments: boolean },
): Filter[] {
  const invalid = (message: string) => new BeaconError(options.code, message);
  if (raw !== undefined && (!Array.isArray(raw) || raw.length > 20))
    throw invalid('filters must be a list of at most 20 filters');
  return (raw ?? []).map((f, i) => {
    if (!Array.isArray(f) || f.length !== 3) throw invalid(`filters[${i}] must be [op, dimension, [values]]`);
    const [op, dim, values] = f as unknown[];
    if (op !== 'is' && op !== 'is_not' && op !== 'contains')
      throw invalid(`filters[${i}]: op must be is, is_not or contains`);
    if (typeof dim !== 'string') throw invalid(`filters[${i}]: the dimension must be a string`);
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      values.length > 100 ||
      values.some((v) => typeof v !== 'string')
    )
      throw invalid(`filters[${i}]: values must be a non-empty list of strings`);
    if (dim === SEGMENT_DIM) {
      if (!options.segments) throw invalid(`filters[${i}]: a segment cannot contain another segment`);
      if (op !== 'is' || values.length !== 1)
        throw invalid(`filters[${i}]: a segment filter is ["is", "segment", [SEGMENT_ID]]`);
    } else if (dim === GOAL_DIM) {
      if (op === 'contains') throw invalid(`filters[${i}]: goals are filtered with is or is_not`);
    } else if (!isStatsDim(dim)) throw invalid(`filters[${i}]: unknown dimension ${dim}`);
    return { op, dim, values: values as string[] };
  });
}

/**
 * Replaces each `segment` filter by the filters of the segment it names (looked up by `segment`,
 * which throws SEGMENT_UNKNOWN for an id the site lacks).
 */
export async function expandSegments(
  filters: readonly Filter[],
  segment: (id: string) => Promise<readonly Filter[]>,
): Promise<Filter[]> {
  const out: Filter[] = [];
  for (const f of filters) {
    if (f.dim === SEGMENT_DIM) out.push(...(await segment(f.values[0]!)));
    else out.push(f);
  }
  return out;
}

/** A visit's value of a visit dimension. */
const VISIT_COLUMNS: Readonly<Record<string, (v: SessionRow) => string>> = {
  'visit:source': (v) => v.source,
  'visit:referrer': (v) => v.referrer,
  'visit:utm_source': (v) => v.utmSource,
  'visit:utm_medium': (v) => v.utmMedium,
  'visit:utm_campaign': (v) => v.utmCampaign,
  'visit:device': (v) => v.device,
  'visit:browser': (v) => v.browser,
  'visit:os': (v) => v.os,
  'visit:entry_page': (v) => v.entryPage,
  'visit:exit_page': (v) => v.exitPage,
};

/** True for the dimensions a visit has one value of (source, device, entry page…). */
export const isVisitDim = (dim: string): boolean => dim in VISIT_COLUMNS;

/** The value of a visit dimension (`isVisitDim`), for breakdowns. */
export const visitValue = (dim: string, v: SessionRow): string => VISIT_COLUMNS[dim]!(v);

/** ASCII letters folded, as SQLite's LIKE does for `contains`. */
const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function valueMatcher(f: Filter): (value: string | undefined) => boolean {
  if (f.op === 'contains') {
    const needles = f.values.map(fold);
    return (value) => value !== undefined && needles.some((n) => fold(value).includes(n));
  }
  const values = new Set(f.values);
  return (value) => values.has(value ?? '');
}

/**
 * Judges a whole visit. A filter on a visit dimension tests the visit's value. A filter on an event
 * dimension or on goals asks about the visit's steps: `is` and `contains` hold when some step matches,
 * `is_not` when none does (a visit that never saw /pricing, say). All filters must hold.
 */
export function visitPredicate(
  filters: readonly Filter[],
  goals: ReadonlyMap<string, Goal>,
): (visit: SessionRow) => boolean {
  const tests = filters.map((f): ((v: SessionRow) => boolean) => {
    const column = VISIT_COLUMNS[f.dim];
    if (column) {
      const match = valueMatcher(f);
      return f.op === 'is_not' ? (v) => !match(column(v)) : (v) => match(column(v));
    }
    let step: (s: SessionRow['steps'][number]) => boolean;
    if (f.dim === GOAL_DIM) {
      const named = f.values.map((name) => {
        const goal = goals.get(name);
        if (!goal) throw new BeaconError('GOAL_UNKNOWN', `no goal named ${JSON.stringify(name)}`);
        return goal;
      });
      step = (s) => named.some((g) => g.matches(s));
    } else if (f.dim.startsWith(PROPS_PREFIX)) {
      const has = propertyMatcher({
        ...f,
        op: f.op === 'is_not' ? 'is' : f.op,
        dim: f.dim.slice(PROPS_PREFIX.length),
      });
      step = (s) => s.name !== 'pageview' && has(s.props);
    } else {
      const match = valueMatcher(f);
      step = f.dim === 'event:name' ? (s) => match(s.name) : (s) => match(s.page);
    }
    return f.op === 'is_not' ? (v) => !v.steps.some(step) : (v) => v.steps.some(step);
  });
  return (v) => tests.every((t) => t(v));
}

/**
 * The least of each visit that `filters` (and an analysis needing `steps` or not) can be judged on:
 * the visit's own dimensions need `all`; events, pages, properties and goals need `steps`.
 */
export function visitParts(filters: readonly Filter[], steps: boolean): 'all' | 'steps' | 'visitors' {
  if (filters.some((f) => isVisitDim(f.dim))) return 'all';
  return steps || filters.length > 0 ? 'steps' : 'visitors';
}
