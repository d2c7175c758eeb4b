import { sqliteColumns as c } from '../../store/columns.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import type { SqliteDatabase } from '../../sqlite/database.ts';
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
import type { SeriesKey } from './check-blocks.ts';
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
  TargetRef,
  TargetSearch,
  TargetWriter,
  FileTargetsChange,
  FileTargetsLoad,
} from './repositories.ts';
import { currentValues, newestPerTarget, targetFilterSql, type SpecDialect } from './target-filter.ts';
import type { AlertRule, AlertRuleSpec } from '../alert-rules.ts';
import type { MaintenanceSpec, MaintenanceWindow } from '../maintenance.ts';
import { SqliteAlertWriter, SqliteDefinitions, SqlitePushRepository } from './sqlite-alerting.ts';
import { SqliteStatusPages } from './sqlite-status-pages.ts';
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
  type HotDbRow,
  type RollupRow,
  type SeriesDbRow,
  type StateRow,
  type TargetRow,
  toBlock,
  toHotRow,
  toSeries,
} from './rows.ts';
import { sqliteMigrations } from './sqlite-migrations.ts';
import { monitorStorage } from './storage.ts';

/** The seq of the next incident change: MAX + 1 is unique and rising, for SQLite has one writer. */
const NEXT_SEQ = '(SELECT COALESCE(MAX(seq), 0) + 1 FROM monitor_incidents)';

/** Bounds SQLite can compare with: ±Infinity as the largest doubles. */
const finite = (n: number) => Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, n));

const SERIES = 's.id, s.tenant, s.target, s.region, s.compacted_until';

/** A number as SQLite writes it in text (as group_concat does): infinities are its words. */
const timeOf = (text: string): number =>
  text === 'Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);

/**
 * Times as group_concat writes them, comma-separated, without a string per time (a day of them would
 * be garbage to collect): whole milliseconds digit by digit, anything else by {@link timeOf}.
 */
function parseTimes(text: string): number[] {
  const out: number[] = [];
  for (let start = 0; start <= text.length;) {
    let i = start;
    let value = 0;
    let digits = true;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 44) break;
      // 15 digits are below 2^53: exact.
      if (c >= 48 && c <= 57 && i - start < 15) value = value * 10 + (c - 48);
      else digits = false;
    }
    out.push(digits && i > start ? value : timeOf(text.slice(start, i)));
    start = i + 1;
  }
  return out;
}

/**
 * A block's data as its row and its tails hold it (migration 22): the head in the row, then each
 * tail piece in order (keyed by the block's id × 16 + its number). Blocks written before have no
 * tails. The bytes are concatenated as text and cast back, which keeps them as they are (a UTF-8
 * database does not convert them).
 */
const BLOCK_DATA = `CAST(b.data || COALESCE((SELECT group_concat(t.data, '' ORDER BY t.piece)
  FROM monitor_check_block_tails t WHERE t.piece BETWEEN b.id * 16 AND b.id * 16 + 15), '') AS BLOB)`;

/**
 * How a block's data is laid out in pages (4 KB). A row larger than a page keeps a part of itself in
 * its leaf page and the rest in full overflow pages (4,092 B each); that part is 489 B plus the
 * row's length past a multiple of 4,092, so it fell anywhere in 0.5–4 KB, and leaf pages of such
 * parts were left about a fifth empty. The row keeps BLOCK_HEAD bytes in its leaf (with its other
 * columns, just under SQLite's 489) plus what the tail pieces leave over, under BLOCK_PIECE; each
 * whole piece of BLOCK_PIECE is a tail row, eight of which fill a leaf page.
 */
const BLOCK_HEAD = 470;
const OVERFLOW_PAGE = 4092;
const BLOCK_PIECE = 499;

/** Where a block's data splits: its row holds [0, head), each tail piece BLOCK_PIECE from there. */
function blockHead(length: number): number {
  const overflow = Math.max(0, Math.floor((length - BLOCK_HEAD) / OVERFLOW_PAGE)) * OVERFLOW_PAGE;
  const rest = length - BLOCK_HEAD - overflow;
  return rest <= 0 ? length : length - Math.floor(rest / BLOCK_PIECE) * BLOCK_PIECE;
}

