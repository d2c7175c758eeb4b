import type { Pool, PoolClient } from 'pg';
import { postgresColumns as c } from '../../store/columns.ts';
import { storeError, type Queryable } from '../../store/postgres/errors.ts';
import { checkOut, lockedTransactionOn } from '../../store/postgres/locked-transaction.ts';
import { PARTITION_LOCK, TablePartitions } from '../../store/postgres/partitions.ts';
import type { PostgresTx, PostgresWing } from '../../store/postgres/wing.ts';
import {
  rollupId,
  stateId,
  type CheckRow,
  type Incident,
  type IncidentChange,
  type IncidentKey,
  type Rollup,
  type RollupKey,
  type StateKey,
  type TargetFacts,
  type TargetState,
} from '../model.ts';
import type { Target, TargetSource, TargetSpec } from '../target.ts';
import type { SeriesKey } from './check-blocks.ts';
import {
  CheckHistory,
  compactRanges,
  insertChecks,
  type Block,
  type CompactionSql,
  type CompactionStep,
  type Replacement,
  type Compacted,
  type HistoryReadSql,
  type HistoryWriteSql,
  type HotRow,
  type HotRun,
  type Range,
  type Series,
} from './check-history.ts';
import { postgresMigrations } from './postgres-migrations.ts';
import { PostgresStatusPages } from './postgres-status-pages.ts';
import type {
  CheckQuery,
  CheckWriter,
  CompactionCandidate,
  MonitorReader,
  MonitorRepositories,
  MonitorWriters,
  ListedTarget,
  RollupQuery,
  TargetFilter,
  TargetSearch,
  TargetRef,
  TargetWriter,
  FileTargetsChange,
  FileTargetsLoad,
} from './repositories.ts';
import { currentValues, newestPerTarget, targetFilterSql, type SpecDialect } from './target-filter.ts';
import type { AlertRule, AlertRuleSpec } from '../alert-rules.ts';
import type { MaintenanceSpec, MaintenanceWindow } from '../maintenance.ts';
import { PostgresAlertWriter, PostgresDefinitions, PostgresPushRepository } from './postgres-alerting.ts';
import {
  CHECK_COLUMNS,
  pushTokenOf,
  rollupValues,
  specText,
  stateValues,
  targetValues,
  toCheck,
  toIncident,
  toIncidentChange,
  toRollup,
  toState,
  keysetPages,
  replaceThroughLoad,
  TARGET_PAGE,
  toTarget,
  toTargetFacts,
  type CheckDbRow,
  type IncidentRow,
  type BlockDbRow,
  type RollupRow,
  type SeriesDbRow,
  type StateRow,
  type TargetRow,
  toBlock,
  toSeries,
} from './rows.ts';
import { monitorStorage } from './storage.ts';
import {
  deleteHotBefore,
  deleteHotIn,
  hotChecksBetween,
  hotRowsNewestFirst,
  hotRunIn,
  insertHotChecks,
  newestHotAt,
  newestOf,
} from './postgres-hot-checks.ts';

/**
 * The bytes of a TOAST chunk on a server of 8 KB pages: four fill a page. A block's data goes out of
 * line in whole chunks and what is left over (the tail) stays in its row (migration 22): the last,
 * partial chunk of each block took a quarter page's slot among whole ones.
 */
const TOAST_CHUNK = 1996;

/** Advisory lock that serializes targets-file replacements across processes. */
const TARGETS_LOCK = 0x62636e03;
/**
 * Advisory lock held, until commit, by a transaction that opens or closes an incident. Change seqs are
 * MAX + 1 as in SQLite; holding the lock makes them unique and rising in commit order even with several
 * sinks, so a notifier reading `seq > last` never passes over a change that commits later.
 */
const INCIDENT_LOCK = 0x62636e04;
const NEXT_SEQ = '(SELECT COALESCE(max(seq), 0) + 1 FROM monitor_incidents)';

/**
 * SQL for an epoch-millisecond value (float8) as timestamptz. Float, not int8, so a fractional time an
 * agent sends is kept (to the microsecond) rather than refused, as SQLite keeps it.
 */
const ts = (sql: string) => `(timestamptz 'epoch' + (${sql})::float8 * interval '1 millisecond')`;
/** SQL for a timestamptz column as epoch milliseconds (float8, so the driver returns a number). */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/**
 * Bounds an instant a client chose (a cursor) to what timestamptz can hold (4713 BC to 294276 AD).
 * Every stored time lies well inside, so comparisons answer as SQLite's unbounded integers do.
 */
const bound = (at: number) => Math.min(Math.max(at, -210_000_000_000_000), 9_000_000_000_000_000);

/** Rows of values as one array per column: the parameters of an `unnest`. At least one row. */
const columnsOf = (rows: readonly (readonly unknown[])[]): unknown[][] =>
  rows[0]!.map((_, i) => rows.map((row) => row[i]));

/** Every incident column, times as epoch ms, in IncidentRow's names. */
const INCIDENT_SELECT = `tenant, target, ${ms('started_at')} AS started_at, region, ${ms('ended_at')} AS ended_at,
  cause, detail, seq`;

/** Every target column, in TargetRow's names and `targetValues` order. */
const TARGET_COLUMNS = 'tenant, id, source, spec, created_at, updated_at, push_token';

/** The check columns that are timestamptz. */
const CHECK_TIMES: ReadonlySet<string> = new Set(['scheduled_at', 'started_at', 'tls_expires_at']);

/**
 * Every check column, times as epoch ms, in CheckDbRow's names. A query must then order by the
 * table's own columns (`monitor_checks.scheduled_at`): by the alias it sorts the expression, which
 * no index holds, so a page would read every row the WHERE admits.
 */
const CHECK_SELECT = (p = '') =>
  CHECK_COLUMNS.map((column) =>
    CHECK_TIMES.has(column) ? `${ms(p + column)} AS ${column}` : p + column,
  ).join(', ');

/** Every rollup column, start as epoch ms, in RollupRow's names. */
const ROLLUP_SELECT = (p = '') =>
  `${p}tenant, ${p}target, ${p}size, ${ms(`${p}start`)} AS start, ${p}region, ${p}checks, ${p}up, ${p}latency_sum_ms, ${p}latency, ${p}errors`;

