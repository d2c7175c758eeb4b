import type { Store } from '../../store/store.ts';
import type {
  Counters,
  EventRow,
  Filter,
  Grain,
  Interval,
  OAuthClient,
  RollupDelta,
  SeenKey,
  SessionRow,
  Site,
} from '../model.ts';

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

/** One result row: its time bucket (when an interval was asked), its group's values and its counters. */
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

/** The analytics wing's members of an opened store. */
export interface AnalyticsRepositories {
  readonly analytics: AnalyticsReader;
}

/** The analytics wing's members of a store transaction. */
export interface AnalyticsWriters {
  readonly analytics: AnalyticsWriter;
}

/** The store as the analytics domain sees it: the engine and this wing's repositories. */
export type AnalyticsStore = Store<AnalyticsWriters> & AnalyticsRepositories;
