import type { Store } from '../../store/store.ts';
import type {
  Counters,
  Definition,
  EventRow,
  Filter,
  Grain,
  Import,
  ImportedCell,
  ImportFile,
  Interval,
  OAuthClient,
  OutboxMail,
  Report,
  RollupDelta,
  SeenKey,
  SessionRow,
  SharedLink,
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

/** Imported aggregates summed like rollups (they exist at day grain only). */
export interface ImportedQuery {
  readonly tenant: string;
  readonly site: string;
  readonly from: number;
  readonly to: number;
  readonly dim?: string | undefined;
  readonly interval?: Exclude<Interval, 'minute' | 'hour'> | undefined;
}

/**
 * One page of a site's visits that started in [from, to) (local ms), in (started_local, id) order:
 * all visitors' visits, or only those of one sample bucket (0–255).
 */
export interface VisitQuery {
  readonly tenant: string;
  readonly site: string;
  readonly from: number;
  readonly to: number;
  readonly sample?: number | undefined;
  /** Continue after this visit's (started_local, id). */
  readonly after?: readonly [number, string] | undefined;
  readonly limit: number;
  /**
   * What to read of each visit (default `all`): `steps` reads the visitor, times and steps only,
   * `visitors` the visitor and times only; the rest comes back empty, and reads cheaper.
   */
  readonly parts?: 'all' | 'steps' | 'visitors' | undefined;
}

/** A page of a tenant's sites in (created_at, id) order. */
export interface SitePage {
  readonly limit: number;
  /** Continue after this site's (createdAt, id). */
  readonly after?: readonly [number, string] | undefined;
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
  /** The tenant's sites, oldest first; all of them, or one page. */
  sites(tenant: string, page?: SitePage): Promise<Site[]>;
  oauthClient(id: string): Promise<OAuthClient | undefined>;
  /** The tenant's OAuth2 clients, revoked ones included, oldest first. */
  oauthClients(tenant: string): Promise<OAuthClient[]>;
  /** The newest session of each visitor, to continue it. */
  latestSessions(tenant: string, site: string, visitors: readonly string[]): Promise<SessionRow[]>;
  sumRollups(query: RollupQuery): Promise<AggregateRow[]>;
  aggregateRaw(query: RawQuery): Promise<AggregateRow[]>;
  /** Events projected for a site, for tests and operations. */
  countEvents(tenant: string, site: string): Promise<number>;
  /** The first local day with collected data (day rollups), or null when there is none. */
  firstDay(tenant: string, site: string): Promise<number | null>;
  /** One page of visits (sessions with their steps). */
  visits(query: VisitQuery): Promise<SessionRow[]>;
  /** Imported aggregates, summed per bucket and value like `sumRollups`. */
  sumImported(query: ImportedQuery): Promise<AggregateRow[]>;
  /** A site's goals or segments, by name. */
  definitions(tenant: string, site: string, kind: Definition['kind']): Promise<Definition[]>;
  definition(
    tenant: string,
    site: string,
    kind: Definition['kind'],
    id: string,
  ): Promise<Definition | undefined>;
  /** A site's shared links, revoked ones included, oldest first. */
  sharedLinks(tenant: string, site: string): Promise<SharedLink[]>;
  /** The link whose secret hashes to `secretHash`, of any tenant. */
  sharedLink(secretHash: string): Promise<SharedLink | undefined>;
  reports(tenant: string, site: string): Promise<Report[]>;
  report(tenant: string, site: string, id: string): Promise<Report | undefined>;
  /** Reports whose period closed at or before `now`, most overdue first. */
  dueReports(now: number, limit: number): Promise<Report[]>;
  /** A report's mails, newest first. */
  reportMails(tenant: string, site: string, report: string, limit: number): Promise<OutboxMail[]>;
  /** A site's imports, newest first. */
  imports(tenant: string, site: string): Promise<Import[]>;
  findImport(tenant: string, site: string, id: string): Promise<Import | undefined>;
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
  /** Inserts the definition, or replaces the one with its id. */
  putDefinition(definition: Definition): Promise<void>;
  /** False when the site has no such definition. */
  deleteDefinition(tenant: string, site: string, kind: Definition['kind'], id: string): Promise<boolean>;
  createSharedLink(link: SharedLink): Promise<void>;
  /** Marks the link revoked at `at` (kept if it was before); false when the site has no such link. */
  revokeSharedLink(tenant: string, site: string, id: string, at: number): Promise<boolean>;
  /** Inserts the report, or replaces the one with its id. */
  putReport(report: Report): Promise<void>;
  /** Deletes the report and its mails; false when the site has no such report. */
  deleteReport(tenant: string, site: string, id: string): Promise<boolean>;
  /**
   * Moves a due report on to `nextAt` and queues its mail, if the report still waits on `dueAt`: of
   * several processes only one wins a period. False when another got there first.
   */
  queueReportMail(report: Report, dueAt: number, nextAt: number, mail: OutboxMail): Promise<boolean>;
  /** Takes up to `limit` pending mails due by `now` that no live lease holds, leasing them until `leaseUntil`. */
  claimMails(now: number, leaseUntil: number, limit: number): Promise<OutboxMail[]>;
  /** Records a send: `sent`, or a failure with its error, retried at `nextAttemptAt` unless `failed`. */
  settleMail(
    id: string,
    outcome: { status: OutboxMail['status']; at: number; error: string | null; nextAttemptAt: number },
  ): Promise<void>;
  /** Inserts an import with its files. */
  createImport(record: Import, files: readonly ImportFile[]): Promise<void>;
  /** Takes the oldest queued import, or a running one whose lease ran out, leasing it until `leaseUntil`. */
  claimImport(now: number, leaseUntil: number): Promise<Import | undefined>;
  importFiles(importId: string): Promise<ImportFile[]>;
  /** Records progress (and, at the end, the outcome; a finished import drops its files). */
  updateImport(record: Import, leaseUntil: number): Promise<void>;
  /** Writes cells of an import, replacing what the import held for them, so a rerun doubles nothing. */
  writeImported(
    tenant: string,
    site: string,
    importId: string,
    cells: readonly ImportedCell[],
  ): Promise<void>;
  /** Deletes an import, its files and its cells; false when the site has no such import. */
  deleteImport(tenant: string, site: string, id: string): Promise<boolean>;
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
