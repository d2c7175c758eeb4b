import type { Pool, PoolClient } from 'pg';
import { postgresColumns as c } from '../../store/columns.ts';
import { copyIn, csvLine } from '../../store/postgres/copy.ts';
import { storeError, type Queryable } from '../../store/postgres/errors.ts';
import { lockedTransaction } from '../../store/postgres/locked-transaction.ts';
import { dayOf, PARTITION_LOCK, TablePartitions } from '../../store/postgres/partitions.ts';
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
import { postgresMigrations } from './postgres-migrations.ts';
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
import { PostgresAlertWriter, PostgresDefinitions, PostgresPushRepository } from './postgres-alerting.ts';
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

/** Every check column, times as epoch ms, in CheckDbRow's names. */
const CHECK_SELECT = (p = '') =>
  CHECK_COLUMNS.map((column) =>
    CHECK_TIMES.has(column) ? `${ms(p + column)} AS ${column}` : p + column,
  ).join(', ');

/** Every rollup column, start as epoch ms, in RollupRow's names. */
const ROLLUP_SELECT = (p = '') =>
  `${p}tenant, ${p}target, ${p}size, ${ms(`${p}start`)} AS start, ${p}region, ${p}checks, ${p}up, ${p}latency_sum_ms, ${p}latency, ${p}errors`;

/** Reads targets and their history from the pool; answers as SqliteMonitorReader does. */
export class PostgresMonitorReader implements MonitorReader {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
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

  async allTargets(): Promise<Iterable<Target>> {
    const { rows } = await this.#db.query<TargetRow>(
      `SELECT ${TARGET_COLUMNS} FROM monitor_targets ORDER BY tenant, id`,
    );
    // Specs are parsed as the prober reaches each row, not all up front.
    return (function* () {
      for (const row of rows) yield toTarget(row, c);
    })();
  }

  async targetsVersion(): Promise<string> {
    const { rows } = await this.#db.query<{ v: string }>(
      `SELECT count(*) || ':' || coalesce(max(updated_at), 0) || ':' || coalesce(sum(updated_at), 0) AS v
       FROM monitor_targets`,
    );
    return rows[0]!.v;
  }

  async listChecks(query: CheckQuery): Promise<CheckRow[]> {
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
       ORDER BY scheduled_at DESC, region DESC LIMIT ${param(query.limit)}`,
      params,
    );
    return rows.map((r) => toCheck(r, c));
  }

  async rollups(query: RollupQuery): Promise<Rollup[]> {
    const { rows } = await this.#db.query<RollupRow>(
      `SELECT ${ROLLUP_SELECT()} FROM monitor_rollups
       WHERE tenant = $1 AND target = $2 AND size = $3 AND start >= ${ts('$4')} AND start < ${ts('$5')}
       ORDER BY start, region`,
      [query.tenant, query.target, query.size, bound(query.from), bound(query.to)],
    );
    return rows.map((r) => toRollup(r, c));
  }

  async listIncidents(tenant: string, target: string, limit: number, before?: number): Promise<Incident[]> {
    const { rows } = await this.#db.query<IncidentRow>(
      `SELECT ${INCIDENT_SELECT} FROM monitor_incidents WHERE tenant = $1 AND target = $2 AND started_at < ${ts('$3')}
       ORDER BY started_at DESC, region LIMIT $4`,
      [tenant, target, bound(before ?? Number.MAX_SAFE_INTEGER), limit],
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

  async latestChecks(tenant: string): Promise<CheckRow[]> {
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
       WHERE t.tenant = $1
       ORDER BY c.target, c.region`,
      [tenant],
    );
    return rows.map((r) => toCheck(r, c));
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
    const result = await this.#db.query('DELETE FROM monitor_targets WHERE tenant = $1 AND id = $2', [
      tenant,
      id,
    ]);
    return result.rowCount === 1;
  }

  async sourceOf(tenant: string, id: string): Promise<TargetSource | undefined> {
    const { rows } = await this.#db.query<{ source: TargetSource }>(
      'SELECT source FROM monitor_targets WHERE tenant = $1 AND id = $2',
      [tenant, id],
    );
    return rows[0]?.source;
  }

  async replaceFileTargets(targets: readonly Target[]): Promise<{ upserted: number; deleted: number }> {
    // The file parser refuses repeated ids; should one slip through, the last one wins, as in SQLite.
    const unique = [...new Map(targets.map((t) => [`${t.tenant}\u0000${t.id}`, t])).values()];
    try {
      return await lockedTransaction(this.#pool, TARGETS_LOCK, async (client) => {
        // A spec that did not change is not rewritten (nor counted); an API target of the same id wins.
        const upsert = await client.query(
          `INSERT INTO monitor_targets (${TARGET_COLUMNS})
           SELECT tenant, id, 'file', spec::json, created_at, updated_at, push_token
           FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::text[])
             AS u (tenant, id, spec, created_at, updated_at, push_token)
           ON CONFLICT (tenant, id) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at,
             push_token = excluded.push_token
           WHERE monitor_targets.source = 'file' AND monitor_targets.spec::text <> excluded.spec::text`,
          [
            unique.map((t) => t.tenant),
            unique.map((t) => t.id),
            unique.map(specText),
            unique.map((t) => t.createdAt),
            unique.map((t) => t.updatedAt),
            unique.map(pushTokenOf),
          ],
        );
        const removed = await client.query(
          `DELETE FROM monitor_targets m WHERE m.source = 'file' AND NOT EXISTS (
             SELECT 1 FROM unnest($1::text[], $2::text[]) AS k (tenant, id)
             WHERE k.tenant = m.tenant AND k.id = m.id)`,
          [unique.map((t) => t.tenant), unique.map((t) => t.id)],
        );
        return { upserted: upsert.rowCount ?? 0, deleted: removed.rowCount ?? 0 };
      });
    } catch (err) {
      throw storeError(err);
    }
  }
}