/** Bounds PostgreSQL can compare float8 with: ±Infinity as the largest doubles. */
const finite = (n: number) => Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, n));

const SERIES = 's.id, s.tenant, s.target, s.region, s.compacted_until';
const LEGACY_SERIES_MATCH = 'm.tenant = s.tenant AND m.target = s.target AND m.region = s.region';

/** The SQL of check history on PostgreSQL (hot rows, blocks, legacy rows); check-history.ts does the rest. */
class PostgresHistoryReadSql implements HistoryReadSql {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async series(tenant: string, target: string): Promise<Series[]> {
    const { rows } = await this.#db.query<SeriesDbRow>(
      `SELECT ${SERIES} FROM monitor_series s WHERE tenant = $1 AND target = $2 ORDER BY region`,
      [tenant, target],
    );
    return rows.map((r) => toSeries(r, c));
  }

  hotRows(series: number, range: Range, limit: number): Promise<HotRow[]> {
    return hotRowsNewestFirst(this.#db, series, range, limit);
  }

  async blocks(series: number, range: Range, limit: number): Promise<Block[]> {
    const { rows } = await this.#db.query<BlockDbRow>(
      `SELECT period_start, period_end, checks, data || tail AS data FROM monitor_check_blocks
       WHERE series = $1 AND period_start ${range.inclusive ? '<=' : '<'} $2 AND period_end > $3
       ORDER BY period_start DESC LIMIT $4`,
      [series, finite(range.below), finite(range.from), limit],
    );
    return rows.map(toBlock);
  }

  async legacyRows(query: CheckQuery): Promise<CheckRow[]> {
    const params: unknown[] = [query.tenant, query.target];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    const where = ['tenant = $1', 'target = $2'];
    if (query.before) {
      where.push(
        `(scheduled_at, region) < (${ts(param(bound(query.before.scheduledAt)))}, ${param(query.before.region)})`,
      );
    }
    if (query.from !== undefined) where.push(`scheduled_at >= ${ts(param(bound(query.from)))}`);
    if (query.to !== undefined) where.push(`scheduled_at < ${ts(param(bound(query.to)))}`);
    const { rows } = await this.#db.query<CheckDbRow>(
      `SELECT ${CHECK_SELECT()} FROM monitor_checks WHERE ${where.join(' AND ')}
       ORDER BY monitor_checks.scheduled_at DESC, monitor_checks.region DESC LIMIT ${param(query.limit)}`,
      params,
    );
    return rows.map((r) => toCheck(r, c));
  }

  hotBetween(series: number, from: number, to: number): Promise<HotRow[]> {
    return hotChecksBetween(this.#db, series, from, to);
  }

  legacyBetween(series: SeriesKey, from: number, to: number): Promise<CheckRow[]> {
    return legacyBetween(this.#db, series, from, to);
  }

  async legacyOfTarget(tenant: string, target: string, from: number, to: number): Promise<CheckRow[]> {
    const { rows } = await this.#db.query<CheckDbRow>(
      `SELECT ${CHECK_SELECT()} FROM monitor_checks
       WHERE tenant = $1 AND target = $2 AND scheduled_at >= ${ts('$3')} AND scheduled_at < ${ts('$4')}`,
      [tenant, target, bound(from), bound(to)],
    );
    return rows.map((r) => toCheck(r, c));
  }

  async seriesAfter(afterId: number, limit: number): Promise<Series[]> {
    const { rows } = await this.#db.query<SeriesDbRow>(
      `SELECT ${SERIES} FROM monitor_series s WHERE id > $1 ORDER BY id LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => toSeries(r, c));
  }

  async span(s: Series): Promise<{ first: number; end: number } | undefined> {
    const { rows } = await this.#db.query<{ first: number | null; end: number | null }>(
      `SELECT min(first) AS first, max(last) AS end FROM (
         SELECT min(t) AS first, max(t) + 1 AS last FROM monitor_hot_checks h, unnest(h.at) t WHERE h.series = $1
         UNION ALL
         SELECT min(period_start), max(period_end) FROM monitor_check_blocks WHERE series = $1
         UNION ALL
         SELECT ${ms('min(scheduled_at)')}, ${ms('max(scheduled_at)')} + 1 FROM monitor_checks
           WHERE tenant = $2 AND target = $3 AND region = $4) spans`,
      [s.id, s.tenant, s.target, s.region],
    );
    const row = rows[0]!;
    return row.first === null || row.end === null ? undefined : { first: row.first, end: row.end };
  }

  async newestHot(tenant: string): Promise<(HotRow & { series: Series })[]> {
    // The newest row of each series holds its newest check.
    const { rows } = await this.#db.query<SeriesDbRow & { at: number[]; body: Buffer }>(
      `SELECT ${SERIES}, h.at, h.body
       FROM monitor_targets t JOIN monitor_series s ON s.tenant = t.tenant AND s.target = t.id
       CROSS JOIN LATERAL (
         SELECT at, body FROM monitor_hot_checks WHERE series = s.id ORDER BY start DESC LIMIT 1
       ) h
       WHERE t.tenant = $1`,
      [tenant],
    );
    return rows.map((r) => ({ ...newestOf(r), series: toSeries(r, c) }));
  }

  async newestBlocks(tenant: string): Promise<(Block & { series: Series })[]> {
    const { rows } = await this.#db.query<SeriesDbRow & BlockDbRow>(
      `SELECT ${SERIES}, b.period_start, b.period_end, b.checks, b.data
       FROM monitor_targets t JOIN monitor_series s ON s.tenant = t.tenant AND s.target = t.id
       CROSS JOIN LATERAL (
         SELECT period_start, period_end, checks, data || tail AS data FROM monitor_check_blocks WHERE series = s.id
         ORDER BY period_start DESC LIMIT 1
       ) b
       WHERE t.tenant = $1 AND s.compacted_until > coalesce(${newestHotAt('s.id')}, '-Infinity')`,
      [tenant],
    );
    return rows.map((r) => ({ ...toBlock(r), series: toSeries(r, c) }));
  }

  async newestLegacy(tenant: string): Promise<CheckRow[]> {
    const { rows } = await this.#db.query<CheckDbRow>(
      // Per target: its newest time (the partitions newest first, stopping at the first hit), then the
      // rows at that time (one partition). OFFSET 0 keeps the planner from flattening the second
      // lateral into a scan of all the tenant's checks in every partition.
      `SELECT ${CHECK_SELECT('c.')}
       FROM monitor_targets t
       CROSS JOIN LATERAL (
         SELECT max(m.scheduled_at) AS at FROM monitor_checks m WHERE m.tenant = t.tenant AND m.target = t.id
       ) newest
       CROSS JOIN LATERAL (
         SELECT * FROM monitor_checks c
         WHERE c.tenant = t.tenant AND c.target = t.id AND c.scheduled_at = newest.at OFFSET 0
       ) c
       WHERE t.tenant = $1`,
      [tenant],
    );
    return rows.map((r) => toCheck(r, c));
  }
}

/** Legacy rows of a series in [from, to), oldest first. */
async function legacyBetween(db: Queryable, s: SeriesKey, from: number, to: number): Promise<CheckRow[]> {
  const { rows } = await db.query<CheckDbRow>(
    `SELECT ${CHECK_SELECT()} FROM monitor_checks
     WHERE tenant = $1 AND target = $2 AND region = $3 AND scheduled_at >= ${ts('$4')} AND scheduled_at < ${ts('$5')}
     ORDER BY scheduled_at`,
    [s.tenant, s.target, s.region, bound(from), bound(to)],
  );
  return rows.map((r) => toCheck(r, c));
}

/** Target specs as PostgreSQL's json operators read them. */
const POSTGRES_SPEC: SpecDialect = {
  text: (field) => `(t.spec->>'${field}')`,
  paused: "COALESCE(t.spec->>'paused', 'false') = 'true'",
  hasTag: (p) => `EXISTS (SELECT 1 FROM json_array_elements_text(t.spec->'tags') AS g (v) WHERE g.v = ${p})`,
  haystack: `lower(concat_ws(E'\\n', t.id, ${['name', 'url', 'host', 'query']
    .map((f) => `t.spec->>'${f}'`)
    .join(', ')}))`,
  specText: 't.spec::text',
  contains: (haystack, p) => `strpos(${haystack}, ${p}) > 0`,
  idIn: (p) => `t.id = ANY(${p}::text[])`,
  idList: (ids) => ids,
  param: (i) => `$${i}`,
};

/** Reads targets and their history from the pool; answers as SqliteMonitorReader does. */
export class PostgresMonitorReader implements MonitorReader {
  readonly #db: Queryable;
  readonly #history: CheckHistory;
  constructor(db: Queryable) {
    this.#db = db;
    this.#history = new CheckHistory(new PostgresHistoryReadSql(db));
  }

  async getTarget(tenant: string, id: string): Promise<Target | undefined> {
    const { rows } = await this.#db.query<TargetRow>(
      `SELECT ${TARGET_COLUMNS} FROM monitor_targets WHERE tenant = $1 AND id = $2`,
      [tenant, id],
    );
    return rows[0] && toTarget(rows[0], c);
  }

  async listTargets(tenant: string, limit: number, after?: string): Promise<Target[]> {
    const { rows } = await this.#db.query<TargetRow>(
      `SELECT ${TARGET_COLUMNS} FROM monitor_targets WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [tenant, after ?? '', limit],
    );
    return rows.map((r) => toTarget(r, c));
  }

  async searchTargets(search: TargetSearch): Promise<ListedTarget[]> {
    const { where, params } = targetFilterSql(search, POSTGRES_SPEC);
    const n = params.length;
    const { rows } = await this.#db.query<TargetRow & { current: unknown }>(
      `SELECT t.tenant, t.id, t.source, t.spec, t.created_at, t.updated_at, t.push_token, cur.body AS current
       FROM monitor_targets t LEFT JOIN monitor_current cur ON cur.tenant = t.tenant AND cur.target = t.id
       WHERE ${where} AND t.id > $${n + 1} ORDER BY t.id LIMIT $${n + 2}`,
      [...params, search.after ?? '', search.limit],
    );
    return rows.map((r) => ({
      target: toTarget(r, c),
      current: r.current === null ? undefined : c.json<CheckRow>(r.current),
    }));
  }

  async countTargets(filter: TargetFilter): Promise<number> {
    const { where, params } = targetFilterSql(filter, POSTGRES_SPEC);
    const { rows } = await this.#db.query<{ n: string }>(
      `SELECT count(*) AS n FROM monitor_targets t WHERE ${where}`,
      params,
    );
    return Number(rows[0]!.n);
  }

  async rollupsOf(
    tenant: string,
    targets: readonly string[],
    size: 'hour' | 'day',
    from: number,
    to: number,
  ): Promise<Rollup[]> {
    if (targets.length === 0) return [];
    const { rows } = await this.#db.query<RollupRow>(
      `SELECT ${ROLLUP_SELECT()} FROM monitor_rollups
       WHERE tenant = $1 AND target = ANY($2::text[]) AND size = $3 AND start >= ${ts('$4')} AND start < ${ts('$5')}
       ORDER BY monitor_rollups.target, monitor_rollups.start, monitor_rollups.region`,
      [tenant, targets, size, bound(from), bound(to)],
    );
    return rows.map((r) => toRollup(r, c));
  }

  targetPages(size = TARGET_PAGE): AsyncIterable<Target[]> {
    return keysetPages(size, async (after) => {
      const { rows } = await this.#db.query<TargetRow>(
        after
          ? `SELECT ${TARGET_COLUMNS} FROM monitor_targets WHERE (tenant, id) > ($1, $2) ORDER BY tenant, id LIMIT $3`
          : `SELECT ${TARGET_COLUMNS} FROM monitor_targets ORDER BY tenant, id LIMIT $1`,
        after ? [after.tenant, after.id, size] : [size],
      );
      return rows.map((r) => toTarget(r, c));
    });
  }

  async targetsVersion(): Promise<string> {
    const { rows } = await this.#db.query<{ v: string }>(
      `SELECT count(*) || ':' || coalesce(max(updated_at), 0) || ':' || coalesce(sum(updated_at), 0) AS v
       FROM monitor_targets`,
    );
    return rows[0]!.v;
  }

  listChecks(query: CheckQuery): Promise<CheckRow[]> {
    return this.#history.listChecks(query);
  }

  async seriesCount(): Promise<number> {
    const { rows } = await this.#db.query<{ n: string }>('SELECT count(*) AS n FROM monitor_series');
    return Number(rows[0]!.n);
  }

  seriesAfter(afterId: number, limit: number): Promise<Series[]> {
    return this.#history.seriesAfter(afterId, limit);
  }

  seriesChecks(series: Series, from: number, to: number): Promise<CheckRow[]> {
    return this.#history.seriesChecks(series, from, to);
  }

  seriesSpan(series: Series): Promise<{ first: number; end: number } | undefined> {
    return this.#history.span(series);
  }

  async rollups(query: RollupQuery): Promise<Rollup[]> {
    if (query.size === 'minute') return this.#history.minuteRollups(query);
    const { rows } = await this.#db.query<RollupRow>(
      `SELECT ${ROLLUP_SELECT()} FROM monitor_rollups
       WHERE tenant = $1 AND target = $2 AND size = $3 AND start >= ${ts('$4')} AND start < ${ts('$5')}
       ORDER BY monitor_rollups.start, monitor_rollups.region`,
      [query.tenant, query.target, query.size, bound(query.from), bound(query.to)],
    );
    return rows.map((r) => toRollup(r, c));
  }

  async listIncidents(tenant: string, target: string, limit: number, before?: number): Promise<Incident[]> {
    const { rows } = await this.#db.query<IncidentRow>(
      `SELECT ${INCIDENT_SELECT} FROM monitor_incidents WHERE tenant = $1 AND target = $2 AND started_at < ${ts('$3')}
       ORDER BY monitor_incidents.started_at DESC, monitor_incidents.region LIMIT $4`,
      [tenant, target, bound(before ?? Number.MAX_SAFE_INTEGER), limit],
    );
    return rows.map(toIncident);
  }

  async incidentsOf(
    tenant: string,
    targets: readonly string[],
    since: number,
    limit: number,
  ): Promise<Incident[]> {
    if (targets.length === 0) return [];
    const { rows } = await this.#db.query<IncidentRow>(
      `SELECT ${INCIDENT_SELECT} FROM monitor_incidents
       WHERE tenant = $1 AND target = ANY($2::text[]) AND (ended_at IS NULL OR ended_at >= ${ts('$3')})
       ORDER BY monitor_incidents.started_at DESC, target, region LIMIT $4`,
      [tenant, targets, bound(since), limit],
    );
    return rows.map(toIncident);
  }

  async incidentChanges(afterSeq: number, limit: number): Promise<IncidentChange[]> {
    const { rows } = await this.#db.query<IncidentRow>(
      `SELECT ${INCIDENT_SELECT} FROM monitor_incidents WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    );
    return rows.map((r) => toIncidentChange(r, c));
  }

  async lastIncidentSeq(): Promise<number> {
    const { rows } = await this.#db.query<{ seq: number | null }>(
      'SELECT max(seq)::float8 AS seq FROM monitor_incidents',
    );
    return rows[0]?.seq ?? 0;
  }

  latestChecks(tenant: string): Promise<CheckRow[]> {
    return this.#history.latestChecks(tenant);
  }
}

/**
 * Target writes, each its own statement on the pool (PostgreSQL needs no single writer, so none
 * waits for a sink's transaction); the targets file is replaced in one transaction under a lock.
 */
export class PostgresTargetWriter implements TargetWriter {
  readonly #pool: Pool;
  readonly #db: Queryable;
  constructor(pool: Pool, db: Queryable) {
    this.#pool = pool;
    this.#db = db;
  }

  async create(t: Target): Promise<boolean> {
    const result = await this.#db.query(
      `INSERT INTO monitor_targets (${TARGET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      targetValues(t),
    );
    return result.rowCount === 1;
  }

  async update(tenant: string, id: string, spec: TargetSpec, at: number): Promise<boolean> {
    const result = await this.#db.query(
      'UPDATE monitor_targets SET spec = $1, updated_at = $2, push_token = $3 WHERE tenant = $4 AND id = $5',
      [JSON.stringify(spec), at, pushTokenOf(spec), tenant, id],
    );
    return result.rowCount === 1;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    // A target made again with this id starts with no state.
    const result = await this.#db.query(
      `WITH gone AS (DELETE FROM monitor_current WHERE tenant = $1 AND target = $2)
       DELETE FROM monitor_targets WHERE tenant = $1 AND id = $2`,
      [tenant, id],
    );
    return result.rowCount === 1;
  }

  async sourceOf(tenant: string, id: string): Promise<TargetSource | undefined> {
    const { rows } = await this.#db.query<{ source: TargetSource }>(
      'SELECT source FROM monitor_targets WHERE tenant = $1 AND id = $2',
      [tenant, id],
    );
    return rows[0]?.source;
  }

  async loadFileTargets(): Promise<FileTargetsLoad> {
    try {
      const { client, release } = await checkOut(this.#pool);
      try {
        await client.query(
          `CREATE TEMP TABLE IF NOT EXISTS monitor_file_targets (
             tenant text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, spec text NOT NULL,
             created_at int8 NOT NULL, updated_at int8 NOT NULL, push_token text, PRIMARY KEY (tenant, id)
           );
           TRUNCATE pg_temp.monitor_file_targets`,
        );
      } catch (err) {
        release(true);
        throw err;
      }
      return new PostgresFileTargetsLoad(client, release);
    } catch (err) {
      throw storeError(err);
    }
  }

  replaceFileTargets(targets: Iterable<Target>): Promise<FileTargetsChange> {
    return replaceThroughLoad(this, targets);
  }
}

