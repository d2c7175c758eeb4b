import { covers, currentOrNext, occurrenceAt, type MaintenanceWindow } from '../maintenance.ts';
import { stateOf, type Incident } from '../model.ts';
import { ROLLUP_MS } from '../rollup.ts';
import type { ListedTarget, MonitorRepositories } from '../store/repositories.ts';
import type { StatusPage, StatusUpdate } from '../status-page.ts';
import { addressOf, type Target } from '../target.ts';

const DAY = ROLLUP_MS.day;
/** Days of uptime bars a page shows. */
export const BAR_DAYS = 90;
/** Incidents a page reads over its 90 days; the newest are kept. */
const MAX_INCIDENTS = 500;
/** Updates a page shows (and its feed carries), newest first. */
export const MAX_UPDATES = 50;
/** Maintenance windows read per tenant: a tenant has few. */
const MAX_WINDOWS = 1000;
/** How far ahead a page announces maintenance. */
const UPCOMING_MS = 7 * DAY;

/** A target's state as a public page shows it, worst first in `STATE_RANK`. */
export type PublicState = 'down' | 'degraded' | 'maintenance' | 'up' | 'unknown' | 'paused';
const STATE_RANK: Record<PublicState, number> = {
  down: 0,
  degraded: 1,
  maintenance: 2,
  up: 3,
  unknown: 4,
  paused: 5,
};

/** One day of a target's bar: its uptime from the day rollups and the incidents that touched it. */
export interface DayBar {
  readonly start: number;
  readonly checks: number;
  /** Percent up; null when the day has no checks. */
  readonly uptime: number | null;
  readonly incidents: readonly PublicIncident[];
}

/** An incident as a public page tells it: which target, where, when and why. */
export interface PublicIncident {
  readonly target: string;
  readonly name: string;
  readonly region: string;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly cause: string;
}

export interface PublicTarget {
  readonly id: string;
  readonly name: string;
  /** What it checks, when the page shows that (`showTargetUrls`). */
  readonly address: string | null;
  readonly state: PublicState;
  /** Percent up over the 90 days; null without checks. */
  readonly uptime: number | null;
  /** Average latency over the last day, when the page shows response times. */
  readonly latencyMs: number | null;
  readonly days: readonly DayBar[];
}

export interface PublicGroup {
  readonly name: string;
  readonly state: PublicState;
  readonly targets: readonly PublicTarget[];
}

export interface PublicWindow {
  readonly title: string;
  readonly active: boolean;
  readonly start: number;
  readonly end: number;
}

/** Everything a public status page shows, as of `at`. */
export interface StatusView {
  readonly page: StatusPage;
  readonly at: number;
  readonly state: PublicState;
  readonly groups: readonly PublicGroup[];
  /** Targets the groups select beyond the page's cap, left out. */
  readonly omitted: number;
  /** Incidents open now. */
  readonly incidents: readonly PublicIncident[];
  readonly maintenance: readonly PublicWindow[];
  readonly updates: readonly StatusUpdate[];
}

/** The worst of some states; unknown when there are none. */
function worst(states: readonly PublicState[]): PublicState {
  return states.reduce<PublicState>((w, s) => (STATE_RANK[s] < STATE_RANK[w] ? s : w), 'unknown');
}

/**
 * The targets a page's groups select, in group order (listed ids in their order, a tag's targets in
 * id order), at most `max` in all: one query for the listed ids and one per tag group. Returns each
 * group's targets and how many were left out.
 */
async function resolveGroups(
  store: Pick<MonitorRepositories, 'monitor'>,
  page: StatusPage,
  max: number,
): Promise<{ groups: ListedTarget[][]; omitted: number }> {
  const listed = [...new Set(page.groups.flatMap((g) => g.targets ?? []))];
  const byId = new Map(
    (await store.monitor.searchTargets({ tenant: page.tenant, ids: listed, limit: listed.length + 1 })).map(
      (t) => [t.target.id, t],
    ),
  );
  let left = max;
  let omitted = 0;
  const groups: ListedTarget[][] = [];
  for (const g of page.groups) {
    let found: ListedTarget[];
    if (g.tag !== undefined) {
      // One more than room is left for: finding it says the group overflows.
      found = await store.monitor.searchTargets({ tenant: page.tenant, tag: g.tag, limit: left + 1 });
      if (found.length > left) {
        omitted += (await store.monitor.countTargets({ tenant: page.tenant, tag: g.tag })) - left;
        found = found.slice(0, left);
      }
    } else {
      const all = (g.targets ?? []).flatMap((id) => byId.get(id) ?? []);
      found = all.slice(0, left);
      omitted += all.length - found.length;
    }
    left -= found.length;
    groups.push(found);
  }
  return { groups, omitted };
}

/**
 * Whether `page` shows the target `targetId`, within the page's cap, as its public form lists it:
 * what lets a badge be opened with `?page=<slug>` and no token (routes/badges.ts).
 */
