/**
 * Visit-level analyses (goals, funnels, journeys, retention) read visits, not rollups. To keep each
 * one bounded by what it returns however large a site grows, they read at most a budget of visits:
 * when a range holds more, only the visitors of some of the 256 sample buckets are read and the
 * counts are scaled up, as Plausible samples large sites. A bucket is derived from the visitor id,
 * which is a hash, so buckets are even and a visitor's visits are all in one.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { SessionRow } from './model.ts';
import type { AnalyticsReader, VisitQuery } from './store/repositories.ts';

/** The base64url alphabet visitor ids are written in (their first two characters pick the bucket). */
export const SAMPLE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** How many sample buckets there are. */
export const SAMPLE_BUCKETS = 256;
/** Visits read per store call; the event loop is given back between calls. */
const PAGE = 5000;

/**
 * The sample bucket (0–255) of a visitor id: six bits from its first character and two from its
 * second. Written so SQL can compute the same (the migration that added buckets does).
 */
export function sampleOf(visitor: string): number {
  const first = SAMPLE_ALPHABET.indexOf(visitor.slice(0, 1));
  const second = SAMPLE_ALPHABET.indexOf(visitor.slice(1, 2));
  return Math.max(0, first * 4 + Math.trunc(second / 16));
}

/** Which visits an analysis reads: the site, local range, and how many buckets of 256. */
export interface VisitSample {
  readonly tenant: string;
  readonly site: string;
  readonly from: number;
  readonly to: number;
  /** Buckets 0 … buckets−1 are read; 256 means every visit. */
  readonly buckets: number;
  /** What of each visit the analysis reads (see `VisitQuery.parts`). */
  readonly parts?: VisitQuery['parts'];
}

/**
 * How many buckets keep the visits read near `budget`, given how many visits the range holds
 * (`expected`, from rollups). Always at least one bucket.
 */
export function bucketsFor(expected: number, budget: number): number {
  if (expected <= budget) return SAMPLE_BUCKETS;
  return Math.max(1, Math.ceil((SAMPLE_BUCKETS * budget) / expected));
}

/** What a sample stands for: the factor its counts are scaled by, and the share of visitors read. */
export function sampleMeta(buckets: number): { fraction: number; scale: number } {
  return { fraction: buckets / SAMPLE_BUCKETS, scale: SAMPLE_BUCKETS / buckets };
}

/**
 * Reads the sample's visits a page at a time, handing `group` every visit of a set of visitors at
 * once: the whole range when every bucket is read, else one bucket at a time (a visitor's visits
 * are all in one bucket). Yields to the event loop between pages, so a large read never holds it.
 */
export async function forEachVisitGroup(
  reader: AnalyticsReader,
  sample: VisitSample,
  group: (visits: SessionRow[]) => void,
): Promise<number> {
  let read = 0;
  const buckets: (number | undefined)[] =
    sample.buckets >= SAMPLE_BUCKETS ? [undefined] : Array.from({ length: sample.buckets }, (_, i) => i);
  for (const bucket of buckets) {
    const visits: SessionRow[] = [];
    let after: readonly [number, string] | undefined;
    for (;;) {
      const page = await reader.visits({
        tenant: sample.tenant,
        site: sample.site,
        from: sample.from,
        to: sample.to,
        sample: bucket,
        after,
        limit: PAGE,
        parts: sample.parts,
      });
      visits.push(...page);
      if (page.length < PAGE) break;
      const last = page.at(-1)!;
      after = [last.startedLocal, last.id];
      await yieldToLoop();
    }
    read += visits.length;
    if (visits.length > 0) group(visits);
    await yieldToLoop();
  }
  return read;
}

/**
 * The sample of a site's visits that started in [from, to) (local ms) to read for at most about
 * `budget` visits, judged by the visits the day rollups counted there.
 */
export async function sampleFor(
  reader: AnalyticsReader,
  site: { readonly tenant: string; readonly id: string },
  from: number,
  to: number,
  budget: number,
): Promise<VisitSample> {
  const DAY = 86_400_000;
  const totals = await reader.sumRollups({
    tenant: site.tenant,
    site: site.id,
    grain: 'day',
    from: Math.floor(from / DAY) * DAY,
    to: Math.ceil(to / DAY) * DAY,
  });
  const expected = totals[0]?.counters.visits ?? 0;
  return { tenant: site.tenant, site: site.id, from, to, buckets: bucketsFor(expected, budget) };
}