/**
 * A load of the file's targets (see FileTargetsLoad) on a connection of its own, set aside in a
 * TEMP table of that session, which no other session sees. Batches are written a page at a time,
 * each in a transaction of its own, so no transaction stays open while the file is read; the commit
 * takes the targets-file lock, so loads in several processes apply one after another.
 */
class PostgresFileTargetsLoad implements FileTargetsLoad {
  readonly #client: PoolClient;
  readonly #release: (discard: boolean) => void;
  /** Rows added but not written yet, one array per column, and where each key is among them. */
  #columns = emptyColumns();
  readonly #at = new Map<string, number>();
  #done = false;

  constructor(client: PoolClient, release: (discard: boolean) => void) {
    this.#client = client;
    this.#release = release;
  }

  async add(targets: readonly Target[]): Promise<void> {
    this.#open();
    const columns = this.#columns;
    for (const t of targets) {
      // Within one statement a key may appear once: a target added again replaces its row.
      const key = `${t.tenant}\u0000${t.id}`;
      const i = this.#at.get(key) ?? columns[0].length;
      this.#at.set(key, i);
      columns[0][i] = t.tenant;
      columns[1][i] = t.id;
      columns[2][i] = specText(t);
      columns[3][i] = t.createdAt;
      columns[4][i] = t.updatedAt;
      columns[5][i] = pushTokenOf(t);
    }
    if (columns[0].length >= TARGET_PAGE) await this.#write();
  }

