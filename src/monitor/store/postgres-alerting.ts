import type { Pool, PoolClient } from 'pg';
import { postgresColumns as c } from '../../store/columns.ts';
import { storeError, type Queryable } from '../../store/postgres/errors.ts';
import { lockedTransaction } from '../../store/postgres/locked-transaction.ts';
import type { AlertRule } from '../alert-rules.ts';
import type { MaintenanceWindow } from '../maintenance.ts';
import type { AlertState, CertificateWarning, TargetState } from '../model.ts';
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
  toCertificateWarning,
  toDefinition,
  toPush,
  toState,
  type AlertStateRow,
  type CertificateWarningRow,
  type DefinitionRow,
  type PushRow,
  type StateRow,
} from './rows.ts';

/** Advisory locks that serialize replacements of the file's definitions across processes. */
const LOCKS = { monitor_alert_rules: 0x62636e11, monitor_maintenance: 0x62636e12 } as const;

/** Rows of values as one array per column: the parameters of an `unnest`. At least one row. */
const columnsOf = (rows: readonly (readonly unknown[])[]): unknown[][] =>
  rows[0]!.map((_, i) => rows.map((row) => row[i]));

/** SQL for a timestamptz column as epoch milliseconds. */
const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/**
 * Definitions kept as specs (alert rules, maintenance windows): the same statements on either table.
 * `dependents` names a table whose rows of a deleted definition go with it (an alert rule's states).
 */
export class PostgresDefinitions<S, D extends S & DefinitionMeta> implements DefinitionRepository<S, D> {
  readonly #table: 'monitor_alert_rules' | 'monitor_maintenance';
  readonly #db: Queryable;
  readonly #pool: Pool;
  readonly #dependents: string | undefined;

  constructor(
    table: 'monitor_alert_rules' | 'monitor_maintenance',
    db: Queryable,
    pool: Pool,
    dependents?: 'monitor_alert_states',
  ) {
    this.#table = table;
    this.#db = db;
    this.#pool = pool;
    this.#dependents = dependents;
  }

  async get(tenant: string, id: string): Promise<D | undefined> {
    const { rows } = await this.#db.query<DefinitionRow>(
      `SELECT * FROM ${this.#table} WHERE tenant = $1 AND id = $2`,
      [tenant, id],
    );
    return rows[0] && toDefinition<D>(rows[0], c);
  }

  async list(tenant: string, limit: number, after?: string): Promise<D[]> {
    const { rows } = await this.#db.query<DefinitionRow>(
      `SELECT * FROM ${this.#table} WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3`,
      [tenant, after ?? '', limit],
    );
    return rows.map((r) => toDefinition<D>(r, c));
  }

  async create(d: D): Promise<boolean> {
    const result = await this.#db.query(
      `INSERT INTO ${this.#table} (tenant, id, source, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING`,
      definitionValues(d),
    );
    return result.rowCount === 1;
  }

  async update(tenant: string, id: string, spec: S, at: number): Promise<boolean> {
    const result = await this.#db.query(
      `UPDATE ${this.#table} SET spec = $1, updated_at = $2 WHERE tenant = $3 AND id = $4`,
      [JSON.stringify(spec), at, tenant, id],
    );
    return result.rowCount === 1;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    const gone = await this.#db.query(`DELETE FROM ${this.#table} WHERE tenant = $1 AND id = $2`, [
      tenant,
      id,
    ]);
    if (gone.rowCount === 1 && this.#dependents)
      await this.#db.query(`DELETE FROM ${this.#dependents} WHERE tenant = $1 AND rule = $2`, [tenant, id]);
    return gone.rowCount === 1;
  }

  async replaceFile(definitions: readonly D[]): Promise<{ upserted: number; deleted: number }> {
    const unique = [...new Map(definitions.map((d) => [`${d.tenant}\u0000${d.id}`, d])).values()];
    const table = this.#table;
    try {
      return await lockedTransaction(this.#pool, LOCKS[table], async (client) => {
        const upserted =
          unique.length === 0
            ? 0
            : ((
                await client.query(
                  `INSERT INTO ${table} (tenant, id, source, spec, created_at, updated_at)
                   SELECT tenant, id, 'file', spec::json, created_at, updated_at
                   FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[])
                     AS u (tenant, id, spec, created_at, updated_at)
                   ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at
                   WHERE ${table}.source = 'file' AND ${table}.spec::text <> excluded.spec::text`,
                  columnsOf(unique.map((d) => [d.tenant, d.id, definitionSpec(d), d.createdAt, d.updatedAt])),
                )
              ).rowCount ?? 0);
        const removed = await client.query<{ tenant: string; id: string }>(
          `DELETE FROM ${table} m WHERE m.source = 'file' AND NOT EXISTS (
             SELECT 1 FROM unnest($1::text[], $2::text[]) AS k (tenant, id) WHERE k.tenant = m.tenant AND k.id = m.id)
           RETURNING tenant, id`,
          [unique.map((d) => d.tenant), unique.map((d) => d.id)],
        );
        if (this.#dependents && removed.rows.length > 0) {
          await client.query(
            `DELETE FROM ${this.#dependents} s USING unnest($1::text[], $2::text[]) AS k (tenant, id)
             WHERE s.tenant = k.tenant AND s.rule = k.id`,
            [removed.rows.map((r) => r.tenant), removed.rows.map((r) => r.id)],
          );
        }
        return { upserted, deleted: removed.rowCount ?? 0 };
      });
    } catch (err) {
      throw storeError(err);
    }
  }
}

