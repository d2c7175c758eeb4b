/**
 * The rules that turn a site's collected events into sessions (visits), event rows and rollup changes,
 * and the dimensions they break visits and events down by. Every path that projects events follows
 * them: the sink (`projection.ts`), reprocessing, and the benchmark's generated history.
 */
import type { EventRow, Revenue, SessionRow, Site } from './model.ts';
import { RollupAccumulator } from './rollup.ts';
import { continuesSession, isBounce, sessionId } from './session.ts';
import { pagePath, parseSource } from './source.ts';
import { startOfDay, startOfHour, toLocal } from './time-zone.ts';
import { parseUserAgent } from './user-agent.ts';
import { sampleOf } from './visit-sample.ts';
import { withStep } from './visit-steps.ts';

/** One collected page view or custom event, as the log carries it (record body plus key and time). */
export interface CollectedEvent {
  readonly key: string;
  readonly ts: number;
  readonly visitor: string;
  /** `pageview`, or a custom event's name. */
  readonly name: string;
  readonly url: string;
  readonly referrer: string;
  readonly userAgent: string;
  readonly props: Readonly<Record<string, string>>;
  /** Money the event carries (a purchase, say), when it carries any. */
  readonly revenue?: Revenue | undefined;
}

/** The event name of a page view; any other name is a custom event. */
export const PAGEVIEW = 'pageview';

/** Dimension names, in the spirit of Plausible's Stats API v2: a visit's, fixed at its start. */
export const SESSION_DIMS = [
  'visit:source',
  'visit:referrer',
  'visit:utm_source',
  'visit:utm_medium',
  'visit:utm_campaign',
  'visit:device',
  'visit:browser',
  'visit:os',
  'visit:entry_page',
] as const;
/** An event's own dimensions. */
export const EVENT_DIMS = ['event:page', 'event:name'] as const;
/** The visit's last page: it moves as the visit goes on, so it is kept apart from `SESSION_DIMS`. */
export const EXIT_DIM = 'visit:exit_page';
/** A custom event's property `KEY` is the dimension `event:props:KEY`. */
export const PROPS_PREFIX = 'event:props:';

/** The value of each session-level dimension; empty values (no UTM, no referrer) are not broken down. */
export function sessionValues(s: SessionRow): [string, string][] {
  const pairs: [string, string][] = [
    ['visit:source', s.source],
    ['visit:referrer', s.referrer],
    ['visit:utm_source', s.utmSource],
    ['visit:utm_medium', s.utmMedium],
    ['visit:utm_campaign', s.utmCampaign],
    ['visit:device', s.device],
    ['visit:browser', s.browser],
    ['visit:os', s.os],
    ['visit:entry_page', s.entryPage],
  ];
  return pairs.filter(([, v]) => v !== '');
}

/** The step an event adds to its visit. */
function stepOf(e: CollectedEvent, page: string, startedAt: number) {
  if (e.name === PAGEVIEW) return { at: e.ts - startedAt, page, name: PAGEVIEW };
  return {
    at: e.ts - startedAt,
    page,
    name: e.name,
    props: Object.keys(e.props).length > 0 ? e.props : undefined,
    revenue: e.revenue,
  };
}

/** What one batch changes: event rows to insert, sessions to upsert, and rollup changes. */
export interface BatchProjection {
  readonly events: EventRow[];
  readonly sessions: SessionRow[];
  readonly rollups: RollupAccumulator;
}

/**
 * Projects new events (already deduplicated by key) of one site: assigns each to a session (30-minute
 * rule), and turns it into rollup changes. Totals count page views and events in their own buckets and
 * visits, bounces and duration in the bucket where the visit started; breakdowns by a visit dimension
 * (source, device, entry page…) count everything of the visit in the day it started.
 * Visitors are noted per cell and counted once the store says which (cell, visitor) pairs are new.
 *
 * `prior` holds each visitor's latest stored session and is updated in place, so a caller may feed
 * consecutive batches through one map.
 */
