import { SAMPLE_ALPHABET } from '../visit-sample.ts';

/**
 * What both backends' stats SQL shares about dimensions, in queries that join `analytics_events e`
 * with `analytics_sessions s`: the column of each fixed dimension, the key of a property dimension,
 * and the LIKE pattern of a `contains` filter.
 */

/** The column each fixed dimension reads; any other dimension is an `event:props:KEY` property. */
export const DIMENSION_COLUMNS: Readonly<Record<string, string>> = {
  'visit:source': 's.source',
  'visit:referrer': 's.referrer',
  'visit:utm_source': 's.utm_source',
  'visit:utm_medium': 's.utm_medium',
  'visit:utm_campaign': 's.utm_campaign',
  'visit:device': 's.device',
  'visit:browser': 's.browser',
  'visit:os': 's.os',
  'visit:entry_page': 's.entry_page',
  'visit:exit_page': 's.exit_page',
  'event:page': 'e.page',
  'event:name': 'e.name',
};

/** The property key of an `event:props:KEY` dimension, bound as a parameter; double quotes are dropped. */
export const propertyKey = (dim: string): string => dim.slice('event:props:'.length).replace(/"/g, '');

/** A LIKE pattern (with ESCAPE '\') that matches `value` anywhere, its wildcards taken literally. */
export const containsPattern = (value: string): string => `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The sample bucket of `visitor`, as `sampleOf` computes it, in SQL: `find` is the backend's
 * 1-based substring position (`instr`, `strpos`) and `max` its two-argument maximum.
 */
export const visitorSampleSql = (find: string, max: string): string =>
  `${max}(0, (${find}('${SAMPLE_ALPHABET}', substr(visitor, 1, 1)) - 1) * 4 + (${find}('${SAMPLE_ALPHABET}', substr(visitor, 2, 1)) - 1) / 16)`;

/** Every table holding a site's rows by (tenant, site): what deleting a site empties. */
export const SITE_TABLES = [
  'analytics_events',
  'analytics_sessions',
  'analytics_rollups',
  'analytics_seen',
  'analytics_definitions',
  'analytics_shared_links',
  'analytics_reports',
  'analytics_outbox',
  'analytics_imports',
  'analytics_imported',
] as const;

/**
 * What `visits()` reads of each visit: everything, or (cheaper, for analyses that look at no visit
 * dimension) the visitor, times and steps, or the visitor and times only. Parts not read come back
 * empty, so one row mapper serves all three.
 */
export const VISIT_PARTS = {
  all: '*',
  steps: `tenant, site, id, visitor, started_at, started_local, 0 AS last_at, 0 AS pageviews, 0 AS events,
    '' AS entry_page, '' AS exit_page, '' AS source, '' AS referrer, '' AS utm_source, '' AS utm_medium,
    '' AS utm_campaign, '' AS device, '' AS browser, '' AS os, sample, steps`,
  visitors: `tenant, site, id, visitor, started_at, started_local, 0 AS last_at, 0 AS pageviews, 0 AS events,
    '' AS entry_page, '' AS exit_page, '' AS source, '' AS referrer, '' AS utm_source, '' AS utm_medium,
    '' AS utm_campaign, '' AS device, '' AS browser, '' AS os, sample, '[]' AS steps`,
} as const;
