/**
 * Web analytics: the domain's types. The domain logic (sessions, rollup deltas, query planning) lives in
 * this folder; the store wing (`store/`) only stores and sums, behind the interfaces of
 * `store/repositories.ts`.
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

/** Counters of a cell nothing has touched: the start of every sum and an empty chart bucket. */
export const zeroCounters = (): Counters => ({
  visitors: 0,
  visits: 0,
  pageviews: 0,
  events: 0,
  bounces: 0,
  duration: 0,
});

/** A rollup cell: counters for (grain, local bucket start, dimension, value). Totals use dim `''`. */
export interface RollupCell {
  readonly grain: Grain;
  readonly bucket: number;
  readonly dim: string;
  readonly value: string;
}

/** A change to one rollup cell's counters, added to what the cell holds. */
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
