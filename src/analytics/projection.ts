import type { LogRecord } from '../log/record.ts';
import type { Projection } from '../sink/projection.ts';
import type { AnalyticsWriters } from './store/repositories.ts';
import type { SessionRow, Site } from './model.ts';
import type { AnalyticsWriter } from './store/repositories.ts';
import { projectEvents, type CollectedEvent } from './event-rules.ts';
import { CURRENCY, parseAmount } from './revenue.ts';
import { DAY, startOfDay, toLocal } from './time-zone.ts';

/**
 * Seen marks are kept while events can still reach their cells: events are at most an hour older than
 * their receipt, and the log delivers in receipt order, so marks of days before yesterday (in the site's
 * zone, relative to the batch being projected) can go. Without this the table grows with every event.
 */
const SEEN_KEEP_MS = DAY;

/** The body of a `pageviews` record, as /v1/collect appends it (docs/wire-format.md). */
export interface PageviewBody {
  readonly site: string;
  readonly visitor: string;
  readonly name: string;
  readonly url: string;
  readonly referrer: string;
  readonly ua: string;
  readonly props: Record<string, string>;
  /** Money a custom event carries: the amount as a decimal string and an ISO 4217 code. */
  readonly revenue?: { readonly amount: string; readonly currency: string };
}

/** Reads a record body; a malformed one is skipped (and counted) rather than blocking the sink. */
export function toCollected(record: LogRecord): (CollectedEvent & { site: string }) | undefined {
  const b = record.body as Partial<PageviewBody> | null;
  if (!b || typeof b.site !== 'string' || typeof b.visitor !== 'string' || typeof b.name !== 'string') {
    return undefined;
  }
  return {
    site: b.site,
    key: record.key,
    ts: record.ts,
    visitor: b.visitor,
    name: b.name,
    url: typeof b.url === 'string' ? b.url : '',
    referrer: typeof b.referrer === 'string' ? b.referrer : '',
    userAgent: typeof b.ua === 'string' ? b.ua : '',
    props: b.props && typeof b.props === 'object' ? b.props : {},
    revenue: revenueOf(b.revenue),
  };
}

/** A body's revenue, when it carries a valid one. */
function revenueOf(value: PageviewBody['revenue'] | undefined): CollectedEvent['revenue'] {
  if (!value || typeof value.currency !== 'string' || !CURRENCY.test(value.currency)) return undefined;
  const milli = parseAmount(value.amount);
  return milli === undefined ? undefined : { milli, currency: value.currency };
}

/**
 * Projects one site's events inside a transaction: skips keys already projected (redelivery), continues
 * or starts sessions, writes events and sessions, counts visitors new to each cell, and adds the rollups.
 * Returns how many events were new.
 */
export async function projectSiteEvents(
  tx: AnalyticsWriter,
  site: Site,
  events: readonly CollectedEvent[],
): Promise<number> {
  const existing = await tx.existingKeys(
    site.tenant,
    events.map((e) => e.key),
  );
  const seenKeys = new Set<string>();
  const fresh = events.filter((e) => !existing.has(e.key) && !seenKeys.has(e.key) && seenKeys.add(e.key));
  if (fresh.length === 0) return 0;
  const visitors = [...new Set(fresh.map((e) => e.visitor))];
  const prior = new Map<string, SessionRow>(
    (await tx.latestSessions(site.tenant, site.id, visitors)).map((s) => [s.visitor, s]),
  );
  const batch = projectEvents(site, fresh, prior);
  batch.rollups.countVisitors(await tx.markSeen(site.tenant, site.id, batch.rollups.seen()));
  await tx.insertEvents(batch.events);
  await tx.upsertSessions(batch.sessions);
  await tx.addRollups(site.tenant, site.id, batch.rollups.deltas());
  return fresh.length;
}

/** Groups a batch's records by site; records of unknown sites or bad bodies are dropped. */
export async function projectRecords(tx: AnalyticsWriters, records: readonly LogRecord[]): Promise<number> {
  const bySite = new Map<string, { tenant: string; site: string; events: CollectedEvent[] }>();
  for (const record of records) {
    const event = toCollected(record);
    if (!event) continue;
    const key = `${record.tenant}\0${event.site}`;
    let group = bySite.get(key);
    if (!group) bySite.set(key, (group = { tenant: record.tenant, site: event.site, events: [] }));
    group.events.push(event);
  }
  let inserted = 0;
  const received = records[0]?.receivedAt ?? Date.now();
  for (const group of bySite.values()) {
    const site = await tx.analytics.site(group.site);
    // A deleted site, or a record whose tenant does not own the site, projects nothing.
    if (!site || site.tenant !== group.tenant) continue;
    inserted += await projectSiteEvents(tx.analytics, site, group.events);
    const horizon = startOfDay(toLocal(received - 3_600_000, site.timezone)) - SEEN_KEEP_MS;
    await tx.analytics.pruneSeen(site.tenant, site.id, horizon);
  }
  return inserted;
}

/** The `pageviews` stream's sink: sessions, events and rollups, fresh within the sink's batch latency. */
export const analyticsProjection: Projection<AnalyticsWriters> = {
  stream: 'pageviews',
  group: 'sink-analytics',
  apply: projectRecords,
};