  async commit(): Promise<FileTargetsChange> {
    this.#open();
    await this.#write();
    const client = this.#client;
    const change = await this.#run(() =>
      lockedTransactionOn(client, TARGETS_LOCK, async () => {
        // A spec that did not change is not rewritten (nor counted); an API target of the same id wins.
        const upsert = await client.query(
          `INSERT INTO monitor_targets (${TARGET_COLUMNS})
           SELECT tenant, id, 'file', spec::json, created_at, updated_at, push_token
           FROM pg_temp.monitor_file_targets
           ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at,
             push_token = excluded.push_token
           WHERE monitor_targets.source = 'file' AND monitor_targets.spec::text <> excluded.spec::text`,
        );
        const removed = await client.query(
          `DELETE FROM monitor_targets m WHERE m.source = 'file' AND NOT EXISTS (
             SELECT 1 FROM pg_temp.monitor_file_targets f WHERE f.tenant = m.tenant AND f.id = m.id)`,
        );
        return { upserted: upsert.rowCount ?? 0, deleted: removed.rowCount ?? 0 };
      }),
    );
    await this.#end();
    return change;
  }

  async discard(): Promise<void> {
    if (!this.#done) await this.#end();
  }

  async #write(): Promise<void> {
    const columns = this.#columns;
    if (columns[0].length === 0) return;
    this.#columns = emptyColumns();
    this.#at.clear();
    await this.#run(() =>
      this.#client.query(
        `INSERT INTO pg_temp.monitor_file_targets
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[])
         ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, created_at = excluded.created_at,
           updated_at = excluded.updated_at, push_token = excluded.push_token`,
        columns,
      ),
    );
  }

  /** Runs a step; a failed one ends the load and discards the connection (its session, and table, go too). */
  async #run<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (!this.#done) {
        this.#done = true;
        this.#release(true);
      }
      throw storeError(err);
    }
  }

  /** Drops the table (the connection goes back to the pool clean) and gives the connection back. */
  async #end(): Promise<void> {
    this.#done = true;
    let failed = false;
    await this.#client.query('DROP TABLE IF EXISTS pg_temp.monitor_file_targets').catch(() => {
      failed = true;
    });
    this.#release(failed);
  }

  #open(): void {
    if (this.#done) throw new Error('this load of file targets is over');
  }
}

