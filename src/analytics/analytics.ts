/**
 * Web analytics types and the repository interfaces every store backend implements. The domain logic
 * (sessions, rollup deltas, query planning) lives in this folder; backends only store and sum.
 */

/** A website a tenant tracks. `id` goes in the snippet's `data-site`. */
export interface Site {
  readonly id: string;
  readonly tenant: string;
  /** The main host, e.g. `example.com`. */
  readonly domain: string;
  /** Further hosts the agent may send from; subdomains of each are allowed too. */
  readonly allowedDomains: readonly string[];
  /** IANA zone that days, weeks and months are counted in. */
  readonly timezone: string;
  /** Drop events from browsers that send Do Not Track or Global Privacy Control. */
  readonly respectDnt: boolean;
  readonly createdAt: number;
}

/** An OAuth2 client (client-credentials grant) made for one tenant; only the secret's hash is kept. */
export interface OAuthClient {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly secretHash: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** One visit: consecutive events of a visitor with no gap over 30 minutes. */
export interface SessionRow {
  readonly tenant: string;
  readonly site: string;
  readonly id: string;
  readonly visitor: string;
  readonly startedAt: number;
  /** Local wall-clock time of the start, in the site's zone; the session's rollup bucket. */
  readonly startedLocal: number;
  readonly lastAt: number;
  readonly pageviews: number;
  /** Custom events. */
  readonly events: number;
  readonly entryPage: string;
  readonly exitPage: string;
  readonly source: string;
  readonly referrer: string;
  readonly utmSource: string;
  readonly utmMedium: string;
  readonly utmCampaign: string;
  readonly device: string;
  readonly browser: string;
  readonly os: string;
}

/** One page view or custom event as projected. */
export interface EventRow {
  readonly tenant: string;
  readonly site: string;
  /** The log record's key; unique per tenant, so a redelivered record is never projected twice. */
  readonly key: string;
  readonly ts: number;
  readonly local: number;
  readonly session: string;
  readonly visitor: string;
  /** `pageview` or the custom event's name. */
  readonly name: string;
  readonly page: string;
  readonly props: Readonly<Record<string, string>>;
}

/** `hour` rollups hold totals only; `day` rollups hold totals and every one-dimension breakdown. */
export type Grain = 'hour' | 'day';

/** Additive counters of one rollup cell. */
export interface Counters {
  visitors: number;
  visits: number;
  pageviews: number;
  events: number;
  bounces: number;
  /** Sum of visit durations, ms. */
  duration: number;
}

/** A rollup cell: counters for (grain, local bucket start, dimension, value). Totals use dim `''`. */
export interface RollupCell {
  readonly grain: Grain;
  readonly bucket: number;
  readonly dim: string;
  readonly value: string;
}

export interface RollupDelta extends RollupCell {
  readonly counters: Counters;
}

/** "This visitor was already counted in this cell"; a cell counts each visitor once. */
export interface SeenKey extends RollupCell {
  readonly visitor: string;
}

/** How results are bucketed in time. */
export type Interval = 'minute' | 'hour' | 'day' | 'week' | 'month';

/** A filter on a dimension: `is` and `is_not` take a list; `contains` matches a substring of any. */
export interface Filter {
  readonly op: 'is' | 'is_not' | 'contains';
  readonly dim: string;
  readonly values: readonly string[];
}

/** Sums over rollups. `from`/`to` are local wall-clock ms, `to` exclusive. */
export interface RollupQuery {
  readonly tenant: string;
  readonly site: string;
  readonly grain: Grain;
  readonly from: number;
  readonly to: number;
  /** Breakdown dimension, or undefined for totals. */
  readonly dim?: string | undefined;
  readonly interval?: Exclude<Interval, 'minute'> | undefined;
}

/** Aggregation over raw events and sessions, for filters and minute buckets. */
export interface RawQuery {
  readonly tenant: string;
  readonly site: string;
  readonly from: number;
  readonly to: number;
  readonly dims: readonly string[];
  readonly interval?: Interval | undefined;
  readonly filters: readonly Filter[];
}

/** One result row: the group's values (time bucket first, as local ms, when asked), and its counters. */
export interface AggregateRow {
  /** Local wall-clock start of the time bucket, when an interval was asked. */
  readonly bucket?: number | undefined;
  readonly values: readonly string[];
  readonly counters: Counters;
}

/** Reads analytics data; every backend answers the same query with the same rows. */
export interface AnalyticsReader {
  site(id: string): Promise<Site | undefined>;
  sites(tenant: string): Promise<Site[]>;
  oauthClient(id: string): Promise<OAuthClient | undefined>;
  /** The tenant's OAuth2 clients, revoked ones included, oldest first. */
  oauthClients(tenant: string): Promise<OAuthClient[]>;
  /** The newest session of each visitor, to continue it. */
  latestSessions(tenant: string, site: string, visitors: readonly string[]): Promise<SessionRow[]>;
  sumRollups(query: RollupQuery): Promise<AggregateRow[]>;
  aggregateRaw(query: RawQuery): Promise<AggregateRow[]>;
  /** Events projected for a site, for tests and operations. */
  countEvents(tenant: string, site: string): Promise<number>;
}

/** Writes analytics data inside a store transaction. */
export interface AnalyticsWriter {
  /** The site as the transaction sees it. */
  site(id: string): Promise<Site | undefined>;
  createSite(site: Site): Promise<void>;
  /** Replaces the settings of the tenant's site `site.id` (not its tenant or creation time). */
  updateSite(site: Site): Promise<void>;
  /**
   * Deletes the tenant's site with everything projected for it: events, sessions, rollups and seen
   * marks. False when the tenant has no such site. Records still in the log project nothing afterwards.
   */
  deleteSite(tenant: string, id: string): Promise<boolean>;
  /** The secret visitor salts and access tokens derive from: the stored one, or `candidate` stored now. */
  secret(candidate: string): Promise<string>;
  createOAuthClient(client: OAuthClient): Promise<void>;
  /**
   * Marks the tenant's client revoked at `at` (kept if it was revoked before). False when the tenant has
   * no such client.
   */
  revokeOAuthClient(tenant: string, id: string, at: number): Promise<boolean>;
  /** Keys among `keys` that are already projected for the tenant. */
  existingKeys(tenant: string, keys: readonly string[]): Promise<Set<string>>;
  latestSessions(tenant: string, site: string, visitors: readonly string[]): Promise<SessionRow[]>;
  insertEvents(rows: readonly EventRow[]): Promise<void>;
  upsertSessions(rows: readonly SessionRow[]): Promise<void>;
  /** Records `keys` as seen; returns those that were new. */
  markSeen(tenant: string, site: string, keys: readonly SeenKey[]): Promise<SeenKey[]>;
  addRollups(tenant: string, site: string, deltas: readonly RollupDelta[]): Promise<void>;
  /** Forgets seen marks of buckets before `before` (local ms): no event can reach those cells any more. */
  pruneSeen(tenant: string, site: string, before: number): Promise<void>;
  /**
   * Deletes a site's events, sessions started, rollups and seen marks in [from, to) local time, for
   * reprocessing; rows outside the range are untouched.
   */
  clearRange(tenant: string, site: string, from: number, to: number): Promise<void>;
}