/** The SQL of check history on SQLite (hot rows, blocks, legacy rows); check-history.ts does the rest. */
class SqliteHistoryReadSql implements HistoryReadSql {
  readonly #db: SqliteDatabase;
  // Prepared once: a page of checks runs several of these, and preparing costs as much as running.
  readonly #series;
  readonly #hotRows;
  readonly #blocks;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#series = db.prepare<[string, string], SeriesDbRow>(
      `SELECT ${SERIES} FROM monitor_series s WHERE tenant = ? AND target = ? ORDER BY region`,
    );
    const below = (op: string) =>
      db.prepare<[number, number, number, number], HotDbRow>(
        `SELECT scheduled_at, body FROM monitor_hot_checks
         WHERE series = ? AND scheduled_at ${op} ? AND scheduled_at >= ? ORDER BY scheduled_at DESC LIMIT ?`,
      );
    this.#hotRows = { exclusive: below('<'), inclusive: below('<=') };
    const blocks = (op: string) =>
      db.prepare<[number, number, number, number], BlockDbRow>(
        `SELECT period_start, period_end, checks, ${BLOCK_DATA} AS data FROM monitor_check_blocks b
         WHERE series = ? AND period_start ${op} ? AND period_end > ? ORDER BY period_start DESC LIMIT ?`,
      );
    this.#blocks = { exclusive: blocks('<'), inclusive: blocks('<=') };
  }

  series(tenant: string, target: string): Promise<Series[]> {
    return Promise.resolve(this.#series.all(tenant, target).map((r) => toSeries(r, c)));
  }

  hotRows(series: number, range: Range, limit: number): Promise<HotRow[]> {
    const statement = range.inclusive ? this.#hotRows.inclusive : this.#hotRows.exclusive;
    return Promise.resolve(
      statement.all(series, finite(range.below), finite(range.from), limit).map(toHotRow),
    );
  }

  blocks(series: number, range: Range, limit: number): Promise<Block[]> {
    const statement = range.inclusive ? this.#blocks.inclusive : this.#blocks.exclusive;
    return Promise.resolve(
      statement.all(series, finite(range.below), finite(range.from), limit).map(toBlock),
    );
  }

  legacyRows(query: CheckQuery): Promise<CheckRow[]> {
    const where = ['tenant = @tenant', 'target = @target'];
    if (query.before)
      where.push('(scheduled_at < @beforeAt OR (scheduled_at = @beforeAt AND region < @beforeRegion))');
    if (query.from !== undefined) where.push('scheduled_at >= @from');
    if (query.to !== undefined) where.push('scheduled_at < @to');
    const rows = this.#db
      .prepare<Record<string, unknown>, CheckDbRow>(
        `SELECT ${CHECK_COLUMNS.join(', ')} FROM monitor_checks WHERE ${where.join(' AND ')}
         ORDER BY scheduled_at DESC, region DESC LIMIT @limit`,
      )
      .all({
        tenant: query.tenant,
        target: query.target,
        beforeAt: query.before?.scheduledAt,
        beforeRegion: query.before?.region,
        from: query.from,
        to: query.to,
        limit: query.limit,
      });
    return Promise.resolve(rows.map((r) => toCheck(r, c)));
  }

  hotBetween(series: number, from: number, to: number): Promise<HotRow[]> {
    return Promise.resolve(hotBetween(this.#db, series, from, to));
  }

  legacyBetween(series: SeriesKey, from: number, to: number): Promise<CheckRow[]> {
    return Promise.resolve(legacyBetween(this.#db, series, from, to));
  }

  legacyOfTarget(tenant: string, target: string, from: number, to: number): Promise<CheckRow[]> {
    const rows = this.#db
      .prepare<[string, string, number, number], CheckDbRow>(
        `SELECT ${CHECK_COLUMNS.join(', ')} FROM monitor_checks
         WHERE tenant = ? AND target = ? AND scheduled_at >= ? AND scheduled_at < ?`,
      )
      .all(tenant, target, finite(from), finite(to));
    return Promise.resolve(rows.map((r) => toCheck(r, c)));
  }

  seriesAfter(afterId: number, limit: number): Promise<Series[]> {
    const rows = this.#db
      .prepare<[number, number], SeriesDbRow>(
        `SELECT ${SERIES} FROM monitor_series s WHERE id > ? ORDER BY id LIMIT ?`,
      )
      .all(afterId, limit);
    return Promise.resolve(rows.map((r) => toSeries(r, c)));
  }

  span(s: Series): Promise<{ first: number; end: number } | undefined> {
    const row = this.#db
      .prepare<Record<string, unknown>, { first: number | null; end: number | null }>(
        `SELECT MIN(first) AS first, MAX(last) AS end FROM (
           SELECT MIN(scheduled_at) AS first, MAX(scheduled_at) + 1 AS last FROM monitor_hot_checks WHERE series = @id
           UNION ALL
           SELECT MIN(period_start), MAX(period_end) FROM monitor_check_blocks WHERE series = @id
           UNION ALL
           SELECT MIN(scheduled_at), MAX(scheduled_at) + 1 FROM monitor_checks
             WHERE tenant = @tenant AND target = @target AND region = @region)`,
      )
      .get({ id: s.id, tenant: s.tenant, target: s.target, region: s.region })!;
    return Promise.resolve(
      row.first === null || row.end === null ? undefined : { first: row.first, end: row.end },
    );
  }

  newestHot(tenant: string): Promise<(HotRow & { series: Series })[]> {
    const rows = this.#db
      .prepare<[string], SeriesDbRow & HotDbRow>(
        `SELECT ${SERIES}, h.scheduled_at, h.body
         FROM monitor_targets t JOIN monitor_series s ON s.tenant = t.tenant AND s.target = t.id
         JOIN monitor_hot_checks h ON h.series = s.id
           AND h.scheduled_at = (SELECT MAX(scheduled_at) FROM monitor_hot_checks WHERE series = s.id)
         WHERE t.tenant = ?`,
      )
      .all(tenant);
    return Promise.resolve(rows.map((r) => ({ ...toHotRow(r), series: toSeries(r, c) })));
  }

  newestBlocks(tenant: string): Promise<(Block & { series: Series })[]> {
    const rows = this.#db
      .prepare<[string], SeriesDbRow & BlockDbRow>(
        `SELECT ${SERIES}, b.period_start, b.period_end, b.checks, ${BLOCK_DATA} AS data
         FROM monitor_targets t JOIN monitor_series s ON s.tenant = t.tenant AND s.target = t.id
         JOIN monitor_check_blocks b ON b.series = s.id
           AND b.period_start = (SELECT MAX(period_start) FROM monitor_check_blocks WHERE series = s.id)
         WHERE t.tenant = ? AND s.compacted_until >
           COALESCE((SELECT MAX(scheduled_at) FROM monitor_hot_checks WHERE series = s.id), -1e308)`,
      )
      .all(tenant);
    return Promise.resolve(rows.map((r) => ({ ...toBlock(r), series: toSeries(r, c) })));
  }

  newestLegacy(tenant: string): Promise<CheckRow[]> {
    const rows = this.#db
      .prepare<[string], CheckDbRow>(
        `SELECT ${CHECK_COLUMNS.map((column) => `c.${column}`).join(', ')}
         FROM monitor_targets t JOIN monitor_checks c ON c.tenant = t.tenant AND c.target = t.id
         WHERE t.tenant = ? AND c.scheduled_at = (
           SELECT MAX(scheduled_at) FROM monitor_checks m WHERE m.tenant = t.tenant AND m.target = t.id)`,
      )
      .all(tenant);
    return Promise.resolve(rows.map((r) => toCheck(r, c)));
  }
}

/** Hot rows of a series in [from, to), oldest first. */
function hotBetween(db: SqliteDatabase, series: number, from: number, to: number): HotRow[] {
  return db
    .prepare<[number, number, number], HotDbRow>(
      `SELECT scheduled_at, body FROM monitor_hot_checks
       WHERE series = ? AND scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at`,
    )
    .all(series, finite(from), finite(to))
    .map(toHotRow);
}

/** Legacy rows of a series in [from, to), oldest first. */
/** Rows from before blocks of one series in [from, to), oldest first (tenant, target, region, from, to). */
const LEGACY_BETWEEN = `SELECT ${CHECK_COLUMNS.join(', ')} FROM monitor_checks
  WHERE tenant = ? AND target = ? AND region = ? AND scheduled_at >= ? AND scheduled_at < ?
  ORDER BY scheduled_at`;

function legacyBetween(db: SqliteDatabase, s: SeriesKey, from: number, to: number): CheckRow[] {
  return db
    .prepare<[string, string, string, number, number], CheckDbRow>(LEGACY_BETWEEN)
    .all(s.tenant, s.target, s.region, finite(from), finite(to))
    .map((r) => toCheck(r, c));
}

/** Target specs as SQLite's JSON functions read them. */
const SQLITE_SPEC: SpecDialect = {
  text: (field) => `json_extract(t.spec, '$.${field}')`,
  paused: "COALESCE(json_extract(t.spec, '$.paused'), 0) = 1",
  hasTag: (p) => `EXISTS (SELECT 1 FROM json_each(t.spec, '$.tags') g WHERE g.value = ${p})`,
  haystack: `lower(t.id || ${['name', 'url', 'host', 'query']
    .map((f) => `char(10) || COALESCE(json_extract(t.spec, '$.${f}'), '')`)
    .join(' || ')})`,
  specText: 't.spec',
  contains: (haystack, p) => `instr(${haystack}, ${p}) > 0`,
  idIn: (p) => `t.id IN (SELECT value FROM json_each(${p}))`,
  idList: (ids) => JSON.stringify(ids),
  param: () => '?',
};

/** Reads targets and their history on the read-only connection; answers as PostgresMonitorReader does. */
export class SqliteMonitorReader implements MonitorReader {
  readonly #db: SqliteDatabase;
  readonly #history: CheckHistory;
  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#history = new CheckHistory(new SqliteHistoryReadSql(db));
  }

  getTarget(tenant: string, id: string): Promise<Target | undefined> {
    const row = this.#db
      .prepare<[string, string], TargetRow>('SELECT * FROM monitor_targets WHERE tenant = ? AND id = ?')
      .get(tenant, id);
    return Promise.resolve(row && toTarget(row, c));
  }

  listTargets(tenant: string, limit: number, after?: string): Promise<Target[]> {
    const rows = this.#db
      .prepare<[string, string, number], TargetRow>(
        'SELECT * FROM monitor_targets WHERE tenant = ? AND id > ? ORDER BY id LIMIT ?',
      )
      .all(tenant, after ?? '', limit);
    return Promise.resolve(rows.map((r) => toTarget(r, c)));
  }

  searchTargets(search: TargetSearch): Promise<ListedTarget[]> {
    const { where, params } = targetFilterSql(search, SQLITE_SPEC);
    const rows = this.#db
      .prepare<unknown[], TargetRow & { current: string | null }>(
        `SELECT t.*, cur.body AS current FROM monitor_targets t
         LEFT JOIN monitor_current cur ON cur.tenant = t.tenant AND cur.target = t.id
         WHERE ${where} AND t.id > ? ORDER BY t.id LIMIT ?`,
      )
      .all(...params, search.after ?? '', search.limit);
    return Promise.resolve(
      rows.map((r) => ({
        target: toTarget(r, c),
        current: r.current === null ? undefined : c.json<CheckRow>(r.current),
      })),
    );
  }

  countTargets(filter: TargetFilter): Promise<number> {
    const { where, params } = targetFilterSql(filter, SQLITE_SPEC);
    const row = this.#db
      .prepare<unknown[], { n: number }>(`SELECT COUNT(*) AS n FROM monitor_targets t WHERE ${where}`)
      .get(...params)!;
    return Promise.resolve(row.n);
  }

  rollupsOf(
    tenant: string,
    targets: readonly string[],
    size: 'hour' | 'day',
    from: number,
    to: number,
  ): Promise<Rollup[]> {
    if (targets.length === 0) return Promise.resolve([]);
    const rows = this.#db
      .prepare<[string, string, string, number, number], RollupRow>(
        `SELECT * FROM monitor_rollups
         WHERE tenant = ? AND target IN (SELECT value FROM json_each(?)) AND size = ? AND start >= ? AND start < ?
         ORDER BY target, start, region`,
      )
      .all(tenant, JSON.stringify(targets), size, from, to);
    return Promise.resolve(rows.map((r) => toRollup(r, c)));
  }

  targetPages(size = TARGET_PAGE): AsyncIterable<Target[]> {
    const first = this.#db.prepare<[number], TargetRow>(
      'SELECT * FROM monitor_targets ORDER BY tenant, id LIMIT ?',
    );
    const next = this.#db.prepare<[string, string, number], TargetRow>(
      'SELECT * FROM monitor_targets WHERE (tenant, id) > (?, ?) ORDER BY tenant, id LIMIT ?',
    );
    return keysetPages(size, (after) =>
      Promise.resolve(
        (after ? next.all(after.tenant, after.id, size) : first.all(size)).map((r) => toTarget(r, c)),
      ),
    );
  }

  targetsVersion(): Promise<string> {
    const v = this.#db
      .prepare<[], { n: number; latest: number; total: number }>(
        'SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS latest, COALESCE(SUM(updated_at), 0) AS total FROM monitor_targets',
      )
      .get()!;
    return Promise.resolve(`${v.n}:${v.latest}:${v.total}`);
  }

  listChecks(query: CheckQuery): Promise<CheckRow[]> {
    return this.#history.listChecks(query);
  }

  seriesCount(): Promise<number> {
    return Promise.resolve(
      this.#db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM monitor_series').get()!.n,
    );
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
    const rows = this.#db
      .prepare<[string, string, string, number, number], RollupRow>(
        `SELECT * FROM monitor_rollups WHERE tenant = ? AND target = ? AND size = ? AND start >= ? AND start < ?
         ORDER BY start, region`,
      )
      .all(query.tenant, query.target, query.size, query.from, query.to);
    return rows.map((r) => toRollup(r, c));
  }

  listIncidents(tenant: string, target: string, limit: number, before?: number): Promise<Incident[]> {
    const rows = this.#db
      .prepare<[string, string, number, number], IncidentRow>(
        `SELECT * FROM monitor_incidents WHERE tenant = ? AND target = ? AND started_at < ?
         ORDER BY started_at DESC, region LIMIT ?`,
      )
      .all(tenant, target, before ?? Number.MAX_SAFE_INTEGER, limit);
    return Promise.resolve(rows.map(toIncident));
  }

  incidentsOf(tenant: string, targets: readonly string[], since: number, limit: number): Promise<Incident[]> {
    if (targets.length === 0) return Promise.resolve([]);
    const rows = this.#db
      .prepare<[string, string, number, number], IncidentRow>(
        `SELECT * FROM monitor_incidents
         WHERE tenant = ? AND target IN (SELECT value FROM json_each(?)) AND (ended_at IS NULL OR ended_at >= ?)
         ORDER BY started_at DESC, target, region LIMIT ?`,
      )
      .all(tenant, JSON.stringify(targets), since, limit);
    return Promise.resolve(rows.map(toIncident));
  }

  incidentChanges(afterSeq: number, limit: number): Promise<IncidentChange[]> {
    const rows = this.#db
      .prepare<[number, number], IncidentRow>(
        'SELECT * FROM monitor_incidents WHERE seq > ? ORDER BY seq LIMIT ?',
      )
      .all(afterSeq, limit);
    return Promise.resolve(rows.map((r) => toIncidentChange(r, c)));
  }

  lastIncidentSeq(): Promise<number> {
    const row = this.#db
      .prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM monitor_incidents')
      .get();
    return Promise.resolve(row?.seq ?? 0);
  }

  latestChecks(tenant: string): Promise<CheckRow[]> {
    return this.#history.latestChecks(tenant);
  }
}

/** Target writes; `serial` runs each one in the store's write queue so none lands inside a sink's transaction. */
export class SqliteTargetWriter implements TargetWriter {
  readonly #db: SqliteDatabase;
  readonly #serial: <T>(fn: () => T) => Promise<T>;
  /** Settles when the load under way (if any) is over: loads share the TEMP table, one at a time. */
  #fileLoad: Promise<void> = Promise.resolve();
  constructor(db: SqliteDatabase, serial: <T>(fn: () => T) => Promise<T>) {
    this.#db = db;
    this.#serial = serial;
  }

  create(t: Target): Promise<boolean> {
    return this.#serial(
      () =>
        this.#db
          .prepare(
            `INSERT INTO monitor_targets (tenant, id, source, spec, created_at, updated_at, push_token)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          )
          .run(targetValues(t)).changes === 1,
    );
  }

  update(tenant: string, id: string, spec: TargetSpec, at: number): Promise<boolean> {
    return this.#serial(
      () =>
        this.#db
          .prepare(
            'UPDATE monitor_targets SET spec = ?, updated_at = ?, push_token = ? WHERE tenant = ? AND id = ?',
          )
          .run(JSON.stringify(spec), at, pushTokenOf(spec), tenant, id).changes === 1,
    );
  }

  delete(tenant: string, id: string): Promise<boolean> {
    return this.#serial(() => {
      // A target made again with this id starts with no state.
      this.#db.prepare('DELETE FROM monitor_current WHERE tenant = ? AND target = ?').run(tenant, id);
      return (
        this.#db.prepare('DELETE FROM monitor_targets WHERE tenant = ? AND id = ?').run(tenant, id)
          .changes === 1
      );
    });
  }

  sourceOf(tenant: string, id: string): Promise<TargetSource | undefined> {
    const row = this.#db
      .prepare<[string, string], { source: TargetSource }>(
        'SELECT source FROM monitor_targets WHERE tenant = ? AND id = ?',
      )
      .get(tenant, id);
    return Promise.resolve(row?.source);
  }

  loadFileTargets(): Promise<FileTargetsLoad> {
    const before = this.#fileLoad;
    let over!: () => void;
    this.#fileLoad = new Promise<void>((resolve) => (over = resolve));
    return before.then(() =>
      this.#serial(() => new SqliteFileTargetsLoad(this.#db, this.#serial, over)).catch((err: unknown) => {
        over();
        throw err;
      }),
    );
  }

  replaceFileTargets(targets: Iterable<Target>): Promise<FileTargetsChange> {
    return replaceThroughLoad(this, targets);
  }
}

/**
 * A load of the file's targets (see FileTargetsLoad), set aside in a TEMP table of the write
 * connection, which takes no lock on the store and which no reader sees. For the load's length the
 * connection keeps temporary data in a file, not in memory: SQLite's TEMP database in memory kept the
 * whole set in malloc'd pages (about 300 bytes a target), which glibc did not give back, and the
 * probe's steady RSS at 20,000 targets rose 7 MB (issue 20). Every statement runs in the store's
 * write queue, so none lands in a sink's transaction.
 */
class SqliteFileTargetsLoad implements FileTargetsLoad {
  readonly #db: SqliteDatabase;
  readonly #serial: <T>(fn: () => T) => Promise<T>;
  readonly #over: () => void;
  readonly #tempStore: number;
  readonly #add;
  #done = false;

  /** Call in the write queue. */
  constructor(db: SqliteDatabase, serial: <T>(fn: () => T) => Promise<T>, over: () => void) {
    this.#db = db;
    this.#serial = serial;
    this.#over = over;
    this.#tempStore = db.pragma('temp_store', { simple: true }) as number;
    // Setting temp_store drops every TEMP table: this is the only one, and it is made afresh. Its
    // pages in SQLite's cache are 256 KiB, not the connection's default of 16 MiB.
    db.exec(`PRAGMA temp_store = FILE;
      PRAGMA temp.cache_size = -256;
      CREATE TEMP TABLE monitor_file_targets (
        tenant TEXT NOT NULL, id TEXT NOT NULL, spec TEXT NOT NULL, created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL, push_token TEXT, PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;`);
    this.#add = db.prepare<[string, string, string, number, number, string | null]>(
      `INSERT INTO temp.monitor_file_targets VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, created_at = excluded.created_at,
         updated_at = excluded.updated_at, push_token = excluded.push_token`,
    );
  }

  async add(targets: readonly Target[]): Promise<void> {
    this.#open();
    await this.#serial(() =>
      this.#db.transaction(() => {
        for (const t of targets)
          this.#add.run(t.tenant, t.id, specText(t), t.createdAt, t.updatedAt, pushTokenOf(t));
      })(),
    );
  }

  async commit(): Promise<FileTargetsChange> {
    this.#open();
    const db = this.#db;
    const change = await this.#serial(() =>
      db.transaction(() => {
        // A spec that did not change is not rewritten (nor counted); an API target of the same id wins.
        const upserted = db
          .prepare(
            `INSERT INTO monitor_targets (tenant, id, source, spec, created_at, updated_at, push_token)
             SELECT tenant, id, 'file', spec, created_at, updated_at, push_token
             FROM temp.monitor_file_targets WHERE true
             ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at,
               push_token = excluded.push_token
             WHERE monitor_targets.source = 'file' AND monitor_targets.spec <> excluded.spec`,
          )
          .run().changes;
        const deleted = db
          .prepare(
            `DELETE FROM monitor_targets WHERE source = 'file' AND NOT EXISTS (
               SELECT 1 FROM temp.monitor_file_targets f
               WHERE f.tenant = monitor_targets.tenant AND f.id = monitor_targets.id)`,
          )
          .run().changes;
        return { upserted, deleted };
      })(),
    );
    await this.#end();
    return change;
  }

  async discard(): Promise<void> {
    if (!this.#done) await this.#end();
  }

  #open(): void {
    if (this.#done) throw new Error('this load of file targets is over');
  }

  /** Drops the table and its file, and gives the connection back its own temp_store. */
  async #end(): Promise<void> {
    this.#done = true;
    try {
      await this.#serial(() =>
        this.#db.exec(`DROP TABLE temp.monitor_file_targets; PRAGMA temp_store = ${this.#tempStore}`),
      );
    } finally {
      this.#over();
    }
  }
}

/** The SQL of check writes and compaction on SQLite's one write connection (transactions are serial). */
class SqliteHistoryWriteSql implements HistoryWriteSql, CompactionSql {
  readonly #findSeries;
  readonly #makeSeries;
  readonly #insertHot;
  readonly #blockAt;
  readonly #inLegacy;
  // Compaction's statements, prepared once: a step runs each once, and preparing one costs about as
  // much as running it on a day of rows.
  readonly #legacyAny;
  readonly #lockSeries;
  readonly #hotRun;
  readonly #legacyIn;
  readonly #blocksIn;
  readonly #replace;

  constructor(db: SqliteDatabase) {
    this.#findSeries = db.prepare<[string, string, string], SeriesDbRow>(
      `SELECT ${SERIES} FROM monitor_series s WHERE tenant = ? AND target = ? AND region = ?`,
    );
    this.#makeSeries = db.prepare<[string, string, string], SeriesDbRow>(
      `INSERT INTO monitor_series (tenant, target, region) VALUES (?, ?, ?)
       RETURNING id, tenant, target, region, compacted_until`,
    );
    this.#insertHot = db.prepare<[number, number, Uint8Array]>(
      'INSERT INTO monitor_hot_checks (series, scheduled_at, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#blockAt = db.prepare<[number, number], BlockDbRow>(
      `SELECT period_start, period_end, checks, ${BLOCK_DATA} AS data FROM monitor_check_blocks b
       WHERE series = ? AND period_start <= ? ORDER BY period_start DESC LIMIT 1`,
    );
    this.#inLegacy = db.prepare<[string, string, number, string], { n: number }>(
      'SELECT 1 AS n FROM monitor_checks WHERE tenant = ? AND target = ? AND scheduled_at = ? AND region = ?',
    );
    this.#legacyAny = db.prepare('SELECT 1 FROM monitor_checks LIMIT 1');
    this.#lockSeries = db.prepare<[number], SeriesDbRow>(
      `SELECT ${SERIES} FROM monitor_series s WHERE id = ?`,
    );
    // A range of hot rows as two values: their times as text and their bodies as one blob, both in
    // the order the rows came (one row stream feeds both). better-sqlite3 makes a Buffer per blob it
    // returns, which costs more than decoding the body; a body's format says where it ends, and
    // group_concat appends its bytes as they are. Times as text are exact: SQLite writes a double
    // with 17 significant digits.
    this.#hotRun = db
      .prepare<[number, number, number], [string | null, Uint8Array | null]>(
        `SELECT group_concat(scheduled_at), CAST(group_concat(body, '') AS BLOB) FROM (
           SELECT scheduled_at, body FROM monitor_hot_checks
           WHERE series = ? AND scheduled_at >= ? AND scheduled_at < ? ORDER BY scheduled_at)`,
      )
      .raw();
    this.#legacyIn = db.prepare<[string, string, string, number, number], CheckDbRow>(LEGACY_BETWEEN);
    this.#blocksIn = db.prepare<[number, number, number], BlockDbRow>(
      `SELECT period_start, period_end, checks, ${BLOCK_DATA} AS data FROM monitor_check_blocks b
       WHERE series = ? AND period_start < ? AND period_end > ? ORDER BY period_start`,
    );
    this.#replace = {
      hot: db.prepare<[number, number, number]>(
        'DELETE FROM monitor_hot_checks WHERE series = ? AND scheduled_at >= ? AND scheduled_at < ?',
      ),
      legacy: db.prepare<[string, string, number, number, string]>(
        'DELETE FROM monitor_checks WHERE tenant = ? AND target = ? AND scheduled_at >= ? AND scheduled_at < ? AND region = ?',
      ),
      blocks: db.prepare<[number, number, number]>(
        'DELETE FROM monitor_check_blocks WHERE series = ? AND period_start < ? AND period_end > ?',
      ),
      block: db.prepare<[number, number, number, number, Uint8Array]>(
        'INSERT INTO monitor_check_blocks (series, period_start, period_end, checks, data) VALUES (?, ?, ?, ?, ?)',
      ),
      tail: db.prepare<[number | bigint, Uint8Array]>(
        'INSERT INTO monitor_check_block_tails (piece, data) VALUES (?, ?)',
      ),
      series: db.prepare<[number, number]>(
        'UPDATE monitor_series SET compacted_until = MAX(compacted_until, ?) WHERE id = ?',
      ),
    };
  }

  seriesFor(keys: readonly SeriesKey[]): Promise<Series[]> {
    return Promise.resolve(
      keys.map((k) => {
        const row =
          this.#findSeries.get(k.tenant, k.target, k.region) ??
          this.#makeSeries.get(k.tenant, k.target, k.region)!;
        return toSeries(row, c);
      }),
    );
  }

  blockAt(series: number, at: number): Promise<Block | undefined> {
    const row = this.#blockAt.get(series, at);
    return Promise.resolve(row && row.period_end > at ? toBlock(row) : undefined);
  }

  legacyNonEmpty(): Promise<boolean> {
    return Promise.resolve(this.#legacyAny.get() !== undefined);
  }

  inLegacy(checks: readonly CheckRow[]): Promise<Set<number>> {
    const found = new Set<number>();
    checks.forEach((k, i) => {
      if (this.#inLegacy.get(k.tenant, k.target, k.scheduledAt, k.region)) found.add(i);
    });
    return Promise.resolve(found);
  }

  insertHot(rows: readonly (HotRow & { series: number })[]): Promise<Set<number>> {
    const inserted = new Set<number>();
    rows.forEach((r, i) => {
      if (this.#insertHot.run(r.series, r.scheduledAt, r.body).changes === 1) inserted.add(i);
    });
    return Promise.resolve(inserted);
  }

  lockSeries(ids: readonly number[]): Promise<Series[]> {
    const out: Series[] = [];
    for (const id of ids) {
      const row = this.#lockSeries.get(id);
      if (row) out.push(toSeries(row, c));
    }
    return Promise.resolve(out);
  }

  hotIn(ranges: readonly CompactionStep[]): Promise<HotRun[]> {
    return Promise.resolve(
      ranges.map(({ series, from, to }) => {
        const [times, bodies] = this.#hotRun.get(series, finite(from), finite(to))!;
        if (times === null || bodies === null) return { at: [], bodies: new Uint8Array(0) };
        return { at: parseTimes(times), bodies };
      }),
    );
  }

  legacyIn(s: SeriesKey, from: number, to: number): Promise<CheckRow[]> {
    const rows = this.#legacyIn.all(s.tenant, s.target, s.region, finite(from), finite(to));
    return Promise.resolve(rows.map((r) => toCheck(r, c)));
  }

  blocksIn(ranges: readonly CompactionStep[]): Promise<Block[][]> {
    return Promise.resolve(
      ranges.map(({ series, from, to }) => this.#blocksIn.all(series, finite(to), finite(from)).map(toBlock)),
    );
  }

  replaceRanges(replacements: readonly Replacement[], legacy: boolean): Promise<void> {
    const r = this.#replace;
    for (const { series: s, from, to, block, blocks } of replacements) {
      r.hot.run(s.id, from, to);
      if (legacy) r.legacy.run(s.tenant, s.target, from, to, s.region);
      if (blocks) r.blocks.run(s.id, to, from);
      const data = block.data;
      const head = blockHead(data.length);
      const id = r.block.run(
        s.id,
        block.periodStart,
        block.periodEnd,
        block.checks,
        data.subarray(0, head),
      ).lastInsertRowid;
      for (let at = head, k = 0; at < data.length; at += BLOCK_PIECE, k++)
        r.tail.run(Number(id) * 16 + k, data.subarray(at, at + BLOCK_PIECE));
      r.series.run(to, s.id);
    }
    return Promise.resolve();
  }
}

/**
 * Check writes inside a sink's transaction, on the write connection: hot rows, with the primary key
 * (series, scheduled_at) and a look into the block of a late check's period deciding what is new
 * (check-history.ts); compaction of closed periods into blocks.
 */
export class SqliteCheckWriter implements CheckWriter {
  readonly #db: SqliteDatabase;
  readonly #history: SqliteHistoryWriteSql;
  readonly #getRollup;
  readonly #putRollup;
  readonly #putCurrent;
  /** Asked once per compaction step: prepared once, as preparing it cost as much as running it. */
  readonly #candidates;
  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#history = new SqliteHistoryWriteSql(db);
    // A series' short blocks (hour blocks earlier versions wrote for a period still open) are in the
    // period its compaction reached, so only blocks from a period before compacted_until are read:
    // an index range of a block or a few, not every block of its history on every pass.
    this.#candidates = db.prepare<
      [number, number, number, number],
      SeriesDbRow & { oldest_hot: number | null; oldest_legacy: number | null; interim: number | null }
    >(
      `SELECT ${SERIES},
         (SELECT MIN(scheduled_at) FROM monitor_hot_checks h WHERE h.series = s.id) AS oldest_hot,
         (SELECT MIN(scheduled_at) FROM monitor_checks l
           WHERE l.tenant = s.tenant AND l.target = s.target AND l.region = s.region) AS oldest_legacy,
         (SELECT MIN(period_start) FROM monitor_check_blocks b
           WHERE b.series = s.id AND b.period_start >= s.compacted_until - ?
             AND b.period_end - b.period_start < ?) AS interim
       FROM monitor_series s WHERE s.id > ? ORDER BY s.id LIMIT ?`,
    );
    this.#putCurrent = db.prepare(
      `INSERT INTO monitor_current (tenant, target, at, region, state, body) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, target) DO UPDATE SET at = excluded.at, region = excluded.region,
         state = excluded.state, body = excluded.body
       WHERE excluded.at > monitor_current.at
         OR (excluded.at = monitor_current.at AND excluded.region <= monitor_current.region)`,
    );
    this.#getRollup = db.prepare<[string, string, string, number, string], RollupRow>(
      'SELECT * FROM monitor_rollups WHERE tenant = ? AND target = ? AND size = ? AND start = ? AND region = ?',
    );
    this.#putRollup = db.prepare(
      `INSERT INTO monitor_rollups (tenant, target, size, start, region, checks, up, latency_sum_ms, latency, errors)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, target, size, start, region) DO UPDATE SET checks = excluded.checks, up = excluded.up,
         latency_sum_ms = excluded.latency_sum_ms, latency = excluded.latency, errors = excluded.errors`,
    );
  }

  async insert(rows: readonly CheckRow[]): Promise<CheckRow[]> {
    const fresh = await insertChecks(this.#history, rows);
    for (const check of newestPerTarget(fresh)) this.#putCurrent.run(currentValues(check));
    return fresh;
  }

  getRollups(keys: readonly RollupKey[]): Promise<Rollup[]> {
    const out: Rollup[] = [];
    const seen = new Set<string>();
    for (const k of keys) {
      const id = rollupId(k);
      if (seen.has(id)) continue;
      seen.add(id);
      const row = this.#getRollup.get(k.tenant, k.target, k.size, k.start, k.region);
      if (row) out.push(toRollup(row, c));
    }
    return Promise.resolve(out);
  }

  putRollups(rollups: readonly Rollup[]): Promise<void> {
    for (const r of rollups) this.#putRollup.run(rollupValues(r));
    return Promise.resolve();
  }

  getStates(keys: readonly StateKey[]): Promise<TargetState[]> {
    const get = this.#db.prepare<[string, string, string], StateRow>(
      'SELECT * FROM monitor_states WHERE tenant = ? AND target = ? AND region = ?',
    );
    const out = new Map<string, TargetState>();
    for (const k of keys) {
      const id = stateId(k);
      if (out.has(id)) continue;
      const row = get.get(k.tenant, k.target, k.region);
      if (row) out.set(id, toState(row, c));
    }
    return Promise.resolve([...out.values()]);
  }

  putStates(states: readonly TargetState[]): Promise<void> {
    const put = this.#db.prepare(
      `INSERT INTO monitor_states (tenant, target, region, down, streak, fails, slow, streak_start, last_scheduled_at,
         incident_start)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, target, region) DO UPDATE SET down = excluded.down, streak = excluded.streak,
         fails = excluded.fails, slow = excluded.slow,
         streak_start = excluded.streak_start, last_scheduled_at = excluded.last_scheduled_at,
         incident_start = excluded.incident_start`,
    );
    for (const s of states) put.run(stateValues(s));
    return Promise.resolve();
  }

  targetFacts(tenant: string, ids: readonly string[]): Promise<Map<string, TargetFacts>> {
    const get = this.#db.prepare<[string, string], Pick<TargetRow, 'spec'>>(
      'SELECT spec FROM monitor_targets WHERE tenant = ? AND id = ?',
    );
    const out = new Map<string, TargetFacts>();
    for (const id of ids) {
      const row = get.get(tenant, id);
      if (row) out.set(id, toTargetFacts(row, c));
    }
    return Promise.resolve(out);
  }

  openIncident(i: Incident): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO monitor_incidents (tenant, target, started_at, region, ended_at, cause, detail, seq)
         VALUES (?, ?, ?, ?, NULL, ?, ?, ${NEXT_SEQ}) ON CONFLICT DO NOTHING`,
      )
      .run(i.tenant, i.target, i.startedAt, i.region, i.cause, i.detail);
    return Promise.resolve();
  }

  closeIncident(k: IncidentKey, endedAt: number): Promise<void> {
    this.#db
      .prepare(
        `UPDATE monitor_incidents SET ended_at = ?, seq = ${NEXT_SEQ}
         WHERE tenant = ? AND target = ? AND started_at = ? AND region = ?`,
      )
      .run(endedAt, k.tenant, k.target, k.startedAt, k.region);
    return Promise.resolve();
  }

  deleteChecksBefore(before: number): Promise<number> {
    const db = this.#db;
    let n = 0;
    // Per series and per target, so each delete is an index range and not a scan of the table.
    const series = db.prepare<[], { id: number }>('SELECT id FROM monitor_series').all();
    const hot = db.prepare('DELETE FROM monitor_hot_checks WHERE series = ? AND scheduled_at < ?');
    const expired = db.prepare<[number, number], { n: number | null }>(
      'SELECT SUM(checks) AS n FROM monitor_check_blocks WHERE series = ? AND period_end <= ?',
    );
    const blocks = db.prepare('DELETE FROM monitor_check_blocks WHERE series = ? AND period_end <= ?');
    for (const { id } of series) {
      n += hot.run(id, before).changes;
      n += expired.get(id, before)!.n ?? 0;
      blocks.run(id, before);
    }
    const pairs = db
      .prepare<[], { tenant: string; target: string }>(
        'SELECT DISTINCT tenant, target FROM monitor_checks UNION SELECT DISTINCT tenant, target FROM monitor_series',
      )
      .all();
    const legacy = db.prepare(
      'DELETE FROM monitor_checks WHERE tenant = ? AND target = ? AND scheduled_at < ?',
    );
    for (const p of pairs) n += legacy.run(p.tenant, p.target, before).changes;
    return Promise.resolve(n);
  }

  compactionCandidates(afterId: number, limit: number, periodMs: number): Promise<CompactionCandidate[]> {
    const rows = this.#candidates.all(periodMs, periodMs, afterId, limit);
    return Promise.resolve(
      rows.map((r) => ({
        series: toSeries(r, c),
        oldestRow: oldest(r.oldest_hot, r.oldest_legacy),
        interimStart: r.interim,
      })),
    );
  }

  adoptLegacy(after: TargetRef | undefined): Promise<TargetRef | undefined> {
    const db = this.#db;
    const next = db
      .prepare<[string, string, string], { tenant: string; target: string }>(
        `SELECT tenant, target FROM monitor_checks WHERE tenant > ? OR (tenant = ? AND target > ?)
         ORDER BY tenant, target LIMIT 1`,
      )
      .get(after?.tenant ?? '', after?.tenant ?? '', after?.target ?? '');
    if (!next) return Promise.resolve(undefined);
    db.prepare(
      `INSERT INTO monitor_series (tenant, target, region)
       SELECT DISTINCT tenant, target, region FROM monitor_checks WHERE tenant = ? AND target = ?
       ON CONFLICT DO NOTHING`,
    ).run(next.tenant, next.target);
    return Promise.resolve(next);
  }

  compact(steps: readonly CompactionStep[]): Promise<(Compacted | undefined)[]> {
    return compactRanges(this.#history, steps);
  }

  resetDerived(): Promise<void> {
    this.#db.exec('DELETE FROM monitor_rollups; DELETE FROM monitor_states; DELETE FROM monitor_incidents;');
    return Promise.resolve();
  }
}

/** The earlier of two times that may be missing. */
const oldest = (a: number | null, b: number | null): number | null =>
  a === null ? b : b === null ? a : Math.min(a, b);

/** The monitor on SQLite: targets, checks, rollups, states, incidents, and alerting's rules, windows and states. */
export const sqliteMonitor: SqliteWing<MonitorRepositories, MonitorWriters> = {
  migrations: sqliteMigrations,
  storage: monitorStorage,
  repositories: (connections) => {
    const serial = <T>(fn: () => T) => connections.serial(fn);
    const own = { reader: connections.reader, writer: connections.writer, serial };
    const dropStates = connections.writer.prepare(
      'DELETE FROM monitor_alert_states WHERE tenant = ? AND rule = ?',
    );
    return {
      monitor: new SqliteMonitorReader(connections.reader),
      targets: new SqliteTargetWriter(connections.writer, serial),
      alertRules: new SqliteDefinitions<AlertRuleSpec, AlertRule>(
        'monitor_alert_rules',
        own,
        (tenant, id) => {
          dropStates.run(tenant, id);
        },
      ),
      maintenance: new SqliteDefinitions<MaintenanceSpec, MaintenanceWindow>('monitor_maintenance', own),
      pushes: new SqlitePushRepository(own),
      statusPages: new SqliteStatusPages(own),
    };
  },
  writers: (writer) => ({ checks: new SqliteCheckWriter(writer), alerts: new SqliteAlertWriter(writer) }),
};
