import type { Store } from '../../store/store.ts';
import type { AlertRule, AlertRuleSpec } from '../alert-rules.ts';
import type { DefinitionSource, MaintenanceSpec, MaintenanceWindow } from '../maintenance.ts';
import type {
  AlertState,
  CertificateWarning,
  CheckRow,
  Incident,
  IncidentChange,
  IncidentKey,
  Rollup,
  RollupKey,
  RollupSize,
  StateKey,
  TargetFacts,
  TargetState,
} from '../model.ts';
import type { StatusPage, StatusPageSpec, StatusUpdate, UpdateCursor } from '../status-page.ts';
import type { MonitorKind, Target, TargetSource, TargetSpec } from '../target.ts';
import type { Compacted, CompactionStep, Series } from './check-history.ts';

/** Keyset position in the (scheduledAt desc, region) order of a target's checks. */
export interface CheckCursor {
  readonly scheduledAt: number;
  readonly region: string;
}

/** A page of a target's checks, newest first, optionally within [from, to) epoch ms. */
export interface CheckQuery {
  readonly tenant: string;
  readonly target: string;
  readonly limit: number;
  readonly before?: CheckCursor | undefined;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

/** A target's rollups of one size whose buckets start in [from, to) epoch ms. */
export interface RollupQuery {
  readonly tenant: string;
  readonly target: string;
  readonly size: RollupSize;
  readonly from: number;
  readonly to: number;
}

/** What a target list shows as a target's state: its newest check's, or why it has none. */
export const TARGET_STATES = ['up', 'down', 'degraded', 'maintenance', 'unknown', 'paused'] as const;
export type TargetListState = (typeof TARGET_STATES)[number];

/** Which of a tenant's targets a list shows: all filters must hold. */
export interface TargetFilter {
  readonly tenant: string;
  /** Case-insensitive substring of the id, name, URL, host or DNS query. */
  readonly q?: string | undefined;
  readonly state?: TargetListState | undefined;
  /** Targets with this tag. */
  readonly tag?: string | undefined;
  readonly kind?: MonitorKind | undefined;
  /** Only targets with these ids. */
  readonly ids?: readonly string[] | undefined;
}

/** A page of a filtered target list, in id order after `after`. */
export interface TargetSearch extends TargetFilter {
  readonly limit: number;
  readonly after?: string | undefined;
}

/** A listed target with its newest check (undefined before its first). */
export interface ListedTarget {
  readonly target: Target;
  readonly current: CheckRow | undefined;
}

/** Reads targets and their history; every backend answers alike. */
export interface MonitorReader {
  getTarget(tenant: string, id: string): Promise<Target | undefined>;
  /** A tenant's targets in id order, keyset-paged. */
  listTargets(tenant: string, limit: number, after?: string): Promise<Target[]>;
  /**
   * A page of a tenant's targets that pass the filter, in id order, each with its newest check (kept
   * per target by `CheckWriter.insert`): one query whatever the page size.
   */
  searchTargets(search: TargetSearch): Promise<ListedTarget[]>;
  /** How many of a tenant's targets pass the filter (one query). */
  countTargets(filter: TargetFilter): Promise<number>;
  /**
   * The hour or day rollups of several targets whose buckets start in [from, to), in (target, start,
   * region) order: one query for a whole page of targets.
   */
  rollupsOf(
    tenant: string,
    targets: readonly string[],
    size: 'hour' | 'day',
    from: number,
    to: number,
  ): Promise<Rollup[]>;
  /**
   * Every tenant's targets, a page at a time in (tenant, id) order: what a prober schedules. Each
   * page is one query of at most `size` rows after the last page's key, so neither the reader nor the
   * database holds the whole set (at 60,000 targets, one read as objects, or handed on to prober
   * threads all at once, raised the probe's RSS 40 MB above its steady figure; issue 20). Pages are
   * not one snapshot: a target written while they are read may be seen in either state, or missed,
   * and the version read before them tells the next refresh to read again.
   */
  targetPages(size?: number): AsyncIterable<Target[]>;
  /**
   * A fingerprint of the target set (how many, and their update times): while it is unchanged, so are
   * the targets, and a prober need not read them again. Every write stamps its targets with the time
   * it was made, so only a target deleted and another written within the same millisecond as the
   * deleted one's last write could go unseen, until the next change.
   */
  targetsVersion(): Promise<string>;
  /** A target's checks, newest first. */
  listChecks(query: CheckQuery): Promise<CheckRow[]>;
  rollups(query: RollupQuery): Promise<Rollup[]>;
  /** A target's incidents, newest first. */
  listIncidents(tenant: string, target: string, limit: number, before?: number): Promise<Incident[]>;
  /**
   * Incidents of the given targets that are open or ended at or after `since`, newest first (then
   * target and region), at most `limit`: one query for a whole status page.
   */
  incidentsOf(tenant: string, targets: readonly string[], since: number, limit: number): Promise<Incident[]>;
  /** Incidents opened or closed after change `seq`, oldest change first (every tenant). */
  incidentChanges(afterSeq: number, limit: number): Promise<IncidentChange[]>;
  /** The newest incident change's seq (0 when none). */
  lastIncidentSeq(): Promise<number>;
  /** The newest check of each of a tenant's targets (current state), by target id. */
  latestChecks(tenant: string): Promise<CheckRow[]>;
  /** How many series there are (every tenant): the length of a compaction or replay pass. */
  seriesCount(): Promise<number>;
  /** Series in id order after `afterId` (every tenant): what replay from the store walks. */
  seriesAfter(afterId: number, limit: number): Promise<Series[]>;
  /** A series' checks in [from, to), oldest first, from hot rows, blocks and legacy rows. */
  seriesChecks(series: Series, from: number, to: number): Promise<CheckRow[]>;
  /** The first and last time a series has checks at (last exclusive), or undefined when it has none. */
  seriesSpan(series: Series): Promise<{ first: number; end: number } | undefined>;
}

/** What replacing the file-defined targets changed. */
export interface FileTargetsChange {
  /** Targets written: new ones, and ones whose spec changed. */
  readonly upserted: number;
  readonly deleted: number;
}

/**
 * A replacement of the file-defined targets under way. Batches are set aside in the store, where
 * no reader sees them, as they are added; `commit` then makes the file's targets exactly those
 * added, in one transaction: new and changed ones are written (an unchanged spec is not rewritten,
 * nor counted), file targets not added are deleted, and API targets are untouched, even one with
 * the id of a file target. A target added twice counts once, as it was added last. `discard` (a no-op
 * once committed) forgets the batches and changes nothing; a load is over after either.
 */
export interface FileTargetsLoad {
  add(targets: readonly Target[]): Promise<void>;
  commit(): Promise<FileTargetsChange>;
  discard(): Promise<void>;
}

/** Target definitions, written outside sinks (API and YAML file). */
export interface TargetWriter {
  /** Creates a target; false when the id is taken in this tenant. */
  create(target: Target): Promise<boolean>;
  /** Replaces a target's spec; false when it does not exist. */
  update(tenant: string, id: string, spec: TargetSpec, at: number): Promise<boolean>;
  delete(tenant: string, id: string): Promise<boolean>;
  /**
   * Starts replacing the file-defined targets a batch at a time (see FileTargetsLoad), so a targets
   * file is stored as it is read and its targets are never all in memory (issue 20). One load at a
   * time per store: a second waits until the first is committed or discarded.
   */
  loadFileTargets(): Promise<FileTargetsLoad>;
  /** The same in one call: makes the file-defined targets exactly `targets`. */
  replaceFileTargets(targets: Iterable<Target>): Promise<FileTargetsChange>;
  /** The source of an existing target, or undefined. */
  sourceOf(tenant: string, id: string): Promise<TargetSource | undefined>;
}

/** Writes checks and rollups inside a sink transaction. */
export interface CheckWriter {
  /**
   * Inserts checks whose (tenant, target, region, scheduledAt) is new; returns the new ones. Each
   * target's newest check becomes its current one (what target lists show and filter on by state).
   */
  insert(rows: readonly CheckRow[]): Promise<CheckRow[]>;
  /** Reads the rollup rows for the given keys, for merging. */
  getRollups(keys: readonly RollupKey[]): Promise<Rollup[]>;
  putRollups(rollups: readonly Rollup[]): Promise<void>;
  getStates(keys: readonly StateKey[]): Promise<TargetState[]>;
  putStates(states: readonly TargetState[]): Promise<void>;
  /** What alerting needs of targets (thresholds, name, tags…), by id; targets deleted since have none. */
  targetFacts(tenant: string, ids: readonly string[]): Promise<Map<string, TargetFacts>>;
  openIncident(incident: Incident): Promise<void>;
  closeIncident(key: IncidentKey, endedAt: number): Promise<void>;
  /**
   * Retention: deletes raw checks scheduled before `before` (hot and legacy rows one by one, blocks
   * only when their whole period is before it); returns how many checks went. Hour and day rollups
   * are kept (minute rollups, derived from the checks when read, go with them).
   */
  deleteChecksBefore(before: number): Promise<number>;
  /**
   * Series in id order after `afterId`, with where their compaction work starts: their oldest row
   * (hot or legacy) and their oldest block shorter than `periodMs` (an hour block of earlier
   * versions) among those starting at most `periodMs` before their compacted_until: short blocks
   * were only ever written in the period compaction had reached, and a pass reads a block or a few
   * of a series, not its whole history. (Blocks of a shorter period, from before `periodHours` was
   * raised, further back than that stay as they are: they read like any other.)
   */
  compactionCandidates(afterId: number, limit: number, periodMs: number): Promise<CompactionCandidate[]>;
  /**
   * Makes the series of the legacy rows (the format before blocks) of the next target after `after`
   * that has any, so compaction finds them; returns that target, or undefined when there is none.
   * Cheap once the legacy table is empty.
   */
  adoptLegacy(after: TargetRef | undefined): Promise<TargetRef | undefined>;
  /**
   * Folds every check of each step's series in its range into one block, a batch of distinct series
   * in a few statements (check-history.ts `compactRanges`); answers per step, undefined where
   * nothing changed.
   */
  compact(steps: readonly CompactionStep[]): Promise<(Compacted | undefined)[]>;
  /** Deletes the rollups (every size) and states of every target and the incidents: replay from the store starts from none. */
  resetDerived(): Promise<void>;
}

/** A target by tenant and id. */
export interface TargetRef {
  readonly tenant: string;
  readonly target: string;
}

/** A series and where its compaction work starts. */
export interface CompactionCandidate {
  readonly series: Series;
  /** scheduledAt of its oldest hot or legacy row, or null when it has none. */
  readonly oldestRow: number | null;
  /** periodStart of its oldest interim block (shorter than a period), or null. */
  readonly interimStart: number | null;
}

/** What alerting reads and writes inside the check projection's transaction. */
export interface AlertWriter {
  maintenanceWindows(tenant: string): Promise<MaintenanceWindow[]>;
  alertRules(tenant: string): Promise<AlertRule[]>;
  /** Every region's state of the given targets. */
  targetStates(tenant: string, targets: readonly string[]): Promise<TargetState[]>;
  alertStates(tenant: string, targets: readonly string[]): Promise<AlertState[]>;
  putAlertStates(states: readonly AlertState[]): Promise<void>;
  /** Records warnings not recorded before; returns those that were new. */
  recordCertificateWarnings(warnings: readonly CertificateWarning[]): Promise<CertificateWarning[]>;
}

/** What identifies and dates a definition kept as a spec (an alert rule, a maintenance window). */
export interface DefinitionMeta {
  readonly tenant: string;
  readonly id: string;
  readonly source: DefinitionSource;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A tenant's definitions of one kind (`D` is the spec `S` with its meta), by the API or the file. */
export interface DefinitionRepository<S, D extends S & DefinitionMeta> {
  get(tenant: string, id: string): Promise<D | undefined>;
  /** In id order, keyset-paged. */
  list(tenant: string, limit: number, after?: string): Promise<D[]>;
  /** False when the id is taken. */
  create(definition: D): Promise<boolean>;
  update(tenant: string, id: string, spec: S, at: number): Promise<boolean>;
  delete(tenant: string, id: string): Promise<boolean>;
  /** Makes the file's definitions exactly these, in one transaction; API ones are untouched. */
  replaceFile(definitions: readonly D[]): Promise<{ upserted: number; deleted: number }>;
}

/** The last push a heartbeat target received. */
export interface Push {
  readonly at: number;
  readonly status: 'up' | 'down';
  readonly message: string;
  readonly durationMs: number | null;
}

/** Pushes to heartbeat targets, by their secret token. */
export interface PushRepository {
  /** Stores a push for the target holding `token`; returns the target, or undefined for no such token. */
  record(token: string, push: Push): Promise<{ tenant: string; target: string } | undefined>;
  last(tenant: string, target: string): Promise<Push | undefined>;
}

/** What a status page write met: done, or which unique name stood in its way. */
export type StatusPageWrite = 'ok' | 'not-found' | 'id-taken' | 'slug-taken' | 'domain-taken';

/** The changeable fields of an incident update. */
export type StatusUpdateFields = Pick<StatusUpdate, 'title' | 'body' | 'status' | 'at'>;

/**
 * Status pages and the incident updates published on them. Pages are a tenant's, but their slug and
 * domain are unique across the instance: the public page is found by either alone.
 */
export interface StatusPageRepository {
  get(tenant: string, id: string): Promise<StatusPage | undefined>;
  /** A tenant's pages in id order, keyset-paged. */
  list(tenant: string, limit: number, after?: string): Promise<StatusPage[]>;
  /** The page with this slug, of any tenant. */
  bySlug(slug: string): Promise<StatusPage | undefined>;
  /** The page served on this host name, of any tenant. */
  byDomain(domain: string): Promise<StatusPage | undefined>;
  create(page: StatusPage): Promise<Exclude<StatusPageWrite, 'not-found'>>;
  /** Replaces a page's spec. */
  update(
    tenant: string,
    id: string,
    spec: StatusPageSpec,
    at: number,
  ): Promise<Exclude<StatusPageWrite, 'id-taken'>>;
  /** Deletes a page and its updates. */
  delete(tenant: string, id: string): Promise<boolean>;
  /** False when the page has an update with this id already. */
  addUpdate(update: StatusUpdate): Promise<boolean>;
  getUpdate(tenant: string, page: string, id: string): Promise<StatusUpdate | undefined>;
  /** A page's updates, newest `at` first (then id, descending), keyset-paged. */
  listUpdates(tenant: string, page: string, limit: number, before?: UpdateCursor): Promise<StatusUpdate[]>;
  editUpdate(
    tenant: string,
    page: string,
    id: string,
    fields: StatusUpdateFields,
    at: number,
  ): Promise<boolean>;
  deleteUpdate(tenant: string, page: string, id: string): Promise<boolean>;
}

/** The monitor wing's members of an opened store. */
export interface MonitorRepositories {
  readonly monitor: MonitorReader;
  readonly targets: TargetWriter;
  readonly alertRules: DefinitionRepository<AlertRuleSpec, AlertRule>;
  readonly maintenance: DefinitionRepository<MaintenanceSpec, MaintenanceWindow>;
  readonly pushes: PushRepository;
  readonly statusPages: StatusPageRepository;
}

/** The monitor wing's members of a store transaction. */
export interface MonitorWriters {
  readonly checks: CheckWriter;
  readonly alerts: AlertWriter;
}

/** The store as the monitor domain sees it: the engine and this wing's repositories. */
export type MonitorStore = Store<MonitorWriters> & MonitorRepositories;
