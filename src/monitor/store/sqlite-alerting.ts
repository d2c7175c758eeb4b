import { sqliteColumns as c } from '../../store/columns.ts';
import type { SqliteDatabase } from '../../sqlite/database.ts';
import type { AlertRule } from '../alert-rules.ts';
import type { MaintenanceWindow } from '../maintenance.ts';
import { stateId, type AlertState, type CertificateWarning, type TargetState } from '../model.ts';
import type {
  AlertWriter,
  DefinitionMeta,
  DefinitionRepository,
  Push,
  PushRepository,
} from './repositories.ts';
import {
  alertStateValues,
  definitionSpec,
  definitionValues,
  toAlertState,
  toDefinition,
  toPush,
  toState,
  type AlertStateRow,
  type DefinitionRow,
  type PushRow,
  type StateRow,
} from './rows.ts';

type Serial = <T>(fn: () => T) => Promise<T>;

/**
 * Definitions kept as specs (alert rules in `monitor_alert_rules`, maintenance windows in
 * `monitor_maintenance`): the same statements on either table.
 */
export class SqliteDefinitions<S, D extends S & DefinitionMeta> implements DefinitionRepository<S, D> {
  readonly #table: string;
  readonly #reader: SqliteDatabase;
  readonly #writer: SqliteDatabase;
  readonly #serial: Serial;
  /** Runs inside a delete's transaction (an alert rule's states go with it). */
  readonly #onDelete: ((tenant: string, id: string) => void) | undefined;

  constructor(
    table: 'monitor_alert_rules' | 'monitor_maintenance',
    connections: { reader: SqliteDatabase; writer: SqliteDatabase; serial: Serial },
    onDelete?: (tenant: string, id: string) => void,
  ) {
    this.#table = table;
    this.#reader = connections.reader;
    this.#writer = connections.writer;
    this.#serial = connections.serial;
    this.#onDelete = onDelete;
  }

  get(tenant: string, id: string): Promise<D | undefined> {
    const row = this.#reader
      .prepare<[string, string], DefinitionRow>(`SELECT * FROM ${this.#table} WHERE tenant = ? AND id = ?`)
      .get(tenant, id);
    return Promise.resolve(row && toDefinition<D>(row, c));
  }

  list(tenant: string, limit: number, after?: string): Promise<D[]> {
    const rows = this.#reader
      .prepare<[string, string, number], DefinitionRow>(
        `SELECT * FROM ${this.#table} WHERE tenant = ? AND id > ? ORDER BY id LIMIT ?`,
      )
      .all(tenant, after ?? '', limit);
    return Promise.resolve(rows.map((r) => toDefinition<D>(r, c)));
  }

  create(d: D): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer
          .prepare(
            `INSERT INTO ${this.#table} (tenant, id, source, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING`,
          )
          .run(definitionValues(d)).changes === 1,
    );
  }

  update(tenant: string, id: string, spec: S, at: number): Promise<boolean> {
    return this.#serial(
      () =>
        this.#writer
          .prepare(`UPDATE ${this.#table} SET spec = ?, updated_at = ? WHERE tenant = ? AND id = ?`)
          .run(JSON.stringify(spec), at, tenant, id).changes === 1,
    );
  }

  delete(tenant: string, id: string): Promise<boolean> {
    const db = this.#writer;
    return this.#serial(() =>
      db.transaction(() => {
        const gone =
          db.prepare(`DELETE FROM ${this.#table} WHERE tenant = ? AND id = ?`).run(tenant, id).changes === 1;
        if (gone) this.#onDelete?.(tenant, id);
        return gone;
      })(),
    );
  }

  replaceFile(definitions: readonly D[]): Promise<{ upserted: number; deleted: number }> {
    const db = this.#writer;
    const upsert = db.prepare(
      `INSERT INTO ${this.#table} (tenant, id, source, spec, created_at, updated_at) VALUES (?, ?, 'file', ?, ?, ?)
       ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at
       WHERE ${this.#table}.source = 'file' AND ${this.#table}.spec <> excluded.spec`,
    );
    const current = db.prepare<[], { tenant: string; id: string }>(
      `SELECT tenant, id FROM ${this.#table} WHERE source = 'file'`,
    );
    const remove = db.prepare(`DELETE FROM ${this.#table} WHERE tenant = ? AND id = ? AND source = 'file'`);
    return this.#serial(() =>
      db.transaction(() => {
        let upserted = 0;
        for (const d of definitions)
          upserted += upsert.run(d.tenant, d.id, definitionSpec(d), d.createdAt, d.updatedAt).changes;
        const keep = new Set(definitions.map((d) => `${d.tenant}\u0000${d.id}`));
        let deleted = 0;
        for (const row of current.all()) {
          if (keep.has(`${row.tenant}\u0000${row.id}`)) continue;
          deleted += remove.run(row.tenant, row.id).changes;
          this.#onDelete?.(row.tenant, row.id);
        }
        return { upserted, deleted };
      })(),
    );
  }
}

