import type { PoolClient } from 'pg';
import { postgresColumns as c } from '../../store/columns.ts';
import { copyIn, csvLine } from '../../store/postgres/copy.ts';
import type { Queryable } from '../../store/postgres/errors.ts';
import { dayOf, TablePartitions } from '../../store/postgres/partitions.ts';
import type { PostgresTx, PostgresWing } from '../../store/postgres/wing.ts';
import type {
  Definition,
  EventRow,
  Filter,
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
import {
  containsPattern,
  DIMENSION_COLUMNS,
  propertyKey,
  SITE_TABLES,
  VISIT_PARTS,
} from './dimension-sql.ts';
import { postgresMigrations } from './postgres-migrations.ts';
import type {
  AggregateRow,
  AnalyticsReader,
  AnalyticsRepositories,
  AnalyticsWriter,
  AnalyticsWriters,
  ImportedQuery,
  RawQuery,
  RollupQuery,
  SitePage,
  VisitQuery,
} from './repositories.ts';
import {
  eventValues,
  importProgressValues,
  importValues,
  outboxValues,
  rollupValues,
  sessionValues,
  siteValues,
  toClient,
  toDefinition,
  toImport,
  toOutboxMail,
  toRawAggregates,
  toReport,
  toRollupAggregate,
  toSession,
  toSharedLink,
  toSite,
  type ClientRow,
  type DefinitionRow,
  type ImportRow,
  type OutboxRow,
  type RawGroupRow,
  type ReportRow,
  type RollupSumRow,
  type SessionDbRow,
  type SharedLinkRow,
  type SiteRow,
} from './rows.ts';
import { analyticsStorage } from './storage.ts';

/** A site by id, on the pool or in a transaction. */
async function siteById(db: Queryable, id: string): Promise<Site | undefined> {
  const { rows } = await db.query<SiteRow>('SELECT * FROM analytics_sites WHERE id = $1', [id]);
  return rows[0] && toSite(rows[0], c);
}

/**
 * Each visitor's newest session, in the order asked. Ties on `last_at` go to the greater id, as in
 * SQLite, whose index on (visitor, last_at) ends in the primary key and is read backwards.
 */
async function latestSessions(
  db: Queryable,
  tenant: string,
  site: string,
  visitors: readonly string[],
): Promise<SessionRow[]> {
  if (visitors.length === 0) return [];
  const { rows } = await db.query<SessionDbRow>(
    `SELECT DISTINCT ON (visitor) * FROM analytics_sessions
     WHERE tenant = $1 AND site = $2 AND visitor = ANY($3::text[])
     ORDER BY visitor, last_at DESC, id DESC`,
    [tenant, site, [...new Set(visitors)]],
  );
  const byVisitor = new Map(rows.map((r) => [r.visitor, toSession(r, c)]));
  return visitors.flatMap((v) => {
    const s = byVisitor.get(v);
    return s ? [s] : [];
  });
}

/**
 * SQL for the start of the time bucket holding local ms `col`, as float8 (the driver returns a
 * number). Integer division truncates as SQLite's does, so both backends bucket alike.
 */
function bucketSql(col: string, interval: Interval | undefined): string {
  switch (interval) {
    case undefined:
      return '0::float8';
    case 'minute':
      return `((${col} / 60000) * 60000)::float8`;
    case 'hour':
      return `((${col} / 3600000) * 3600000)::float8`;
    case 'day':
      return `((${col} / 86400000) * 86400000)::float8`;
    case 'week':
      return `(((${col} / 86400000) - ((${col} / 86400000 + 3) % 7)) * 86400000)::float8`;
    case 'month':
      return `(extract(epoch FROM date_trunc('month', to_timestamp(${col} / 1000) AT TIME ZONE 'UTC')) * 1000)::float8`;
  }
}

/** Appends a parameter and returns its placeholder. */
type Param = (value: unknown) => string;

/**
 * Column expression for a dimension; property keys are bound as parameters, never spliced. Text
 * compares and sorts bytewise (COLLATE "C"), as SQLite's BINARY collation does.
 */
function dimSql(dim: string, p: Param): string {
  const col = DIMENSION_COLUMNS[dim];
  if (col) return col;
  return `((e.props ->> ${p(propertyKey(dim))}::text) COLLATE "C")`;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** SQLite's LIKE ignores the case of ASCII letters only; this folds exactly those. */
const foldAscii = (sql: string) => `translate(${sql}, '${UPPER}', '${UPPER.toLowerCase()}')`;

/** SQL for one filter; its values are bound as parameters. */
function filterSql(f: Filter, p: Param): string {
  const col = dimSql(f.dim, p);
  if (f.op === 'contains') {
    const parts = f.values.map((v) => {
      const pattern = containsPattern(v).replace(/[A-Z]/g, (l) => l.toLowerCase());
      return `${foldAscii(col)} LIKE ${p(pattern)} ESCAPE '\\'`;
    });
    return `(${parts.join(' OR ')})`;
  }
  // SQLite takes an empty IN list; PostgreSQL does not.
  if (f.values.length === 0) return f.op === 'is' ? 'FALSE' : 'TRUE';
  const list = f.values.map((v) => p(v)).join(', ');
  return f.op === 'is' ? `${col} IN (${list})` : `COALESCE(${col}, '') NOT IN (${list})`;
}

/** Analytics queries, on the pool. */
export class PostgresAnalyticsReader implements AnalyticsReader {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  site(id: string): Promise<Site | undefined> {
    return siteById(this.#db, id);
  }

  async sites(tenant: string, page?: SitePage): Promise<Site[]> {
    const { rows } = page
      ? await this.#db.query<SiteRow>(
          `SELECT * FROM analytics_sites WHERE tenant = $1 AND (created_at, id) > ($2, $3)
           ORDER BY created_at, id LIMIT $4`,
          [tenant, page.after?.[0] ?? -1, page.after?.[1] ?? '', page.limit],
        )
      : await this.#db.query<SiteRow>(
          'SELECT * FROM analytics_sites WHERE tenant = $1 ORDER BY created_at, id',
          [tenant],
        );
    return rows.map((r) => toSite(r, c));
  }

  async oauthClient(id: string): Promise<OAuthClient | undefined> {
    const { rows } = await this.#db.query<ClientRow>('SELECT * FROM analytics_oauth_clients WHERE id = $1', [
      id,
    ]);
    return rows[0] && toClient(rows[0], c);
  }

  async oauthClients(tenant: string): Promise<OAuthClient[]> {
    const { rows } = await this.#db.query<ClientRow>(
      'SELECT * FROM analytics_oauth_clients WHERE tenant = $1 ORDER BY created_at, id',
      [tenant],
    );
    return rows.map((r) => toClient(r, c));
  }

  latestSessions(tenant: string, site: string, visitors: readonly string[]): Promise<SessionRow[]> {
    return latestSessions(this.#db, tenant, site, visitors);
  }

  sumRollups(q: RollupQuery): Promise<AggregateRow[]> {
    return this.#sumCells('analytics_rollups', q, q.grain);
  }

  sumImported(q: ImportedQuery): Promise<AggregateRow[]> {
    return this.#sumCells('analytics_imported', q, undefined);
  }

  /** Rollups and imported cells have the same counters, keyed by dim, bucket (day) and value. */
  async #sumCells(
    table: string,
    q: ImportedQuery | RollupQuery,
    grain: string | undefined,
  ): Promise<AggregateRow[]> {
    const time = table === 'analytics_imported' ? 'day' : 'bucket';
    const { rows } = await this.#db.query<RollupSumRow>(
      `SELECT ${bucketSql(time, q.interval)} AS b, value, SUM(visitors)::float8 AS visitors,
         SUM(visits)::float8 AS visits, SUM(pageviews)::float8 AS pageviews, SUM(events)::float8 AS events,
         SUM(bounces)::float8 AS bounces, SUM(duration)::float8 AS duration
       FROM ${table}
       WHERE tenant = $1 AND site = $2 AND dim = $3 AND ${time} >= $4 AND ${time} < $5
         ${
           grain === undefined
             ? // Only finished imports count: one under way or failed holds partial days.
               `AND import_id IN (SELECT id FROM analytics_imports WHERE tenant = $1 AND site = $2 AND status = 'completed')`
             : 'AND grain = $6'
         }
       GROUP BY b, value ORDER BY b, value`,
      [q.tenant, q.site, q.dim ?? '', q.from, q.to, ...(grain === undefined ? [] : [grain])],
    );
    return rows.map((r) => toRollupAggregate(r, q, c));
  }

  async aggregateRaw(q: RawQuery): Promise<AggregateRow[]> {
    const params: unknown[] = [];
    const p: Param = (value) => {
      params.push(value);
      return `$${params.length}`;
    };
    // $1 and $2 (tenant, site) are used again by the sessions' join.
    const where = [
      `e.tenant = ${p(q.tenant)}`,
      `e.site = ${p(q.site)}`,
      `e.ts_local >= ${p(q.from)}`,
      `e.ts_local < ${p(q.to)}`,
    ];
    const groups = q.dims.map((d, i) => `${dimSql(d, p)} AS g${i}`);
    for (const f of q.filters) where.push(filterSql(f, p));
    const select = [`${bucketSql('e.ts_local', q.interval)} AS b`, ...groups].join(', ');
    const names = ['b', ...q.dims.map((_, i) => `g${i}`)];
    const by = names.join(', ');
    // SQLite sorts NULL (a missing property) first.
    const order = names.map((n) => `${n} NULLS FIRST`).join(', ');
    const from = `FROM analytics_events e JOIN analytics_sessions s
      ON s.tenant = e.tenant AND s.site = e.site AND s.id = e.session WHERE ${where.join(' AND ')}`;
    const { rows: eventRows } = await this.#db.query<RawGroupRow>(
      `SELECT ${select}, COUNT(DISTINCT e.visitor)::float8 AS visitors, COUNT(DISTINCT e.session)::float8 AS visits,
         SUM(CASE WHEN e.name = 'pageview' THEN 1 ELSE 0 END)::float8 AS pageviews,
         SUM(CASE WHEN e.name <> 'pageview' THEN 1 ELSE 0 END)::float8 AS events
       ${from} GROUP BY ${by} ORDER BY ${order}`,
      params,
    );
    const { rows: sessionRows } = await this.#db.query<RawGroupRow>(
      `SELECT ${by}, SUM(CASE WHEN s.pageviews + s.events <= 1 THEN 1 ELSE 0 END)::float8 AS bounces,
         SUM(s.last_at - s.started_at)::float8 AS duration
       FROM (SELECT DISTINCT ${select}, e.session AS session ${from}) m
       JOIN analytics_sessions s ON s.tenant = $1 AND s.site = $2 AND s.id = m.session
       GROUP BY ${by}`,
      params,
    );
    return toRawAggregates(q, eventRows, sessionRows, c);
  }

  async countEvents(tenant: string, site: string): Promise<number> {
    const { rows } = await this.#db.query<{ n: string }>(
      'SELECT count(*) AS n FROM analytics_events WHERE tenant = $1 AND site = $2',
      [tenant, site],
    );
    return Number(rows[0]!.n);
  }

  async firstDay(tenant: string, site: string): Promise<number | null> {
    const { rows } = await this.#db.query<{ day: string | null }>(
      "SELECT MIN(bucket) AS day FROM analytics_rollups WHERE tenant = $1 AND site = $2 AND grain = 'day' AND dim = ''",
      [tenant, site],
    );
    return c.intOrNull(rows[0]!.day);
  }

  async visits(q: VisitQuery): Promise<SessionRow[]> {
    const params: unknown[] = [q.tenant, q.site, q.from, q.to];
    let where = 'tenant = $1 AND site = $2 AND started_local >= $3 AND started_local < $4';
    if (q.sample !== undefined) {
      params.push(q.sample);
      where += ` AND sample = $${params.length}`;
    }
    if (q.after) {
      params.push(...q.after);
      where += ` AND (started_local, id) > ($${params.length - 1}, $${params.length})`;
    }
    params.push(q.limit);
    const { rows } = await this.#db.query<SessionDbRow>(
      `SELECT ${VISIT_PARTS[q.parts ?? 'all']} FROM analytics_sessions WHERE ${where}
       ORDER BY started_local, id LIMIT $${params.length}`,
      params,
    );
    return rows.map((r) => toSession(r, c));
  }

  async definitions(tenant: string, site: string, kind: Definition['kind']): Promise<Definition[]> {
    const { rows } = await this.#db.query<DefinitionRow>(
      'SELECT * FROM analytics_definitions WHERE tenant = $1 AND site = $2 AND kind = $3 ORDER BY name',
      [tenant, site, kind],
    );
    return rows.map((r) => toDefinition(r, c));
  }

  async definition(
    tenant: string,
    site: string,
    kind: Definition['kind'],
    id: string,
  ): Promise<Definition | undefined> {
    const { rows } = await this.#db.query<DefinitionRow>(
      'SELECT * FROM analytics_definitions WHERE tenant = $1 AND site = $2 AND kind = $3 AND id = $4',
      [tenant, site, kind, id],
    );
    return rows[0] && toDefinition(rows[0], c);
  }

  async sharedLinks(tenant: string, site: string): Promise<SharedLink[]> {
    const { rows } = await this.#db.query<SharedLinkRow>(
      'SELECT * FROM analytics_shared_links WHERE tenant = $1 AND site = $2 ORDER BY created_at, id',
      [tenant, site],
    );
    return rows.map((r) => toSharedLink(r, c));
  }

  async sharedLink(secretHash: string): Promise<SharedLink | undefined> {
    const { rows } = await this.#db.query<SharedLinkRow>(
      'SELECT * FROM analytics_shared_links WHERE secret_hash = $1',
      [secretHash],
    );
    return rows[0] && toSharedLink(rows[0], c);
  }

  async reports(tenant: string, site: string): Promise<Report[]> {
    const { rows } = await this.#db.query<ReportRow>(
      'SELECT * FROM analytics_reports WHERE tenant = $1 AND site = $2 ORDER BY created_at, id',
      [tenant, site],
    );
    return rows.map((r) => toReport(r, c));
  }

  async report(tenant: string, site: string, id: string): Promise<Report | undefined> {
    const { rows } = await this.#db.query<ReportRow>(
      'SELECT * FROM analytics_reports WHERE tenant = $1 AND site = $2 AND id = $3',
      [tenant, site, id],
    );
    return rows[0] && toReport(rows[0], c);
  }

  async dueReports(now: number, limit: number): Promise<Report[]> {
    const { rows } = await this.#db.query<ReportRow>(
      'SELECT * FROM analytics_reports WHERE next_at <= $1 ORDER BY next_at, tenant, site, id LIMIT $2',
      [now, limit],
    );
    return rows.map((r) => toReport(r, c));
  }

  async reportMails(tenant: string, site: string, report: string, limit: number): Promise<OutboxMail[]> {
    const { rows } = await this.#db.query<OutboxRow>(
      `SELECT * FROM analytics_outbox WHERE tenant = $1 AND site = $2 AND report = $3
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [tenant, site, report, limit],
    );
    return rows.map((r) => toOutboxMail(r, c));
  }

  async imports(tenant: string, site: string): Promise<Import[]> {
    const { rows } = await this.#db.query<ImportRow>(
      'SELECT * FROM analytics_imports WHERE tenant = $1 AND site = $2 ORDER BY created_at DESC, id DESC',
      [tenant, site],
    );
    return rows.map((r) => toImport(r, c));
  }

  async findImport(tenant: string, site: string, id: string): Promise<Import | undefined> {
    const { rows } = await this.#db.query<ImportRow>(
      'SELECT * FROM analytics_imports WHERE tenant = $1 AND site = $2 AND id = $3',
      [tenant, site, id],
    );
    return rows[0] && toImport(rows[0], c);
  }
}

/** Session-local staging tables, emptied by every commit (ON COMMIT DELETE ROWS). */
const STAGING = `
  CREATE TEMP TABLE IF NOT EXISTS stage_analytics_events (
    n integer NOT NULL, pending boolean NOT NULL, tenant text COLLATE "C" NOT NULL,
    site text COLLATE "C" NOT NULL, key text COLLATE "C" NOT NULL, ts bigint NOT NULL,
    ts_local bigint NOT NULL, session text COLLATE "C" NOT NULL, visitor text COLLATE "C" NOT NULL,
    name text COLLATE "C" NOT NULL, page text COLLATE "C" NOT NULL, props text NOT NULL
  ) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS stage_analytics_sessions (
    n integer NOT NULL, tenant text COLLATE "C" NOT NULL, site text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL, visitor text COLLATE "C" NOT NULL, started_at bigint NOT NULL,
    started_local bigint NOT NULL, last_at bigint NOT NULL, pageviews integer NOT NULL,
    events integer NOT NULL, entry_page text COLLATE "C" NOT NULL, exit_page text COLLATE "C" NOT NULL,
    source text COLLATE "C" NOT NULL, referrer text COLLATE "C" NOT NULL,
    utm_source text COLLATE "C" NOT NULL, utm_medium text COLLATE "C" NOT NULL,
    utm_campaign text COLLATE "C" NOT NULL, device text COLLATE "C" NOT NULL,
    browser text COLLATE "C" NOT NULL, os text COLLATE "C" NOT NULL, sample integer NOT NULL,
    steps text NOT NULL
  ) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS stage_analytics_seen (
    n integer NOT NULL, grain text COLLATE "C" NOT NULL, bucket bigint NOT NULL,
    dim text COLLATE "C" NOT NULL, value text COLLATE "C" NOT NULL, visitor text COLLATE "C" NOT NULL
  ) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS stage_analytics_rollups (
    grain text COLLATE "C" NOT NULL, bucket bigint NOT NULL, dim text COLLATE "C" NOT NULL,
    value text COLLATE "C" NOT NULL, visitors bigint NOT NULL, visits bigint NOT NULL,
    pageviews bigint NOT NULL, events bigint NOT NULL, bounces bigint NOT NULL, duration bigint NOT NULL
  ) ON COMMIT DELETE ROWS;`;

/** The analytics tables partitioned by local day, and the day (UTC-like, of local ms) of a value. */
export type AnalyticsPartitioned = 'analytics_events' | 'analytics_seen';
const DAY_MS = 86_400_000;
const localDay = (localMs: number) => Math.floor(localMs / DAY_MS);

/**
 * Writes one transaction's analytics on its connection. Bulk writes COPY into a staging table, then
 * one `INSERT … SELECT … ON CONFLICT` statement applies them.
 *
 * Which events are new is decided by a unique key, not by a read: `existingKeys` claims the keys it
 * is asked about in `analytics_event_keys` (in key order, so two writers never wait on each other in a
 * cycle), and reports as existing exactly those another transaction holds. A second sink or a
 * reprocess run projecting the same events waits on the first's claim and then skips them, so rollups
 * change only for events really inserted. Claims this transaction made but never used are released
 * by `finish()` before commit.
 */
export class PostgresAnalyticsWriter implements AnalyticsWriter {
  readonly #tx: PostgresTx;
  readonly #client: PoolClient;
  readonly #partitions: Readonly<Record<AnalyticsPartitioned, TablePartitions>>;
  /** Staging tables this transaction has filled already (to be emptied before reuse). */
  readonly #used = new Set<string>();
  /** Keys claimed by `existingKeys` whose events are not inserted yet: tenant → keys. */
  readonly #pending = new Map<string, Set<string>>();

  /** Writes in `tx`; `partitions` are the local days of raw events and seen marks, made on demand. */
  constructor(tx: PostgresTx, partitions: Readonly<Record<AnalyticsPartitioned, TablePartitions>>) {
    this.#tx = tx;
    this.#client = tx.client;
    this.#partitions = partitions;
  }

  /** Makes sure the partitions of `table` for these local days exist, in this transaction. */
  #ensure(table: AnalyticsPartitioned, days: readonly number[]): Promise<void> {
    return this.#tx.ensurePartitions(this.#partitions[table], days);
  }

  async #stage(table: string, columns: string, lines: string[]): Promise<void> {
    const client = this.#client;
    if (!(await this.#tx.stage('stage_analytics', STAGING)) && this.#used.has(table)) {
      await client.query(`TRUNCATE ${table}`);
    }
    this.#used.add(table);
    await copyIn(client, `COPY ${table} (${columns}) FROM STDIN (FORMAT csv)`, lines);
  }

  async site(id: string): Promise<Site | undefined> {
    // FOR KEY SHARE: a site deleted meanwhile waits for this transaction, then deletes what it wrote
    // too, rather than leaving rows of a deleted site behind. Unlike FOR SHARE it does not hold back a
    // settings UPDATE, so two changes to one site queue on the row lock instead of risking a deadlock.
    const { rows } = await this.#client.query<SiteRow>(
      'SELECT * FROM analytics_sites WHERE id = $1 FOR KEY SHARE',
      [id],
    );
    return rows[0] && toSite(rows[0], c);
  }

  async createSite(site: Site): Promise<void> {
    await this.#client.query(
      `INSERT INTO analytics_sites (id, tenant, domain, allowed_domains, timezone, respect_dnt, salt_rotation,
         currency, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [...siteValues(site, (b) => b)],
    );
  }

  async updateSite(site: Site): Promise<void> {
    const [id, tenant, ...settings] = siteValues(site, (b) => b);
    await this.#client.query(
      `UPDATE analytics_sites SET domain = $1, allowed_domains = $2, timezone = $3, respect_dnt = $4,
         salt_rotation = $5, currency = $6
       WHERE tenant = $7 AND id = $8`,
      [...settings.slice(0, -1), tenant, id],
    );
  }

  async deleteSite(tenant: string, id: string): Promise<boolean> {
    const gone = await this.#client.query('DELETE FROM analytics_sites WHERE tenant = $1 AND id = $2', [
      tenant,
      id,
    ]);
    if (gone.rowCount === 0) return false;
    // The events' keys go with them (the keys table has no site column).
    await this.#client.query(
      `WITH gone AS (DELETE FROM analytics_events WHERE tenant = $1 AND site = $2 RETURNING key)
       DELETE FROM analytics_event_keys k USING gone WHERE k.tenant = $1 AND k.key = gone.key`,
      [tenant, id],
    );
    await this.#client.query(
      `DELETE FROM analytics_import_files WHERE import_id IN
         (SELECT id FROM analytics_imports WHERE tenant = $1 AND site = $2)`,
      [tenant, id],
    );
    for (const table of SITE_TABLES.filter((t) => t !== 'analytics_events')) {
      await this.#client.query(`DELETE FROM ${table} WHERE tenant = $1 AND site = $2`, [tenant, id]);
    }
    return true;
  }

  async secret(candidate: string): Promise<string> {
    await this.#client.query(
      "INSERT INTO analytics_settings (name, value) VALUES ('secret', $1) ON CONFLICT DO NOTHING",
      [candidate],
    );
    const { rows } = await this.#client.query<{ value: string }>(
      "SELECT value FROM analytics_settings WHERE name = 'secret'",
    );
    return rows[0]!.value;
  }

  async createOAuthClient(client: OAuthClient): Promise<void> {
    await this.#client.query(
      `INSERT INTO analytics_oauth_clients (id, tenant, name, secret_hash, created_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [client.id, client.tenant, client.name, client.secretHash, client.createdAt, client.revokedAt],
    );
  }

  async revokeOAuthClient(tenant: string, id: string, at: number): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      'UPDATE analytics_oauth_clients SET revoked_at = COALESCE(revoked_at, $1) WHERE tenant = $2 AND id = $3',
      [at, tenant, id],
    );
    return rowCount === 1;
  }

  async existingKeys(tenant: string, keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    const unique = [...new Set(keys)].sort();
    const { rows } = await this.#client.query<{ key: string }>(
      `INSERT INTO analytics_event_keys (tenant, key)
       SELECT $1, k FROM unnest($2::text[]) WITH ORDINALITY AS u (k, n) ORDER BY n
       ON CONFLICT DO NOTHING RETURNING key`,
      [tenant, unique],
    );
    let pending = this.#pending.get(tenant);
    if (!pending) this.#pending.set(tenant, (pending = new Set()));
    for (const { key } of rows) pending.add(key);
    // A key this transaction claimed and has not used yet is not "already projected".
    return new Set(unique.filter((k) => !pending.has(k)));
  }

  latestSessions(tenant: string, site: string, visitors: readonly string[]): Promise<SessionRow[]> {
    return latestSessions(this.#client, tenant, site, visitors);
  }

  async insertEvents(rows: readonly EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#ensure(
      'analytics_events',
      rows.map((r) => localDay(r.local)),
    );
    const isPending = (r: EventRow) => this.#pending.get(r.tenant)?.has(r.key) ?? false;
    await this.#stage(
      'stage_analytics_events',
      'n, pending, tenant, site, key, ts, ts_local, session, visitor, name, page, props',
      rows.map((r, n) => csvLine([n, isPending(r), ...eventValues(r)])),
    );
    // Keys this transaction claimed in existingKeys go straight in; others must win their claim
    // first. Within the batch the first row of a key wins, as in SQLite.
    await this.#client.query(`
      WITH claimed AS (
        INSERT INTO analytics_event_keys (tenant, key)
        SELECT tenant, key FROM stage_analytics_events WHERE NOT pending ORDER BY key, n
        ON CONFLICT DO NOTHING
        RETURNING tenant, key
      )
      INSERT INTO analytics_events (tenant, site, key, ts, ts_local, session, visitor, name, page, props)
      SELECT DISTINCT ON (s.tenant, s.key)
        s.tenant, s.site, s.key, s.ts, s.ts_local, s.session, s.visitor, s.name, s.page, s.props::jsonb
      FROM stage_analytics_events s
      WHERE s.pending OR (s.tenant, s.key) IN (SELECT tenant, key FROM claimed)
      ORDER BY s.tenant, s.key, s.n
      ON CONFLICT DO NOTHING`);
    for (const r of rows) this.#pending.get(r.tenant)?.delete(r.key);
  }

  async upsertSessions(rows: readonly SessionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#stage(
      'stage_analytics_sessions',
      `n, tenant, site, id, visitor, started_at, started_local, last_at, pageviews, events, entry_page,
       exit_page, source, referrer, utm_source, utm_medium, utm_campaign, device, browser, os, sample, steps`,
      rows.map((r, n) => csvLine([n, ...sessionValues(r)])),
    );
    // A row may touch a session once per statement: the batch's last version of each wins.
    await this.#client.query(`
      INSERT INTO analytics_sessions (tenant, site, id, visitor, started_at, started_local, last_at, pageviews,
        events, entry_page, exit_page, source, referrer, utm_source, utm_medium, utm_campaign, device, browser, os,
        sample, steps)
      SELECT DISTINCT ON (tenant, site, id) tenant, site, id, visitor, started_at, started_local, last_at,
        pageviews, events, entry_page, exit_page, source, referrer, utm_source, utm_medium, utm_campaign,
        device, browser, os, sample, steps
      FROM stage_analytics_sessions ORDER BY tenant, site, id, n DESC
      ON CONFLICT (tenant, site, id) DO UPDATE SET last_at = excluded.last_at, pageviews = excluded.pageviews,
        events = excluded.events, exit_page = excluded.exit_page, steps = excluded.steps`);
  }

  async markSeen(tenant: string, site: string, keys: readonly SeenKey[]): Promise<SeenKey[]> {
    if (keys.length === 0) return [];
    await this.#ensure(
      'analytics_seen',
      keys.map((k) => localDay(k.bucket)),
    );
    await this.#stage(
      'stage_analytics_seen',
      'n, grain, bucket, dim, value, visitor',
      keys.map((k, n) => csvLine([n, k.grain, k.bucket, k.dim, k.value, k.visitor])),
    );
    type Returned = { grain: string; bucket: string; dim: string; value: string; visitor: string };
    const { rows } = await this.#client.query<Returned>(
      `INSERT INTO analytics_seen (tenant, site, grain, bucket, dim, value, visitor)
       SELECT $1, $2, grain, bucket, dim, value, visitor FROM stage_analytics_seen ORDER BY n
       ON CONFLICT DO NOTHING
       RETURNING grain, bucket::text AS bucket, dim, value, visitor`,
      [tenant, site],
    );
    // A pair repeated within the batch is new once: at its first occurrence, as in SQLite.
    const keyOf = (k: SeenKey | Returned) =>
      JSON.stringify([k.grain, String(k.bucket), k.dim, k.value, k.visitor]);
    const fresh = new Set(rows.map(keyOf));
    return keys.filter((k) => fresh.delete(keyOf(k)));
  }

  async addRollups(tenant: string, site: string, deltas: readonly RollupDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    await this.#stage(
      'stage_analytics_rollups',
      'grain, bucket, dim, value, visitors, visits, pageviews, events, bounces, duration',
      deltas.map((d) => csvLine(rollupValues(d))),
    );
    // Summed per cell first: ON CONFLICT DO UPDATE may touch a row once per statement. Cells go in
    // key order, so concurrent writers lock them in the same order.
    await this.#client.query(
      `INSERT INTO analytics_rollups (tenant, site, grain, bucket, dim, value, visitors, visits, pageviews,
         events, bounces, duration)
       SELECT $1, $2, grain, bucket, dim, value, sum(visitors), sum(visits), sum(pageviews), sum(events),
         sum(bounces), sum(duration)
       FROM stage_analytics_rollups GROUP BY grain, dim, bucket, value ORDER BY grain, dim, bucket, value
       ON CONFLICT (tenant, site, grain, dim, bucket, value) DO UPDATE SET
         visitors = analytics_rollups.visitors + excluded.visitors, visits = analytics_rollups.visits + excluded.visits,
         pageviews = analytics_rollups.pageviews + excluded.pageviews, events = analytics_rollups.events + excluded.events,
         bounces = analytics_rollups.bounces + excluded.bounces, duration = analytics_rollups.duration + excluded.duration`,
      [tenant, site],
    );
  }

  async pruneSeen(tenant: string, site: string, before: number): Promise<void> {
    // Partition pruning keeps this to the partitions before `before`, which earlier batches emptied.
    await this.#client.query(
      "DELETE FROM analytics_seen WHERE tenant = $1 AND site = $2 AND grain IN ('hour', 'day') AND bucket < $3",
      [tenant, site, before],
    );
  }

  async clearRange(tenant: string, site: string, from: number, to: number): Promise<void> {
    const args = [tenant, site, from, to];
    // The events' keys go with them, so the rebuild that follows projects them again.
    await this.#client.query(
      `WITH gone AS (
         DELETE FROM analytics_events WHERE tenant = $1 AND site = $2 AND ts_local >= $3 AND ts_local < $4
         RETURNING key
       )
       DELETE FROM analytics_event_keys k USING gone WHERE k.tenant = $1 AND k.key = gone.key`,
      args,
    );
    await this.#client.query(
      'DELETE FROM analytics_sessions WHERE tenant = $1 AND site = $2 AND started_local >= $3 AND started_local < $4',
      args,
    );
    await this.#client.query(
      'DELETE FROM analytics_rollups WHERE tenant = $1 AND site = $2 AND bucket >= $3 AND bucket < $4',
      args,
    );
    await this.#client.query(
      'DELETE FROM analytics_seen WHERE tenant = $1 AND site = $2 AND bucket >= $3 AND bucket < $4',
      args,
    );
  }

  async putDefinition(d: Definition): Promise<void> {
    await this.#client.query(
      `INSERT INTO analytics_definitions (tenant, site, kind, id, name, spec, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant, site, kind, id) DO UPDATE SET name = excluded.name, spec = excluded.spec,
         updated_at = excluded.updated_at`,
      [d.tenant, d.site, d.kind, d.id, d.name, JSON.stringify(d.spec), d.createdAt, d.updatedAt],
    );
  }

  async deleteDefinition(
    tenant: string,
    site: string,
    kind: Definition['kind'],
    id: string,
  ): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      'DELETE FROM analytics_definitions WHERE tenant = $1 AND site = $2 AND kind = $3 AND id = $4',
      [tenant, site, kind, id],
    );
    return rowCount === 1;
  }

  async createSharedLink(l: SharedLink): Promise<void> {
    await this.#client.query(
      `INSERT INTO analytics_shared_links (tenant, site, id, name, secret_hash, hint, password_hash, created_at,
         revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [l.tenant, l.site, l.id, l.name, l.secretHash, l.hint, l.passwordHash, l.createdAt, l.revokedAt],
    );
  }

  async revokeSharedLink(tenant: string, site: string, id: string, at: number): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      `UPDATE analytics_shared_links SET revoked_at = COALESCE(revoked_at, $1)
       WHERE tenant = $2 AND site = $3 AND id = $4`,
      [at, tenant, site, id],
    );
    return rowCount === 1;
  }

  async putReport(r: Report): Promise<void> {
    await this.#client.query(
      `INSERT INTO analytics_reports (tenant, site, id, frequency, recipients, next_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant, site, id) DO UPDATE SET frequency = excluded.frequency,
         recipients = excluded.recipients, next_at = excluded.next_at`,
      [r.tenant, r.site, r.id, r.frequency, JSON.stringify(r.recipients), r.nextAt, r.createdAt],
    );
  }

  async deleteReport(tenant: string, site: string, id: string): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      'DELETE FROM analytics_reports WHERE tenant = $1 AND site = $2 AND id = $3',
      [tenant, site, id],
    );
    await this.#client.query('DELETE FROM analytics_outbox WHERE tenant = $1 AND site = $2 AND report = $3', [
      tenant,
      site,
      id,
    ]);
    return rowCount === 1;
  }

  async queueReportMail(r: Report, dueAt: number, nextAt: number, m: OutboxMail): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      'UPDATE analytics_reports SET next_at = $1 WHERE tenant = $2 AND site = $3 AND id = $4 AND next_at = $5',
      [nextAt, r.tenant, r.site, r.id, dueAt],
    );
    if (rowCount === 0) return false;
    await this.#client.query(
      `INSERT INTO analytics_outbox (id, tenant, site, report, period, recipients, subject, html, text, status,
         attempts, next_attempt_at, sent_at, error, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING`,
      [...outboxValues(m)],
    );
    return true;
  }

  async claimMails(now: number, leaseUntil: number, limit: number): Promise<OutboxMail[]> {
    // SKIP LOCKED: two processes claiming at once each take other mails rather than waiting.
    const { rows } = await this.#client.query<OutboxRow>(
      `UPDATE analytics_outbox SET lease_until = $1 WHERE id IN (
         SELECT id FROM analytics_outbox WHERE status = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2
         ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [leaseUntil, now, limit],
    );
    return rows.map((r) => toOutboxMail(r, c)).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
  }

  async settleMail(
    id: string,
    o: { status: OutboxMail['status']; at: number; error: string | null; nextAttemptAt: number },
  ): Promise<void> {
    await this.#client.query(
      `UPDATE analytics_outbox SET status = $1, attempts = attempts + 1, error = $2, next_attempt_at = $3,
         sent_at = $4, lease_until = 0 WHERE id = $5`,
      [o.status, o.error, o.nextAttemptAt, o.status === 'sent' ? o.at : null, id],
    );
  }

  async createImport(record: Import, files: readonly ImportFile[]): Promise<void> {
    await this.#client.query(
      `INSERT INTO analytics_imports (tenant, site, id, source, content_hash, status, done, total, first_day,
         last_day, skipped_days, error, created_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [...importValues(record)],
    );
    for (const f of files) {
      await this.#client.query(
        'INSERT INTO analytics_import_files (import_id, name, content) VALUES ($1, $2, $3)',
        [record.id, f.name, f.content],
      );
    }
  }

  async claimImport(now: number, leaseUntil: number): Promise<Import | undefined> {
    const { rows } = await this.#client.query<ImportRow>(
      `UPDATE analytics_imports SET lease_until = $1, status = 'running' WHERE (tenant, site, id) = (
         SELECT tenant, site, id FROM analytics_imports
         WHERE status = 'queued' OR (status = 'running' AND lease_until <= $2)
         ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [leaseUntil, now],
    );
    return rows[0] && toImport(rows[0], c);
  }

  async importFiles(importId: string): Promise<ImportFile[]> {
    const { rows } = await this.#client.query<ImportFile>(
      'SELECT name, content FROM analytics_import_files WHERE import_id = $1 ORDER BY name',
      [importId],
    );
    return rows;
  }

  async updateImport(i: Import, leaseUntil: number): Promise<void> {
    await this.#client.query(
      `UPDATE analytics_imports SET status = $1, done = $2, total = $3, first_day = $4, last_day = $5,
         skipped_days = $6, error = $7, finished_at = $8, lease_until = $9
       WHERE tenant = $10 AND site = $11 AND id = $12`,
      [...importProgressValues(i, leaseUntil)],
    );
    if (i.status === 'completed' || i.status === 'failed') {
      await this.#client.query('DELETE FROM analytics_import_files WHERE import_id = $1', [i.id]);
    }
  }

  async writeImported(
    tenant: string,
    site: string,
    importId: string,
    cells: readonly ImportedCell[],
  ): Promise<void> {
    if (cells.length === 0) return;
    const column = <K extends keyof ImportedCell['counters']>(k: K) => cells.map((x) => x.counters[k]);
    await this.#client.query(
      `INSERT INTO analytics_imported (tenant, site, dim, day, value, import_id, visitors, visits, pageviews,
         events, bounces, duration)
       SELECT $1, $2, u.dim, u.day, u.value, $3, u.visitors, u.visits, u.pageviews, u.events, u.bounces, u.duration
       FROM unnest($4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],
         $11::bigint[], $12::bigint[]) AS u (dim, day, value, visitors, visits, pageviews, events, bounces, duration)
       ON CONFLICT (tenant, site, dim, day, value, import_id) DO UPDATE SET visitors = excluded.visitors,
         visits = excluded.visits, pageviews = excluded.pageviews, events = excluded.events,
         bounces = excluded.bounces, duration = excluded.duration`,
      [
        tenant,
        site,
        importId,
        cells.map((x) => x.dim),
        cells.map((x) => x.day),
        cells.map((x) => x.value),
        column('visitors'),
        column('visits'),
        column('pageviews'),
        column('events'),
        column('bounces'),
        column('duration'),
      ],
    );
  }

  async deleteImport(tenant: string, site: string, id: string): Promise<boolean> {
    const { rowCount } = await this.#client.query(
      'DELETE FROM analytics_imports WHERE tenant = $1 AND site = $2 AND id = $3',
      [tenant, site, id],
    );
    if (rowCount === 0) return false;
    await this.#client.query('DELETE FROM analytics_import_files WHERE import_id = $1', [id]);
    await this.#client.query(
      'DELETE FROM analytics_imported WHERE import_id = $1 AND tenant = $2 AND site = $3',
      [id, tenant, site],
    );
    return true;
  }

  /** Releases keys claimed by `existingKeys` whose events were never inserted; runs before commit. */
  async finish(): Promise<void> {
    for (const [tenant, keys] of this.#pending) {
      if (keys.size === 0) continue;
      await this.#client.query(
        'DELETE FROM analytics_event_keys WHERE tenant = $1 AND key = ANY($2::text[])',
        [tenant, [...keys]],
      );
    }
    this.#pending.clear();
  }
}

/**
 * Web analytics on PostgreSQL. Raw events and seen marks are partitioned by local day: ready from
 * UTC's yesterday (zones ahead of UTC are already a day on). Retention drops them whole, after
 * deleting the events' keys and the sessions that started a day before the cutoff; rollups are kept.
 */
export const postgresAnalytics: PostgresWing<AnalyticsRepositories, AnalyticsWriters> = {
  name: 'analytics',
  storage: analyticsStorage,
  migrations: postgresMigrations,
  open: ({ db, layout }) => {
    const partitions: Record<AnalyticsPartitioned, TablePartitions> = {
      analytics_events: new TablePartitions(layout, {
        table: 'analytics_events',
        column: 'ts_local',
        local: true,
      }),
      analytics_seen: new TablePartitions(layout, { table: 'analytics_seen', column: 'bucket', local: true }),
    };
    const tables = Object.values(partitions);
    return {
      repositories: { analytics: new PostgresAnalyticsReader(db) },
      writers: (tx) => {
        const analytics = new PostgresAnalyticsWriter(tx, partitions);
        tx.beforeCommit(() => analytics.finish());
        return { analytics };
      },
      maintain: async (client, { now, ahead, retentionDays }) => {
        const created: string[] = [];
        const dropped: string[] = [];
        const today = dayOf(now);
        for (const table of tables)
          created.push(...(await table.createDays(client, today - 1, today + ahead)));
        if (retentionDays === 0) return { created, dropped, keysDeleted: 0 };
        const cutoffDay = today - retentionDays;
        const keys = await client.query(
          `DELETE FROM analytics_event_keys k USING analytics_events e
           WHERE e.ts_local < $1 AND k.tenant = e.tenant AND k.key = e.key`,
          [cutoffDay * DAY_MS],
        );
        await client.query('DELETE FROM analytics_sessions WHERE started_local < $1', [
          (cutoffDay - 1) * DAY_MS,
        ]);
        for (const table of tables) dropped.push(...(await table.retain(client, cutoffDay)));
        return { created, dropped, keysDeleted: keys.rowCount ?? 0 };
      },
    };
  },
};
