import type { PoolClient } from 'pg';
import { postgresColumns as c } from '../../store/columns.ts';
import { copyIn, csvLine } from '../../store/postgres/copy.ts';
import type { Queryable } from '../../store/postgres/errors.ts';
import { dayOf, TablePartitions } from '../../store/postgres/partitions.ts';
import type { PostgresTx, PostgresWing } from '../../store/postgres/wing.ts';
import type {
  EventRow,
  Filter,
  Interval,
  OAuthClient,
  RollupDelta,
  SeenKey,
  SessionRow,
  Site,
} from '../model.ts';
import { containsPattern, DIMENSION_COLUMNS, propertyKey } from './dimension-sql.ts';
import { postgresMigrations } from './postgres-migrations.ts';
import type {
  AggregateRow,
  AnalyticsReader,
  AnalyticsRepositories,
  AnalyticsWriter,
  AnalyticsWriters,
  RawQuery,
  RollupQuery,
} from './repositories.ts';
import {
  eventValues,
  rollupValues,
  toClient,
  toRawAggregates,
  toRollupAggregate,
  toSession,
  toSite,
  type ClientRow,
  type RawGroupRow,
  type RollupSumRow,
  type SessionDbRow,
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

  async sites(tenant: string): Promise<Site[]> {
    const { rows } = await this.#db.query<SiteRow>(
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

  async sumRollups(q: RollupQuery): Promise<AggregateRow[]> {
    const { rows } = await this.#db.query<RollupSumRow>(
      `SELECT ${bucketSql('bucket', q.interval)} AS b, value, SUM(visitors)::float8 AS visitors,
         SUM(visits)::float8 AS visits, SUM(pageviews)::float8 AS pageviews, SUM(events)::float8 AS events,
         SUM(bounces)::float8 AS bounces, SUM(duration)::float8 AS duration
       FROM analytics_rollups
       WHERE tenant = $1 AND site = $2 AND grain = $3 AND dim = $4 AND bucket >= $5 AND bucket < $6
       GROUP BY b, value ORDER BY b, value`,
      [q.tenant, q.site, q.grain, q.dim ?? '', q.from, q.to],
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
    browser text COLLATE "C" NOT NULL, os text COLLATE "C" NOT NULL
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
      `INSERT INTO analytics_sites (id, tenant, domain, allowed_domains, timezone, respect_dnt, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        site.id,
        site.tenant,
        site.domain,
        JSON.stringify(site.allowedDomains),
        site.timezone,
        site.respectDnt,
        site.createdAt,
      ],
    );
  }

  async updateSite(site: Site): Promise<void> {
    await this.#client.query(
      `UPDATE analytics_sites SET domain = $1, allowed_domains = $2, timezone = $3, respect_dnt = $4
       WHERE tenant = $5 AND id = $6`,
      [
        site.domain,
        JSON.stringify(site.allowedDomains),
        site.timezone,
        site.respectDnt,
        site.tenant,
        site.id,
      ],
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
    for (const table of ['analytics_sessions', 'analytics_rollups', 'analytics_seen']) {
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
       exit_page, source, referrer, utm_source, utm_medium, utm_campaign, device, browser, os`,
      rows.map((r, n) =>
        csvLine([
          n,
          r.tenant,
          r.site,
          r.id,
          r.visitor,
          r.startedAt,
          r.startedLocal,
          r.lastAt,
          r.pageviews,
          r.events,
          r.entryPage,
          r.exitPage,
          r.source,
          r.referrer,
          r.utmSource,
          r.utmMedium,
          r.utmCampaign,
          r.device,
          r.browser,
          r.os,
        ]),
      ),
    );
    // A row may touch a session once per statement: the batch's last version of each wins.
    await this.#client.query(`
      INSERT INTO analytics_sessions (tenant, site, id, visitor, started_at, started_local, last_at, pageviews,
        events, entry_page, exit_page, source, referrer, utm_source, utm_medium, utm_campaign, device, browser, os)
      SELECT DISTINCT ON (tenant, site, id) tenant, site, id, visitor, started_at, started_local, last_at,
        pageviews, events, entry_page, exit_page, source, referrer, utm_source, utm_medium, utm_campaign,
        device, browser, os
      FROM stage_analytics_sessions ORDER BY tenant, site, id, n DESC
      ON CONFLICT (tenant, site, id) DO UPDATE SET last_at = excluded.last_at, pageviews = excluded.pageviews,
        events = excluded.events, exit_page = excluded.exit_page`);
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