/**
 * Check writes inside a sink's transaction. Checks go in by COPY into a session-local staging table,
 * then one `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`: the primary key (tenant, target,
 * scheduled_at, region) decides what is new, and only those rows come back for the rollups.
 */
export class PostgresCheckWriter implements CheckWriter {
  readonly #tx: PostgresTx;
  readonly #client: PoolClient;
  readonly #partitions: TablePartitions;
  /** The staging table holds this transaction's earlier batch (it is emptied at commit). */
  #staging = false;
  /** This transaction holds INCIDENT_LOCK. */
  #incidentLock = false;

  /** Writes in `tx`; `partitions` are the checks' days, made on demand and dropped by retention. */
  constructor(tx: PostgresTx, partitions: TablePartitions) {
    this.#tx = tx;
    this.#client = tx.client;
    this.#partitions = partitions;
  }

  async insert(rows: readonly CheckRow[]): Promise<CheckRow[]> {
    if (rows.length === 0) return [];
    const client = this.#client;
    await this.#tx.ensurePartitions(
      this.#partitions,
      rows.map((r) => dayOf(r.scheduledAt)),
    );
    // ON COMMIT DELETE ROWS: the table is emptied by every commit, so batches never see each other.
    const made = await this.#tx.stage(
      'stage_checks',
      `CREATE TEMP TABLE IF NOT EXISTS stage_checks (
        n integer NOT NULL, tenant text COLLATE "C" NOT NULL, target text COLLATE "C" NOT NULL,
        scheduled_ms float8 NOT NULL, region text COLLATE "C" NOT NULL, slot float8 NOT NULL,
        started_ms float8 NOT NULL, duration_ms float8 NOT NULL, dns_ms float8 NOT NULL,
        connect_ms float8 NOT NULL, tls_ms float8 NOT NULL, ttfb_ms float8 NOT NULL,
        transfer_ms float8 NOT NULL, status integer, http_version text, bytes float8 NOT NULL,
        tls_expires_ms float8, pattern_matched boolean, redirects integer NOT NULL, ok boolean NOT NULL,
        error_class text, error_detail text, kind text, state text, observed text
      ) ON COMMIT DELETE ROWS`,
    );
    if (!made && this.#staging) await client.query('TRUNCATE stage_checks');
    this.#staging = true;
    const lines = rows.map((check, n) => csvLine([n, ...checkValues(check)]));
    await copyIn(client, 'COPY stage_checks FROM STDIN (FORMAT csv)', lines);
    // Within a batch the first row of an identity wins, as in SQLite; RETURNING names the rows that
    // were really new, and the join maps each back to its place in the batch.
    const fresh = await client.query<{ n: number }>(`
      WITH batch AS (
        SELECT DISTINCT ON (tenant, target, region, at) *
        FROM (SELECT *, ${ts('scheduled_ms')} AS at FROM stage_checks) s
        ORDER BY tenant, target, region, at, n
      ), inserted AS (
        INSERT INTO monitor_checks (${CHECK_COLUMNS.join(', ')})
        SELECT tenant, target, at, region, slot::int8, ${ts('started_ms')}, duration_ms, dns_ms,
          connect_ms, tls_ms, ttfb_ms, transfer_ms, status, http_version, bytes::int8,
          CASE WHEN tls_expires_ms IS NULL THEN NULL ELSE ${ts('tls_expires_ms')} END,
          pattern_matched, redirects, ok, error_class, error_detail, kind, state, observed::json
        FROM batch
        ON CONFLICT DO NOTHING
        RETURNING tenant, target, region, scheduled_at
      )
      SELECT b.n FROM batch b JOIN inserted i
        ON i.tenant = b.tenant AND i.target = b.target AND i.region = b.region AND i.scheduled_at = b.at
      ORDER BY b.n`);
    return fresh.rows.map((r) => rows[r.n]!);
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
   * Retention of raw checks: whole days before `before` go by dropping their partitions (chunks with
   * TimescaleDB), counted first so the answer is the number of checks as in SQLite; the rest of the
   * day `before` falls in is deleted row by row. Rollups, states and incidents are kept.
   */
  async deleteChecksBefore(before: number): Promise<number> {
    const client = this.#client;
    const at = bound(before);
    let n = 0;
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
      n = Number(rows[0]!.n);
      await client.query(`SELECT drop_chunks('monitor_checks', older_than => ${ts('$1')})`, [at]);
      await client.query(`DELETE FROM monitor_checks WHERE scheduled_at < ${ts('$1')}`, [at]);
      return n;
    }
    const rest = await client.query(`DELETE FROM monitor_checks WHERE scheduled_at < ${ts('$1')}`, [at]);
    return n + (rest.rowCount ?? 0);
  }
}

/**
 * The monitor on PostgreSQL: checks in daily partitions (made ahead and on demand, dropped by the
 * monitor's own retention through `deleteChecksBefore`); targets, rollups, states and incidents plain.
 */
export const postgresMonitor: PostgresWing<MonitorRepositories, MonitorWriters> = {
  name: 'monitor',
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
      },
      writers: (tx) => ({
        checks: new PostgresCheckWriter(tx, partitions),
        alerts: new PostgresAlertWriter(tx.client),
      }),
      maintain: async (client, { now, ahead }) => {
        const today = dayOf(now);
        return {
          created: await partitions.createDays(client, today, today + ahead),
          dropped: [],
          keysDeleted: 0,
        };
      },
    };
  },
};