export function projectEvents(
  site: Site,
  events: readonly CollectedEvent[],
  prior: Map<string, SessionRow>,
  rollups = new RollupAccumulator(),
): BatchProjection {
  const ownHosts = [site.domain, ...site.allowedDomains];
  const touched = new Map<string, SessionRow>();
  // A session's dimension values never change (exit page is kept apart), so compute them once.
  const dimsOf = new Map<string, [string, string][]>();
  const valuesOf = (s: SessionRow) => {
    let values = dimsOf.get(s.id);
    if (!values) dimsOf.set(s.id, (values = sessionValues(s)));
    return values;
  };
  const rows: EventRow[] = [];
  const sorted = [...events].sort((a, b) => a.ts - b.ts);

  for (const e of sorted) {
    const local = toLocal(e.ts, site.timezone);
    const hour = startOfHour(local);
    const day = startOfDay(local);
    const page = pagePath(e.url);
    const isPageview = e.name === PAGEVIEW;
    const count = isPageview ? { pageviews: 1 } : { events: 1 };
    let s = prior.get(e.visitor);

    if (!s || !continuesSession(s, e.ts)) {
      const source = parseSource(e.url, e.referrer, ownHosts);
      const ua = parseUserAgent(e.userAgent);
      s = {
        tenant: site.tenant,
        site: site.id,
        id: sessionId(e.visitor, e.ts),
        visitor: e.visitor,
        startedAt: e.ts,
        startedLocal: local,
        lastAt: e.ts,
        pageviews: isPageview ? 1 : 0,
        events: isPageview ? 0 : 1,
        entryPage: page,
        exitPage: page,
        ...source,
        ...ua,
        sample: sampleOf(e.visitor),
        steps: [],
      };
      const start = { visits: 1, bounces: 1 };
      rollups.add('hour', hour, '', '', start);
      rollups.add('day', day, '', '', start);
      // A visit's dimension values never change, so its visitor is noted for them once, at its start.
      for (const [dim, value] of valuesOf(s)) {
        rollups.add('day', day, dim, value, { ...start, ...count });
        rollups.visit('day', day, dim, value, e.visitor);
      }
      rollups.add('day', day, EXIT_DIM, page, { visits: 1 });
    } else {
      const before = s;
      const later = e.ts > before.lastAt;
      s = {
        ...before,
        lastAt: later ? e.ts : before.lastAt,
        pageviews: before.pageviews + (isPageview ? 1 : 0),
        events: before.events + (isPageview ? 0 : 1),
        exitPage: later && isPageview ? page : before.exitPage,
      };
      const change = {
        bounces: (isBounce(s) ? 1 : 0) - (isBounce(before) ? 1 : 0),
        duration: s.lastAt - before.lastAt,
      };
      const sDay = startOfDay(s.startedLocal);
      if (change.bounces !== 0 || change.duration !== 0) {
        rollups.add('hour', startOfHour(s.startedLocal), '', '', change);
        rollups.add('day', sDay, '', '', change);
      }
      // Breakdowns by visit dimensions count the visit's page views and events with the visit.
      for (const [dim, value] of valuesOf(s)) rollups.add('day', sDay, dim, value, { ...change, ...count });
      if (s.exitPage !== before.exitPage) {
        rollups.add('day', sDay, EXIT_DIM, before.exitPage, { visits: -1 });
        rollups.add('day', sDay, EXIT_DIM, s.exitPage, { visits: 1 });
      }
    }
    s = { ...s, steps: withStep(s.steps, stepOf(e, page, s.startedAt)) };
    // A late event that opened an older session must not hide the visitor's latest one.
    const latest = prior.get(e.visitor);
    if (!latest || latest.id === s.id || s.lastAt >= latest.lastAt) prior.set(e.visitor, s);
    touched.set(s.id, s);

    rollups.add('hour', hour, '', '', count);
    rollups.add('day', day, '', '', count);
    rollups.visit('hour', hour, '', '', e.visitor);
    rollups.visit('day', day, '', '', e.visitor);
    if (isPageview) {
      rollups.add('day', day, 'event:page', page, count);
      rollups.visit('day', day, 'event:page', page, e.visitor);
    } else {
      rollups.add('day', day, 'event:name', e.name, count);
      rollups.visit('day', day, 'event:name', e.name, e.visitor);
      for (const [k, v] of Object.entries(e.props)) {
        rollups.add('day', day, PROPS_PREFIX + k, v, count);
        rollups.visit('day', day, PROPS_PREFIX + k, v, e.visitor);
      }
    }
    rows.push({
      tenant: site.tenant,
      site: site.id,
      key: e.key,
      ts: e.ts,
      local,
      session: s.id,
      visitor: e.visitor,
      name: e.name,
      page,
      props: e.props,
    });
  }
  return { events: rows, sessions: [...touched.values()], rollups };
}