/** A page of file targets as one array per column of monitor_file_targets. */
function emptyColumns(): [string[], string[], string[], number[], number[], (string | null)[]] {
  return [[], [], [], [], [], []];
}

/** Keys as one array per field, sorted so that concurrent sinks lock series rows in one order. */
function keyColumns(keys: readonly SeriesKey[]): [string[], string[], string[]] {
  const sorted = [...keys].sort((a, b) =>
    a.tenant !== b.tenant
      ? a.tenant < b.tenant
        ? -1
        : 1
      : a.target !== b.target
        ? a.target < b.target
          ? -1
          : 1
        : a.region < b.region
          ? -1
          : 1,
  );
  return [sorted.map((k) => k.tenant), sorted.map((k) => k.target), sorted.map((k) => k.region)];
}

/** The SQL of check writes and compaction in one PostgreSQL transaction. */
class PostgresHistoryWriteSql implements HistoryWriteSql, CompactionSql {
  readonly #client: PoolClient;
  constructor(client: PoolClient) {
    this.#client = client;
  }

  async seriesFor(keys: readonly SeriesKey[]): Promise<Series[]> {
    const columns = keyColumns(keys);
    // Locked until commit: compaction of one of these series (which locks it for update) waits for
    // this batch, and this batch for it, so a check is never put beside the block it belongs in; and
    // two batches writing one series take turns, as the hot rows they add to are chosen from what
    // the series has (postgres-hot-checks.ts).
    const find = () =>
      this.#client.query<SeriesDbRow>(
        `SELECT ${SERIES} FROM monitor_series s
         JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (tenant, target, region)
           ON s.tenant = k.tenant AND s.target = k.target AND s.region = k.region
         ORDER BY s.id FOR NO KEY UPDATE OF s`,
        columns,
      );
    let { rows } = await find();
    if (rows.length < keys.length) {
      // Only the missing ones are inserted: a conflicting insert would still use up an identity value.
      const have = new Set(rows.map((r) => `${r.tenant}\u0000${r.target}\u0000${r.region}`));
      const missing = keys.filter((k) => !have.has(`${k.tenant}\u0000${k.target}\u0000${k.region}`));
      await this.#client.query(
        `INSERT INTO monitor_series (tenant, target, region)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
        keyColumns(missing),
      );
      ({ rows } = await find());
    }
    return rows.map((r) => toSeries(r, c));
  }

  async blockAt(series: number, at: number): Promise<Block | undefined> {
    const { rows } = await this.#client.query<BlockDbRow>(
      `SELECT period_start, period_end, checks, data || tail AS data FROM monitor_check_blocks
       WHERE series = $1 AND period_start <= $2 ORDER BY period_start DESC LIMIT 1`,
      [series, finite(at)],
    );
    const row = rows[0];
    return row && row.period_end > at ? toBlock(row) : undefined;
  }

  async legacyNonEmpty(): Promise<boolean> {
    const { rows } = await this.#client.query<{ any: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM monitor_checks) AS any',
    );
    return rows[0]!.any;
  }

  async inLegacy(checks: readonly CheckRow[]): Promise<Set<number>> {
    const { rows } = await this.#client.query<{ i: string }>(
      `SELECT k.i FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[]) WITH ORDINALITY
         AS k (tenant, target, at, region, i)
       WHERE EXISTS (SELECT 1 FROM monitor_checks m WHERE m.tenant = k.tenant AND m.target = k.target
         AND m.scheduled_at = ${ts('k.at')} AND m.region = k.region)`,
      [
        checks.map((k) => k.tenant),
        checks.map((k) => k.target),
        checks.map((k) => bound(k.scheduledAt)),
        checks.map((k) => k.region),
      ],
    );
    return new Set(rows.map((r) => Number(r.i) - 1));
  }

  insertHot(rows: readonly (HotRow & { series: number })[]): Promise<Set<number>> {
    return insertHotChecks(this.#client, rows);
  }

  async lockSeries(ids: readonly number[]): Promise<Series[]> {
    const { rows } = await this.#client.query<SeriesDbRow>(
      `SELECT ${SERIES} FROM monitor_series s WHERE id = ANY($1::int4[]) ORDER BY id FOR UPDATE`,
      [ids],
    );
    return rows.map((r) => toSeries(r, c));
  }

  /** Ranges as query parameters: the series, the starts and the ends. */
  #ranges(ranges: readonly CompactionStep[]): [number[], number[], number[]] {
    return [ranges.map((r) => r.series), ranges.map((r) => finite(r.from)), ranges.map((r) => finite(r.to))];
  }

  async hotIn(ranges: readonly CompactionStep[]): Promise<HotRun[]> {
    // A range's hot rows hold up to 16 checks each, and one a range cuts is split in JS
    // (postgres-hot-checks.ts): a query a range.
    const out: HotRun[] = [];
    for (const r of ranges) out.push(await hotRunIn(this.#client, r.series, r.from, r.to));
    return out;
  }

  legacyIn(series: SeriesKey, from: number, to: number): Promise<CheckRow[]> {
    return legacyBetween(this.#client, series, from, to);
  }

  async blocksIn(ranges: readonly CompactionStep[]): Promise<Block[][]> {
    const out: Block[][] = ranges.map(() => []);
    if (ranges.length === 0) return out;
    const { rows } = await this.#client.query<BlockDbRow & { i: string }>(
      `SELECT r.i, b.period_start, b.period_end, b.checks, b.data || b.tail AS data
       FROM unnest($1::int4[], $2::float8[], $3::float8[]) WITH ORDINALITY AS r (series, f, t, i)
       JOIN monitor_check_blocks b ON b.series = r.series AND b.period_start < r.t AND b.period_end > r.f
       ORDER BY r.i, b.period_start`,
      this.#ranges(ranges),
    );
    for (const row of rows) out[Number(row.i) - 1]!.push(toBlock(row));
    return out;
  }

  async replaceRanges(replacements: readonly Replacement[], legacy: boolean): Promise<void> {
    if (replacements.length === 0) return;
    const client = this.#client;
    const ids = replacements.map((r) => r.series.id);
    const withBlocks = replacements.filter((r) => r.blocks);
    // Hot rows go range by range (a row a range cuts is written again without its checks), then the
    // blocks being merged in one round trip.
    for (const r of replacements) await deleteHotIn(client, r.series.id, r.from, r.to);
    if (withBlocks.length > 0)
      await client.query(
        `DELETE FROM monitor_check_blocks b
         USING unnest($1::int4[], $2::float8[], $3::float8[]) AS k (series, f, t)
         WHERE b.series = k.series AND b.period_start < k.t AND b.period_end > k.f`,
        [withBlocks.map((r) => r.series.id), withBlocks.map((r) => r.from), withBlocks.map((r) => r.to)],
      );
    if (legacy)
      for (const { series: s, from, to } of replacements)
        await client.query(
          `DELETE FROM monitor_checks WHERE tenant = $1 AND target = $2 AND region = $3
           AND scheduled_at >= ${ts('$4')} AND scheduled_at < ${ts('$5')}`,
          [s.tenant, s.target, s.region, bound(from), bound(to)],
        );
    // The new blocks, and the series' compacted_until, in a second (after the blocks they replace).
    const heads: Buffer[] = [];
    const tails: Buffer[] = [];
    for (const { block } of replacements) {
      const data = block.data;
      const head = data.length - (data.length % TOAST_CHUNK);
      heads.push(Buffer.from(data.subarray(0, head)));
      tails.push(Buffer.from(data.subarray(head)));
    }
    await client.query(
      `WITH blocks AS (
         INSERT INTO monitor_check_blocks (series, period_start, period_end, checks, data, tail)
         SELECT * FROM unnest($1::int4[], $2::float8[], $3::float8[], $4::int4[], $5::bytea[], $6::bytea[]))
       UPDATE monitor_series s SET compacted_until = greatest(s.compacted_until, k.t)
       FROM unnest($1::int4[], $3::float8[]) AS k (id, t) WHERE s.id = k.id`,
      [
        ids,
        replacements.map((r) => r.block.periodStart),
        replacements.map((r) => r.block.periodEnd),
        replacements.map((r) => r.block.checks),
        heads,
        tails,
      ],
    );
  }
}

/**
 * Check writes inside a sink's transaction: hot rows in one `INSERT … SELECT FROM unnest … ON
 * CONFLICT DO NOTHING RETURNING`, with a look into the block of a late check's period deciding what
 * is new (check-history.ts); compaction of closed periods into blocks.
 */
export class PostgresCheckWriter implements CheckWriter {
  readonly #client: PoolClient;
  readonly #history: PostgresHistoryWriteSql;
  readonly #partitions: TablePartitions;
  /** This transaction holds INCIDENT_LOCK. */
  #incidentLock = false;

  /** Writes in `tx`; `partitions` are the legacy table's days, dropped by retention. */
  constructor(tx: PostgresTx, partitions: TablePartitions) {
    this.#client = tx.client;
    this.#history = new PostgresHistoryWriteSql(tx.client);
    this.#partitions = partitions;
  }

  async insert(rows: readonly CheckRow[]): Promise<CheckRow[]> {
    const fresh = await insertChecks(this.#history, rows);
    const current = newestPerTarget(fresh);
    if (current.length > 0) {
      await this.#client.query(
        `INSERT INTO monitor_current (tenant, target, at, region, state, body)
         SELECT tenant, target, at, region, state, body::json
         FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::text[], $6::text[])
           AS u (tenant, target, at, region, state, body)
         ON CONFLICT (tenant, target) DO UPDATE SET at = excluded.at, region = excluded.region,
           state = excluded.state, body = excluded.body
         WHERE excluded.at > monitor_current.at
           OR (excluded.at = monitor_current.at AND excluded.region <= monitor_current.region)`,
        columnsOf(current.map(currentValues)),
      );
    }
    return fresh;
  }

  async getRollups(keys: readonly RollupKey[]): Promise<Rollup[]> {
    const unique = [...new Map(keys.map((k) => [rollupId(k), k])).values()];
    if (unique.length === 0) return [];
    const { rows } = await this.#client.query<RollupRow>(
      `SELECT ${ROLLUP_SELECT('r.')}
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[]) WITH ORDINALITY
         AS k (tenant, target, size, start_ms, region, i)
       JOIN monitor_rollups r ON r.tenant = k.tenant AND r.target = k.target AND r.size = k.size
         AND r.start = ${ts('k.start_ms')} AND r.region = k.region
       ORDER BY k.i`,
      columnsOf(unique.map((k) => [k.tenant, k.target, k.size, k.start, k.region])),
    );
    return rows.map((r) => toRollup(r, c));
  }

  async putRollups(rollups: readonly Rollup[]): Promise<void> {
    // One row per key (the last given wins, as successive SQLite upserts would leave it).
    const unique = [...new Map(rollups.map((r) => [rollupId(r), r])).values()];
    if (unique.length === 0) return;
    await this.#client.query(
      `INSERT INTO monitor_rollups (tenant, target, size, start, region, checks, up, latency_sum_ms, latency, errors)
       SELECT tenant, target, size, ${ts('start_ms')}, region, checks, up, latency_sum_ms, latency::json, errors::json
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::int4[], $7::int4[],
         $8::float8[], $9::text[], $10::text[])
         AS u (tenant, target, size, start_ms, region, checks, up, latency_sum_ms, latency, errors)
       ON CONFLICT (tenant, target, size, start, region) DO UPDATE SET checks = excluded.checks,
         up = excluded.up, latency_sum_ms = excluded.latency_sum_ms, latency = excluded.latency,
         errors = excluded.errors`,
      columnsOf(unique.map(rollupValues)),
    );
  }

  async getStates(keys: readonly StateKey[]): Promise<TargetState[]> {
    const unique = [...new Map(keys.map((k) => [stateId(k), k])).values()];
    if (unique.length === 0) return [];
    const { rows } = await this.#client.query<StateRow>(
      `SELECT s.tenant, s.target, s.region, s.down, s.streak, s.fails, s.slow, ${ms('s.streak_start')} AS streak_start,
         ${ms('s.last_scheduled_at')} AS last_scheduled_at, ${ms('s.incident_start')} AS incident_start
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k (tenant, target, region, i)
       JOIN monitor_states s ON s.tenant = k.tenant AND s.target = k.target AND s.region = k.region
       ORDER BY k.i`,
      columnsOf(unique.map((k) => [k.tenant, k.target, k.region])),
    );
    return rows.map((r) => toState(r, c));
  }

  async putStates(states: readonly TargetState[]): Promise<void> {
    const unique = [...new Map(states.map((s) => [stateId(s), s])).values()];
    if (unique.length === 0) return;
    await this.#client.query(
      `INSERT INTO monitor_states (tenant, target, region, down, streak, fails, slow, streak_start, last_scheduled_at,
         incident_start)
       SELECT tenant, target, region, down, streak, fails, slow, ${ts('streak_ms')}, ${ts('last_ms')},
         CASE WHEN incident_ms IS NULL THEN NULL ELSE ${ts('incident_ms')} END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::int4[], $6::int4[], $7::int4[], $8::float8[],
         $9::float8[], $10::float8[]) AS u (tenant, target, region, down, streak, fails, slow, streak_ms, last_ms,
         incident_ms)
       ON CONFLICT (tenant, target, region) DO UPDATE SET down = excluded.down, streak = excluded.streak,
         fails = excluded.fails, slow = excluded.slow,
         streak_start = excluded.streak_start, last_scheduled_at = excluded.last_scheduled_at,
         incident_start = excluded.incident_start`,
      columnsOf(unique.map(stateValues)),
    );
  }

  async targetFacts(tenant: string, ids: readonly string[]): Promise<Map<string, TargetFacts>> {
    const out = new Map<string, TargetFacts>();
    if (ids.length === 0) return out;
    const { rows } = await this.#client.query<Pick<TargetRow, 'id' | 'spec'>>(
      'SELECT id, spec FROM monitor_targets WHERE tenant = $1 AND id = ANY($2::text[])',
      [tenant, [...ids]],
    );
    const found = new Map(rows.map((r) => [r.id, r]));
    // In the order asked, as SQLite answers.
    for (const id of ids) {
      const row = found.get(id);
      if (row) out.set(id, toTargetFacts(row, c));
    }
    return out;
  }

  async #lockIncidents(): Promise<void> {
    if (this.#incidentLock) return;
    await this.#client.query('SELECT pg_advisory_xact_lock($1)', [INCIDENT_LOCK]);
    this.#incidentLock = true;
  }

  async openIncident(i: Incident): Promise<void> {
    await this.#lockIncidents();
    await this.#client.query(
      `INSERT INTO monitor_incidents (tenant, target, started_at, region, ended_at, cause, detail, seq)
       VALUES ($1, $2, ${ts('$3')}, $4, NULL, $5, $6, ${NEXT_SEQ}) ON CONFLICT DO NOTHING`,
      [i.tenant, i.target, i.startedAt, i.region, i.cause, i.detail],
    );
  }

  async closeIncident(k: IncidentKey, endedAt: number): Promise<void> {
    await this.#lockIncidents();
    await this.#client.query(
      `UPDATE monitor_incidents SET ended_at = ${ts('$1')}, seq = ${NEXT_SEQ}
       WHERE tenant = $2 AND target = $3 AND started_at = ${ts('$4')} AND region = $5`,
      [endedAt, k.tenant, k.target, k.startedAt, k.region],
    );
  }

  /**
   * Retention of raw checks: hot rows before `before` and blocks whose whole period is before it;
   * legacy rows by whole days dropping their partitions (chunks with TimescaleDB),
   * counted first so the answer is the number of checks as in SQLite, and the rest of the day
   * `before` falls in row by row. Hour and day rollups, states and incidents are kept.
   */
  async deleteChecksBefore(before: number): Promise<number> {
    const client = this.#client;
    const at = bound(before);
    const hot = await deleteHotBefore(client, before);
    const blocks = await client.query<{ n: string | null }>(
      `WITH gone AS (DELETE FROM monitor_check_blocks WHERE period_end <= $1 RETURNING checks)
       SELECT sum(checks) AS n FROM gone`,
      [finite(before)],
    );
    let n = hot + Number(blocks.rows[0]?.n ?? 0);
    if (this.#partitions.layout === 'native') {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      // A partition [day, day + 1) is wholly before `before` when it ends at or before it.
      n += (await this.#partitions.dropBefore(client, Math.floor(at / 86_400_000), true)).rows;
    } else {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM monitor_checks WHERE scheduled_at < ${ts('$1')}`,
        [at],
      );
      // The count covers both the chunks dropped whole and the rows deleted below.
      n += Number(rows[0]!.n);
      await client.query(`SELECT drop_chunks('monitor_checks', older_than => ${ts('$1')})`, [at]);
      await client.query(`DELETE FROM monitor_checks WHERE scheduled_at < ${ts('$1')}`, [at]);
      return n;
    }
    const rest = await client.query(`DELETE FROM monitor_checks WHERE scheduled_at < ${ts('$1')}`, [at]);
    return n + (rest.rowCount ?? 0);
  }

  async compactionCandidates(
    afterId: number,
    limit: number,
    periodMs: number,
  ): Promise<CompactionCandidate[]> {
    const { rows } = await this.#client.query<
      SeriesDbRow & { oldest_hot: number | null; oldest_legacy: number | null; interim: number | null }
    >(
      `SELECT ${SERIES},
         (SELECT min(start) FROM monitor_hot_checks h WHERE h.series = s.id) AS oldest_hot,
         (SELECT ${ms('min(m.scheduled_at)')} FROM monitor_checks m WHERE ${LEGACY_SERIES_MATCH}) AS oldest_legacy,
         (SELECT min(period_start) FROM monitor_check_blocks b
           WHERE b.series = s.id AND b.period_start >= s.compacted_until - $1
             AND b.period_end - b.period_start < $1) AS interim
       FROM monitor_series s WHERE s.id > $2 ORDER BY s.id LIMIT $3`,
      [periodMs, afterId, limit],
    );
    return rows.map((r) => ({
      series: toSeries(r, c),
      oldestRow:
        r.oldest_hot === null
          ? r.oldest_legacy
          : r.oldest_legacy === null
            ? r.oldest_hot
            : Math.min(r.oldest_hot, r.oldest_legacy),
      interimStart: r.interim,
    }));
  }

  async adoptLegacy(after: TargetRef | undefined): Promise<TargetRef | undefined> {
    const { rows } = await this.#client.query<TargetRef>(
      `SELECT tenant, target FROM monitor_checks WHERE (tenant, target) > ($1, $2)
       ORDER BY tenant, target LIMIT 1`,
      [after?.tenant ?? '', after?.target ?? ''],
    );
    const next = rows[0];
    if (!next) return undefined;
    await this.#client.query(
      `INSERT INTO monitor_series (tenant, target, region)
       SELECT DISTINCT m.tenant, m.target, m.region FROM monitor_checks m
       WHERE m.tenant = $1 AND m.target = $2
         AND NOT EXISTS (SELECT 1 FROM monitor_series s WHERE ${LEGACY_SERIES_MATCH})
       ON CONFLICT DO NOTHING`,
      [next.tenant, next.target],
    );
    return { tenant: next.tenant, target: next.target };
  }

  compact(steps: readonly CompactionStep[]): Promise<(Compacted | undefined)[]> {
    return compactRanges(this.#history, steps);
  }

  async resetDerived(): Promise<void> {
    await this.#client.query('TRUNCATE monitor_rollups, monitor_states, monitor_incidents');
  }
}