/** Pushes to heartbeat targets: one row per target, the newest push. */
export class PostgresPushRepository implements PushRepository {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async record(token: string, push: Push): Promise<{ tenant: string; target: string } | undefined> {
    const { rows } = await this.#db.query<{ tenant: string; target: string }>(
      `INSERT INTO monitor_pushes (tenant, target, at, status, message, duration_ms)
       SELECT tenant, id, $2, $3, $4, $5 FROM monitor_targets WHERE push_token = $1
       ON CONFLICT (tenant, target) DO UPDATE SET at = excluded.at, status = excluded.status,
         message = excluded.message, duration_ms = excluded.duration_ms
       RETURNING tenant, target`,
      [token, push.at, push.status, push.message, push.durationMs],
    );
    return rows[0];
  }

  async last(tenant: string, target: string): Promise<Push | undefined> {
    const { rows } = await this.#db.query<PushRow>(
      'SELECT at, status, message, duration_ms FROM monitor_pushes WHERE tenant = $1 AND target = $2',
      [tenant, target],
    );
    return rows[0] && toPush(rows[0], c);
  }
}

/** What the check projection reads and writes for alerting, on the transaction's connection. */
export class PostgresAlertWriter implements AlertWriter {
  readonly #client: PoolClient;
  constructor(client: PoolClient) {
    this.#client = client;
  }

  async maintenanceWindows(tenant: string): Promise<MaintenanceWindow[]> {
    const { rows } = await this.#client.query<DefinitionRow>(
      'SELECT * FROM monitor_maintenance WHERE tenant = $1 ORDER BY id',
      [tenant],
    );
    return rows.map((r) => toDefinition<MaintenanceWindow>(r, c));
  }

  async alertRules(tenant: string): Promise<AlertRule[]> {
    const { rows } = await this.#client.query<DefinitionRow>(
      'SELECT * FROM monitor_alert_rules WHERE tenant = $1 ORDER BY id',
      [tenant],
    );
    return rows.map((r) => toDefinition<AlertRule>(r, c));
  }

  async targetStates(tenant: string, targets: readonly string[]): Promise<TargetState[]> {
    if (targets.length === 0) return [];
    const { rows } = await this.#client.query<StateRow>(
      `SELECT tenant, target, region, down, streak, fails, slow, ${ms('streak_start')} AS streak_start,
         ${ms('last_scheduled_at')} AS last_scheduled_at, ${ms('incident_start')} AS incident_start
       FROM monitor_states WHERE tenant = $1 AND target = ANY($2::text[]) ORDER BY target, region`,
      [tenant, [...new Set(targets)]],
    );
    return rows.map((r) => toState(r, c));
  }

  async alertStates(tenant: string, targets: readonly string[]): Promise<AlertState[]> {
    if (targets.length === 0) return [];
    const { rows } = await this.#client.query<AlertStateRow>(
      'SELECT * FROM monitor_alert_states WHERE tenant = $1 AND target = ANY($2::text[])',
      [tenant, [...new Set(targets)]],
    );
    return rows.map((r) => toAlertState(r, c));
  }

  async putAlertStates(states: readonly AlertState[]): Promise<void> {
    const unique = [
      ...new Map(states.map((s) => [`${s.tenant}\u0000${s.target}\u0000${s.rule}`, s])).values(),
    ];
    if (unique.length === 0) return;
    await this.#client.query(
      `INSERT INTO monitor_alert_states (tenant, rule, target, down, degraded, since, notified_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bool[], $6::int8[], $7::int8[])
       ON CONFLICT (tenant, target, rule) DO UPDATE SET down = excluded.down, degraded = excluded.degraded,
         since = excluded.since, notified_at = excluded.notified_at`,
      columnsOf(unique.map(alertStateValues)),
    );
  }

  async recordCertificateWarnings(warnings: readonly CertificateWarning[]): Promise<CertificateWarning[]> {
    if (warnings.length === 0) return [];
    const { rows } = await this.#client.query<CertificateWarningRow>(
      `INSERT INTO monitor_cert_warnings (tenant, target, expires_at, days, at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int4[], $5::int8[])
       ON CONFLICT DO NOTHING
       RETURNING tenant, target, expires_at, days, at`,
      columnsOf(warnings.map((w) => [w.tenant, w.target, w.expiresAt, w.days, w.at])),
    );
    return rows.map((r) => toCertificateWarning(r, c));
  }
}