/** Pushes to heartbeat targets: one row per target, the newest push. */
export class SqlitePushRepository implements PushRepository {
  readonly #reader: SqliteDatabase;
  readonly #writer: SqliteDatabase;
  readonly #serial: Serial;
  constructor(connections: { reader: SqliteDatabase; writer: SqliteDatabase; serial: Serial }) {
    this.#reader = connections.reader;
    this.#writer = connections.writer;
    this.#serial = connections.serial;
  }

  record(token: string, push: Push): Promise<{ tenant: string; target: string } | undefined> {
    const db = this.#writer;
    return this.#serial(() => {
      const target = db
        .prepare<[string], { tenant: string; id: string }>(
          'SELECT tenant, id FROM monitor_targets WHERE push_token = ?',
        )
        .get(token);
      if (!target) return undefined;
      db.prepare(
        `INSERT INTO monitor_pushes (tenant, target, at, status, message, duration_ms) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, target) DO UPDATE SET at = excluded.at, status = excluded.status,
           message = excluded.message, duration_ms = excluded.duration_ms`,
      ).run(target.tenant, target.id, push.at, push.status, push.message, push.durationMs);
      return { tenant: target.tenant, target: target.id };
    });
  }

  last(tenant: string, target: string): Promise<Push | undefined> {
    const row = this.#reader
      .prepare<[string, string], PushRow>('SELECT * FROM monitor_pushes WHERE tenant = ? AND target = ?')
      .get(tenant, target);
    return Promise.resolve(row && toPush(row, c));
  }
}

/** What the check projection reads and writes for alerting, in its transaction. */
export class SqliteAlertWriter implements AlertWriter {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  maintenanceWindows(tenant: string): Promise<MaintenanceWindow[]> {
    const rows = this.#db
      .prepare<[string], DefinitionRow>('SELECT * FROM monitor_maintenance WHERE tenant = ? ORDER BY id')
      .all(tenant);
    return Promise.resolve(rows.map((r) => toDefinition<MaintenanceWindow>(r, c)));
  }

  alertRules(tenant: string): Promise<AlertRule[]> {
    const rows = this.#db
      .prepare<[string], DefinitionRow>('SELECT * FROM monitor_alert_rules WHERE tenant = ? ORDER BY id')
      .all(tenant);
    return Promise.resolve(rows.map((r) => toDefinition<AlertRule>(r, c)));
  }

  targetStates(tenant: string, targets: readonly string[]): Promise<TargetState[]> {
    const get = this.#db.prepare<[string, string], StateRow>(
      'SELECT * FROM monitor_states WHERE tenant = ? AND target = ? ORDER BY region',
    );
    const out = new Map<string, TargetState>();
    for (const target of targets)
      for (const row of get.all(tenant, target)) out.set(stateId(row), toState(row, c));
    return Promise.resolve([...out.values()]);
  }

  alertStates(tenant: string, targets: readonly string[]): Promise<AlertState[]> {
    const get = this.#db.prepare<[string, string], AlertStateRow>(
      'SELECT * FROM monitor_alert_states WHERE tenant = ? AND target = ?',
    );
    return Promise.resolve(
      [...new Set(targets)].flatMap((t) => get.all(tenant, t).map((r) => toAlertState(r, c))),
    );
  }

  putAlertStates(states: readonly AlertState[]): Promise<void> {
    const put = this.#db.prepare(
      `INSERT INTO monitor_alert_states (tenant, rule, target, down, degraded, since, notified_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, target, rule) DO UPDATE SET down = excluded.down, degraded = excluded.degraded,
         since = excluded.since, notified_at = excluded.notified_at`,
    );
    for (const s of states) put.run(alertStateValues(s));
    return Promise.resolve();
  }

  recordCertificateWarnings(warnings: readonly CertificateWarning[]): Promise<CertificateWarning[]> {
    const insert = this.#db.prepare(
      `INSERT INTO monitor_cert_warnings (tenant, target, expires_at, days, at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    return Promise.resolve(
      warnings.filter((w) => insert.run(w.tenant, w.target, w.expiresAt, w.days, w.at).changes === 1),
    );
  }
}
