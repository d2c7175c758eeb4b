/**
 * Journeys: the paths visits took into and out of one page, several pages deep, counted per path and
 * drawn as a flow (one column per step away from the page, links between them). A visit counts once,
 * at its first view of the page; reloads of one page in a row count as one step.
 */
import { BeaconError } from '../errors/catalog.ts';
import type { SessionRow, Site } from './model.ts';
import type { AnalyticsReader } from './store/repositories.ts';
import { analysisMeta, analysisScope, type AnalysisMeta, type AnalysisRequest } from './visit-analysis.ts';
import { forEachVisitGroup, sampleFor, sampleMeta } from './visit-sample.ts';

/** The body of `POST /v1/sites/:id/journeys`. */
export interface JourneyQuery extends AnalysisRequest {
  /** The page path the journeys pass through. */
  readonly page: string;
  /** Pages before and after it, 1–5 (default 3). */
  readonly depth?: number | undefined;
  /** Paths listed per direction, 1–100 (default 10). */
  readonly limit?: number | undefined;
}

/** Where a path ends before `depth` pages: the visit began, or left the site. */
export const ENTRANCE = '(entrance)';
export const EXIT = '(exit)';
/** Pages beyond the most visited few of a flow column are drawn together as this. */
export const OTHER = '(other)';

/** One path away from the page: the pages in order (nearest first), and the visits that took it. */
export interface JourneyPath {
  readonly pages: string[];
  readonly visits: number;
  /** Share of the page's visits, %. */
  readonly share: number;
}

/**
 * A flow diagram: `columns[d]` holds the pages d + 1 steps away; a link of depth d joins a page of
 * column d − 1 (or the page itself, for depth 1) to one of column d.
 */
export interface JourneyFlow {
  readonly columns: { page: string; visits: number }[][];
  readonly links: { depth: number; from: string; to: string; visits: number }[];
}

/** Paths and flow in one direction. */
export interface JourneyDirection {
  readonly paths: JourneyPath[];
  readonly flow: JourneyFlow;
}

/** The answer of journeys. */
export interface JourneyResult {
  readonly page: string;
  /** Visits that viewed the page. */
  readonly visits: number;
  readonly depth: number;
  readonly next: JourneyDirection;
  readonly previous: JourneyDirection;
  readonly meta: AnalysisMeta;
}

const invalid = (message: string) => new BeaconError('QUERY_INVALID', message);
/** Pages each flow column shows before the rest become `(other)`. */
const FLOW_NODES = 8;
/** Ranges journeys may cover, days. */
export const JOURNEY_MAX_DAYS = 366;

/** A visit's page views as pages, consecutive repeats dropped. */
function pagesOf(v: SessionRow): string[] {
  const out: string[] = [];
  for (const s of v.steps) if (s.name === 'pageview' && out.at(-1) !== s.page) out.push(s.page);
  return out;
}

/** Counts paths, then keeps the top `limit` and draws the flow from all of them. */
function direction(
  origin: string,
  counts: ReadonlyMap<string, number>,
  total: number,
  depth: number,
  limit: number,
  scale: number,
): JourneyDirection {
  const all = [...counts].map(([key, visits]) => ({ pages: JSON.parse(key) as string[], visits }));
  all.sort((a, b) => b.visits - a.visits || (a.pages.join('\0') < b.pages.join('\0') ? -1 : 1));
  const share = (n: number) => (total === 0 ? 0 : Number(((n * 100) / total).toFixed(2)));
  const columnCounts = Array.from({ length: depth }, () => new Map<string, number>());
  for (const { pages, visits } of all)
    pages.forEach((page, d) => columnCounts[d]!.set(page, (columnCounts[d]!.get(page) ?? 0) + visits));
  const shown = columnCounts.map((column) => {
    const top = [...column].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, FLOW_NODES);
    return new Set(top.map(([page]) => page));
  });
  const node = (d: number, page: string) => (shown[d]!.has(page) ? page : OTHER);
  const columns = columnCounts.map(() => new Map<string, number>());
  const links = new Map<string, number>();
  for (const { pages, visits } of all) {
    pages.forEach((page, d) => {
      const name = node(d, page);
      columns[d]!.set(name, (columns[d]!.get(name) ?? 0) + visits);
      const from = d === 0 ? origin : node(d - 1, pages[d - 1]!);
      const key = JSON.stringify([d, from, name]);
      links.set(key, (links.get(key) ?? 0) + visits);
    });
  }
  const scaled = (n: number) => Math.round(n * scale);
  return {
    paths: all
      .slice(0, limit)
      .map(({ pages, visits }) => ({ pages, visits: scaled(visits), share: share(visits) })),
    flow: {
      columns: columns.map((column) =>
        [...column]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
          .map(([page, visits]) => ({ page, visits: scaled(visits) })),
      ),
      links: [...links]
        .map(([key, visits]) => {
          const [d, from, to] = JSON.parse(key) as [number, string, string];
          return { depth: d + 1, from, to, visits: scaled(visits) };
        })
        .sort((a, b) => a.depth - b.depth || b.visits - a.visits || (a.from + a.to < b.from + b.to ? -1 : 1)),
    },
  };
}

/** Answers journeys through a page over a site's visits, sampled beyond `budget` visits. */
export async function runJourneys(
  reader: AnalyticsReader,
  site: Site,
  q: JourneyQuery,
  now: number,
  budget: number,
): Promise<JourneyResult> {
  if (typeof q.page !== 'string' || !q.page.startsWith('/'))
    throw invalid('page must be a path starting with /');
  const depth = q.depth ?? 3;
  if (!Number.isInteger(depth) || depth < 1 || depth > 5) throw invalid('depth must be 1 to 5');
  const limit = q.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid('limit must be 1 to 100');
  const scope = await analysisScope(reader, site, q, now, JOURNEY_MAX_DAYS);
  const sample = {
    ...(await sampleFor(reader, site, scope.from, scope.to, budget)),
    parts: scope.parts(true),
  };
  const next = new Map<string, number>();
  const previous = new Map<string, number>();
  let visits = 0;
  const count = (map: Map<string, number>, path: string[]) => {
    const key = JSON.stringify(path);
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  await forEachVisitGroup(reader, sample, (group) => {
    for (const v of group) {
      if (!scope.keep(v)) continue;
      const pages = pagesOf(v);
      const at = pages.indexOf(q.page);
      if (at < 0) continue;
      visits += 1;
      const after = pages.slice(at + 1, at + 1 + depth);
      if (after.length < depth) after.push(EXIT);
      const before = pages.slice(Math.max(0, at - depth), at).reverse();
      if (before.length < depth) before.push(ENTRANCE);
      count(next, after);
      count(previous, before);
    }
  });
  const { scale } = sampleMeta(sample.buckets);
  return {
    page: q.page,
    visits: Math.round(visits * scale),
    depth,
    next: direction(q.page, next, visits, depth, limit, scale),
    previous: direction(q.page, previous, visits, depth, limit, scale),
    meta: analysisMeta(site, scope, sample),
  };
}
