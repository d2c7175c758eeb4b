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
  /** How often the visitor-id salt changes: `daily` (the default, most private) or `monthly`. */
  readonly saltRotation: SaltRotation;
  /** ISO 4217 code revenue is totalled in; amounts in other currencies are reported apart. */
  readonly currency: string;
  readonly createdAt: number;
}

/**
 * How long one visitor id lasts. `daily`: a new id every UTC day, so nothing links a visitor across
 * days. `monthly`: one id per UTC month, so returning visitors (retention) and funnels over several
 * days can be counted within a month.
 */
export type SaltRotation = 'daily' | 'monthly';

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
  /** 0–255 from the visitor id: visits are read a sample of visitors at a time (`visit-sample.ts`). */
  readonly sample: number;
  /** The visit's page views and events in time order, at most `MAX_STEPS`: what funnels, journeys and goals read. */
  readonly steps: readonly Step[];
}

/** One page view or custom event of a visit. */
export interface Step {
  /** ms after the visit started (negative for an event that arrived late and happened before). */
  readonly at: number;
  readonly page: string;
  /** `pageview`, or a custom event's name. */
  readonly name: string;
  /** A custom event's properties; absent when it has none. */
  readonly props?: Readonly<Record<string, string>> | undefined;
  /** A custom event's revenue; absent when it carries none. */
  readonly revenue?: Revenue | undefined;
}

/** An amount of money: thousandths of the currency's unit (exact for every ISO 4217 currency). */
export interface Revenue {
  readonly milli: number;
  /** ISO 4217 code, upper case. */
  readonly currency: string;
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

/** A saved definition of a site: a goal or a segment, named uniquely per site and kind. */
export interface Definition {
  readonly tenant: string;
  readonly site: string;
  readonly kind: 'goal' | 'segment';
  readonly id: string;
  readonly name: string;
  /** The definition itself (`GoalSpec` or `SegmentSpec`), as JSON. */
  readonly spec: unknown;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A secret link to a read-only dashboard of one site. Only the SHA-256 of the link's secret is kept. */
export interface SharedLink {
  readonly tenant: string;
  readonly site: string;
  readonly id: string;
  readonly name: string;
  readonly secretHash: string;
  /** The secret's first characters, to tell links apart in a list. */
  readonly hint: string;
  /** scrypt hash (`salt:hash`, base64url) of the password, or null when the link needs none. */
  readonly passwordHash: string | null;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

/** How often a site's summary is mailed: each Monday for the week before, or each 1st for the month before. */
export type ReportFrequency = 'weekly' | 'monthly';

/** A scheduled email report of one site. */
export interface Report {
  readonly tenant: string;
  readonly site: string;
  readonly id: string;
  readonly frequency: ReportFrequency;
  readonly recipients: readonly string[];
  /** When the next period closes and its report is due (epoch ms). */
  readonly nextAt: number;
  readonly createdAt: number;
}

/** A report mail waiting in the outbox, being sent, sent, or given up on. */
export interface OutboxMail {
  readonly id: string;
  readonly tenant: string;
  readonly site: string;
  readonly report: string;
  /** The period it covers, e.g. `2026-11-23/2026-11-29`; one mail per report and period. */
  readonly period: string;
  readonly recipients: readonly string[];
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly status: 'pending' | 'sent' | 'failed';
  readonly attempts: number;
  /** Not sent before this time (epoch ms): retries back off. */
  readonly nextAttemptAt: number;
  readonly sentAt: number | null;
  /** The last failure, for the delivery history. */
  readonly error: string | null;
  readonly createdAt: number;
}

/** Where an import's files came from. */
export type ImportSource = 'plausible' | 'umami';

/** An import of another tool's export, and how far it has got. */
export interface Import {
  readonly tenant: string;
  readonly site: string;
  readonly id: string;
  readonly source: ImportSource;
  /** SHA-256 of the files (names and contents): the same export imported again is the same import. */
  readonly contentHash: string;
  readonly status: 'queued' | 'running' | 'completed' | 'failed';
  /** Rows read (while parsing) or cells written (while writing), of `total`. */
  readonly done: number;
  readonly total: number;
  /** First and last local day imported (ms), once known. */
  readonly firstDay: number | null;
  readonly lastDay: number | null;
  /** Days left out because Beacon had collected data for them already. */
  readonly skippedDays: number;
  readonly error: string | null;
  readonly createdAt: number;
  readonly finishedAt: number | null;
}

/** One imported file, kept until the import has been written. */
export interface ImportFile {
  readonly name: string;
  readonly content: string;
}

/** An imported aggregate: counters of one local day for (dimension, value), kept apart from rollups. */
export interface ImportedCell {
  readonly day: number;
  readonly dim: string;
  readonly value: string;
  readonly counters: Counters;
}