/**
 * The monitor on PostgreSQL: checks in daily partitions (made ahead and on demand, dropped by the
 * monitor's own retention through `deleteChecksBefore`); targets, rollups, states and incidents plain.
 */
export const postgresMonitor: PostgresWing<MonitorRepositories, MonitorWriters> = {
  name: 'monitor',
  storage: monitorStorage,
  migrations: postgresMigrations,
  open: ({ db, pool, layout }) => {
    const partitions = new TablePartitions(layout, { table: 'monitor_checks', column: 'scheduled_at' });
    return {
      repositories: {
        monitor: new PostgresMonitorReader(db),
        targets: new PostgresTargetWriter(pool, db),
        alertRules: new PostgresDefinitions<AlertRuleSpec, AlertRule>(
          'monitor_alert_rules',
          db,
          pool,
          'monitor_alert_states',
        ),
        maintenance: new PostgresDefinitions<MaintenanceSpec, MaintenanceWindow>(
          'monitor_maintenance',
          db,
          pool,
        ),
        pushes: new PostgresPushRepository(db),
        statusPages: new PostgresStatusPages(db),
      },
      writers: (tx) => ({
        checks: new PostgresCheckWriter(tx, partitions),
        alerts: new PostgresAlertWriter(tx.client),
      }),
    };
  },
};