export async function pageShows(
  store: Pick<MonitorRepositories, 'monitor'>,
  page: StatusPage,
  targetId: string,
  maxTargets: number,
): Promise<boolean> {
  const { groups } = await resolveGroups(store, page, maxTargets);
  return groups.some((g) => g.some((t) => t.target.id === targetId));
}

const displayName = (t: Target) => t.name ?? t.id;

/**
 * Reads what a public page shows, bounded by the page: at most `maxTargets` targets, their day
 * rollups over 90 days, at most 500 incidents, the tenant's maintenance windows and the newest 50
 * updates. A handful of queries whatever the page's size.
 */
export async function statusView(
  store: Pick<MonitorRepositories, 'monitor' | 'maintenance' | 'statusPages'>,
  page: StatusPage,
  options: { readonly maxTargets: number; readonly now: number },
): Promise<StatusView> {
  const { now } = options;
  const today = now - (now % DAY);
  const from = today - (BAR_DAYS - 1) * DAY;
  const { groups: resolved, omitted } = await resolveGroups(store, page, options.maxTargets);
  const ids = [...new Set(resolved.flat().map((t) => t.target.id))];
  const [rollups, incidents, windows, updates] = await Promise.all([
    store.monitor.rollupsOf(page.tenant, ids, 'day', from, today + DAY),
    store.monitor.incidentsOf(page.tenant, ids, from, MAX_INCIDENTS),
    store.maintenance.list(page.tenant, MAX_WINDOWS),
    store.statusPages.listUpdates(page.tenant, page.id, MAX_UPDATES),
  ]);

  const names = new Map(resolved.flat().map((t) => [t.target.id, displayName(t.target)]));
  const publicIncident = (i: Incident): PublicIncident => ({
    target: i.target,
    name: names.get(i.target) ?? i.target,
    region: i.region,
    startedAt: i.startedAt,
    endedAt: i.endedAt,
    cause: i.cause,
  });
  const rollupsOf = groupBy(rollups, (r) => r.target);
  const incidentsOf = groupBy(incidents.map(publicIncident), (i) => i.target);

  const pageWindows = windows.filter((w) =>
    resolved.flat().some((t) => covers(w, t.target.id, t.target.tags)),
  );
  const inWindow = (t: Target) =>
    pageWindows.some((w: MaintenanceWindow) => covers(w, t.id, t.tags) && occurrenceAt(w, now) !== undefined);

  const publicTarget = ({ target, current }: ListedTarget): PublicTarget => {
    const own = incidentsOf.get(target.id) ?? [];
    const state: PublicState = target.paused
      ? 'paused'
      : own.some((i) => i.endedAt === null)
        ? 'down'
        : inWindow(target) || (current && stateOf(current) === 'maintenance')
          ? 'maintenance'
          : current === undefined
            ? 'unknown'
            : stateOf(current) === 'degraded'
              ? 'degraded'
              : 'up';
    const byDay = new Map<number, { checks: number; up: number; latency: number }>();
    for (const r of rollupsOf.get(target.id) ?? []) {
      const d = byDay.get(r.start) ?? { checks: 0, up: 0, latency: 0 };
      byDay.set(r.start, {
        checks: d.checks + r.checks,
        up: d.up + r.up,
        latency: d.latency + r.latencySumMs,
      });
    }
    const days: DayBar[] = [];
    let checks = 0;
    let up = 0;
    for (let start = from; start <= today; start += DAY) {
      const d = byDay.get(start);
      checks += d?.checks ?? 0;
      up += d?.up ?? 0;
      days.push({
        start,
        checks: d?.checks ?? 0,
        uptime: d && d.checks > 0 ? percent(d.up, d.checks) : null,
        incidents: own.filter((i) => i.startedAt < start + DAY && (i.endedAt ?? now) >= start),
      });
    }
    const last = byDay.get(today);
    return {
      id: target.id,
      name: displayName(target),
      address: page.showTargetUrls ? addressOf(target) : null,
      state,
      uptime: checks > 0 ? percent(up, checks) : null,
      latencyMs:
        page.showResponseTimes && last && last.checks > 0 ? Math.round(last.latency / last.checks) : null,
      days,
    };
  };

  const groups = page.groups.map((g, i) => {
    const targets = resolved[i]!.map(publicTarget);
    return { name: g.name, state: worst(targets.map((t) => t.state)), targets };
  });
  const maintenance = pageWindows.flatMap((w) => {
    const next = currentOrNext(w, now);
    if (!next || next.start > now + UPCOMING_MS) return [];
    return [{ title: w.title, active: next.start <= now, start: next.start, end: next.end }];
  });
  return {
    page,
    at: now,
    state: worst(groups.map((g) => g.state)),
    groups,
    omitted,
    incidents: incidents.filter((i) => i.endedAt === null).map(publicIncident),
    maintenance: maintenance.sort((a, b) => a.start - b.start),
    updates,
  };
}

/** Items by a key, in their order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const list = groups.get(key(item));
    if (list) list.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Percent with two decimals, never rounded up to 100 while anything failed. */
function percent(up: number, checks: number): number {
  return Math.floor((up / checks) * 10_000) / 100;
}
