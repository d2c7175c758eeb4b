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
import type {
  CheckQuery,
  CheckWriter,
  MonitorReader,
  MonitorRepositories,
  MonitorWriters,
  RollupQuery,
  TargetWriter,
} from './repositories.ts';
import type { AlertRule, AlertRuleSpec } from '../alert-rules.ts';
import type { MaintenanceSpec, MaintenanceWindow } from '../maintenance.ts';
import { SqliteAlertWriter, SqliteDefinitions, SqlitePushRepository } from './sqlite-alerting.ts';
import {
  CHECK_COLUMNS,
  checkValues,
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
  toTarget,
  toTargetFacts,
  type CheckDbRow,
  type IncidentRow,
  type RollupRow,
  type StateRow,
  type TargetRow,
} from './rows.ts';
import { sqliteMigrations } from './sqlite-migrations.ts';

/** The seq of the next incident change: MAX + 1 is unique and rising, for SQLite has one writer. */
const NEXT_SEQ = '(SELECT COALESCE(MAX(seq), 0) + 1 FROM monitor_incidents)';

/** `?, ?, …`: one placeholder per value. */
const placeholders = (n: number) => Array<string>(n).fill('?').join(', ');

/** Reads targets and their history on the read-only connection; answers as PostgresMonitorReader does. */
export class SqliteMonitorReader implements MonitorReader {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) {
    this.#db = db;
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

  allTargets(): Promise<Iterable<Target>> {
    // Row by row: a prober plans each target as it comes, so 20,000 rows and their parsed specs are
    // never all in memory at once.
    const rows = this.#db.prepare<[], TargetRow>('SELECT * FROM monitor_targets ORDER BY tenant, id');
    return Promise.resolve(
      (function* () {
        for (const row of rows.iterate()) yield toTarget(row, c);
      })(),
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

  rollups(query: RollupQuery): Promise<Rollup[]> {
    const rows = this.#db
      .prepare<[string, string, string, number, number], RollupRow>(
        `SELECT * FROM monitor_rollups WHERE tenant = ? AND target = ? AND size = ? AND start >= ? AND start < ?
         ORDER BY start, region`,
      )
      .all(query.tenant, query.target, query.size, query.from, query.to);
    return Promise.resolve(rows.map((r) => toRollup(r, c)));
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
    const rows = this.#db
      .prepare<[string], CheckDbRow>(
        `SELECT ${CHECK_COLUMNS.map((column) => `c.${column}`).join(', ')}
         FROM monitor_targets t JOIN monitor_checks c ON c.tenant = t.tenant AND c.target = t.id
         WHERE t.tenant = ? AND c.scheduled_at = (
           SELECT MAX(scheduled_at) FROM monitor_checks m WHERE m.tenant = t.tenant AND m.target = t.id)
         ORDER BY c.target, c.region`,
      )
      .all(tenant);
    return Promise.resolve(rows.map((r) => toCheck(r, c)));
  }
}

/** Target writes; `serial` runs each one in the store's write queue so none lands inside a sink's transaction. */
export class SqliteTargetWriter implements TargetWriter {
  readonly #db: SqliteDatabase;
  readonly #serial: <T>(fn: () => T) => Promise<T>;
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
    return this.#serial(
      () =>
        this.#db.prepare('DELETE FROM monitor_targets WHERE tenant = ? AND id = ?').run(tenant, id)
          .changes === 1,
    );
  }

  sourceOf(tenant: string, id: string): Promise<TargetSource | undefined> {
    const row = this.#db
      .prepare<[string, string], { source: TargetSource }>(
        'SELECT source FROM monitor_targets WHERE tenant = ? AND id = ?',
      )
      .get(tenant, id);
    return Promise.resolve(row?.source);
  }

  replaceFileTargets(targets: readonly Target[]): Promise<{ upserted: number; deleted: number }> {
    const db = this.#db;
    const upsert = db.prepare(
      `INSERT INTO monitor_targets (tenant, id, source, spec, created_at, updated_at, push_token)
       VALUES (?, ?, 'file', ?, ?, ?, ?)
       ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at,
         push_token = excluded.push_token
       WHERE monitor_targets.source = 'file' AND monitor_targets.spec <> excluded.spec`,
    );
    const current = db.prepare<[], { tenant: string; id: string }>(
      "SELECT tenant, id FROM monitor_targets WHERE source = 'file'",
    );
    const remove = db.prepare("DELETE FROM monitor_targets WHERE tenant = ? AND id = ? AND source = 'file'");
    return this.#serial(() =>
      db.transaction(() => {
        let upserted = 0;
        for (const t of targets) {
          upserted += upsert.run(
            t.tenant,
            t.id,
            specText(t),
            t.createdAt,
            t.updatedAt,
            pushTokenOf(t),
          ).changes;
        }
        const keep = new Set(targets.map((t) => `${t.tenant}\u0000${t.id}`));
        let deleted = 0;
        for (const row of current.all()) {
          if (!keep.has(`${row.tenant}\u0000${row.id}`)) deleted += remove.run(row.tenant, row.id).changes;
        }
        return { upserted, deleted };
      })(),
    );
  }
}

/**
 * Check writes inside a sink's transaction, on the write connection: one INSERT … ON CONFLICT DO
 * NOTHING per check, so the primary key (tenant, target, scheduled_at, region) decides what is new.
 */
export class SqliteCheckWriter implements CheckWriter {
  readonly #db: SqliteDatabase;
  readonly #insert;
  readonly #getRollup;
  readonly #putRollup;
  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO monitor_checks (${CHECK_COLUMNS.join(', ')}) VALUES (${placeholders(CHECK_COLUMNS.length)})
       ON CONFLICT DO NOTHING`,
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

  insert(rows: readonly CheckRow[]): Promise<CheckRow[]> {
    const fresh: CheckRow[] = [];
    for (const check of rows) {
      if (this.#insert.run(checkValues(check)).changes === 1) fresh.push(check);
    }
    return Promise.resolve(fresh);
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
    const pairs = this.#db
      .prepare<[], { tenant: string; target: string }>('SELECT DISTINCT tenant, target FROM monitor_checks')
      .all();
    const remove = this.#db.prepare(
      'DELETE FROM monitor_checks WHERE tenant = ? AND target = ? AND scheduled_at < ?',
    );
    let n = 0;
    for (const p of pairs) n += remove.run(p.tenant, p.target, before).changes;
    return Promise.resolve(n);
  }
}

/** The monitor on SQLite: targets, checks, rollups, states, incidents, and alerting's rules, windows and states. */
export const sqliteMonitor: SqliteWing<MonitorRepositories, MonitorWriters> = {
  migrations: sqliteMigrations,
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
    };
  },
  writers: (writer) => ({ checks: new SqliteCheckWriter(writer), alerts: new SqliteAlertWriter(writer) }),
};
