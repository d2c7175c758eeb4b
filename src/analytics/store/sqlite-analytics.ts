import { sqliteColumns as c } from '../../store/columns.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import type { SqliteDatabase } from '../../sqlite/database.ts';
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
import { sqliteMigrations } from './sqlite-migrations.ts';
import { analyticsStorage } from './storage.ts';

const SITE_BY_ID = 'SELECT * FROM analytics_sites WHERE id = ?';

/** A visitor's newest session. */
const LATEST_SESSION =
  'SELECT * FROM analytics_sessions WHERE tenant = ? AND site = ? AND visitor = ? ORDER BY last_at DESC LIMIT 1';

/** SQL for the start of the time bucket holding local ms `col`; integer division ports to PostgreSQL. */
function bucketSql(col: string, interval: Interval | undefined): string {
  switch (interval) {
    case undefined:
      return '0';
    case 'minute':
      return `(${col} / 60000) * 60000`;
    case 'hour':
      return `(${col} / 3600000) * 3600000`;
    case 'day':
      return `(${col} / 86400000) * 86400000`;
    case 'week':
      return `((${col} / 86400000) - ((${col} / 86400000 + 3) % 7)) * 86400000`;
    case 'month':
      return `CAST(strftime('%s', ${col} / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000`;
  }
}

/** Column expression for a dimension; property keys are bound as parameters, never spliced. */
function dimSql(dim: string, params: unknown[]): string {
  const col = DIMENSION_COLUMNS[dim];
  if (col) return col;
  params.push(`$."${propertyKey(dim)}"`);
  return `json_extract(e.props, ?)`;
}

/** SQL for one filter; its values are bound as parameters. */
function filterSql(f: Filter, params: unknown[]): string {
  const col = dimSql(f.dim, params);
  if (f.op === 'contains') {
    const parts = f.values.map((v) => {
      params.push(containsPattern(v));
      return `${col} LIKE ? ESCAPE '\\'`;
    });
    return `(${parts.join(' OR ')})`;
  }
  params.push(...f.values);
  const list = f.values.map(() => '?').join(', ');
  return f.op === 'is' ? `${col} IN (${list})` : `COALESCE(${col}, '') NOT IN (${list})`;
}

/** Analytics queries, on the store's read connection. */
export class SqliteAnalyticsReader implements AnalyticsReader {
  readonly #db: SqliteDatabase;
  // Prepared once: compiling the statement cost more than running it.
  readonly #site;
  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#site = db.prepare<[string], SiteRow>(SITE_BY_ID);
  }

  site(id: string): Promise<Site | undefined> {
    const row = this.#site.get(id);
    return Promise.resolve(row && toSite(row, c));
  }

  sites(tenant: string): Promise<Site[]> {
    const rows = this.#db
      .prepare<[string], SiteRow>('SELECT * FROM analytics_sites WHERE tenant = ? ORDER BY created_at, id')
      .all(tenant);
    return Promise.resolve(rows.map((r) => toSite(r, c)));
  }

  oauthClient(id: string): Promise<OAuthClient | undefined> {
    const row = this.#db
      .prepare<[string], ClientRow>('SELECT * FROM analytics_oauth_clients WHERE id = ?')
      .get(id);
    return Promise.resolve(row && toClient(row, c));
  }

  oauthClients(tenant: string): Promise<OAuthClient[]> {
    const rows = this.#db
      .prepare<[string], ClientRow>(
        'SELECT * FROM analytics_oauth_clients WHERE tenant = ? ORDER BY created_at, id',
      )
      .all(tenant);
    return Promise.resolve(rows.map((r) => toClient(r, c)));
  }

  latestSessions(tenant: string, site: string, visitors: readonly string[]): Promise<SessionRow[]> {
    const stmt = this.#db.prepare<[string, string, string], SessionDbRow>(LATEST_SESSION);
    return Promise.resolve(
      visitors.flatMap((v) => {
        const row = stmt.get(tenant, site, v);
        return row ? [toSession(row, c)] : [];
      }),
    );
  }

  sumRollups(q: RollupQuery): Promise<AggregateRow[]> {
    const bucket = bucketSql('bucket', q.interval);
    const rows = this.#db
      .prepare<unknown[], RollupSumRow>(
        `SELECT ${bucket} AS b, value, SUM(visitors) AS visitors, SUM(visits) AS visits,
           SUM(pageviews) AS pageviews, SUM(events) AS events, SUM(bounces) AS bounces, SUM(duration) AS duration
         FROM analytics_rollups
         WHERE tenant = ? AND site = ? AND grain = ? AND dim = ? AND bucket >= ? AND bucket < ?
         GROUP BY b, value ORDER BY b, value`,
      )
      .all(q.tenant, q.site, q.grain, q.dim ?? '', q.from, q.to);
    return Promise.resolve(rows.map((r) => toRollupAggregate(r, q, c)));
  }

  aggregateRaw(q: RawQuery): Promise<AggregateRow[]> {
    const params: unknown[] = [];
    const bucket = bucketSql('e.ts_local', q.interval);
    const groups = q.dims.map((d, i) => `${dimSql(d, params)} AS g${i}`);
    const groupParams = [...params];
    const where = ['e.tenant = ?', 'e.site = ?', 'e.ts_local >= ?', 'e.ts_local < ?'];
    const whereParams: unknown[] = [q.tenant, q.site, q.from, q.to];
    for (const f of q.filters) where.push(filterSql(f, whereParams));
    const select = [`${bucket} AS b`, ...groups].join(', ');
    const by = ['b', ...q.dims.map((_, i) => `g${i}`)].join(', ');
    const from = `FROM analytics_events e JOIN analytics_sessions s
      ON s.tenant = e.tenant AND s.site = e.site AND s.id = e.session WHERE ${where.join(' AND ')}`;
    const eventRows = this.#db
      .prepare<unknown[], RawGroupRow>(
        `SELECT ${select}, COUNT(DISTINCT e.visitor) AS visitors, COUNT(DISTINCT e.session) AS visits,
           SUM(CASE WHEN e.name = 'pageview' THEN 1 ELSE 0 END) AS pageviews,
           SUM(CASE WHEN e.name <> 'pageview' THEN 1 ELSE 0 END) AS events
         ${from} GROUP BY ${by}`,
      )
      .all(...groupParams, ...whereParams);
    const sessionRows = this.#db
      .prepare<unknown[], RawGroupRow>(
        `SELECT ${by}, SUM(CASE WHEN s.pageviews + s.events <= 1 THEN 1 ELSE 0 END) AS bounces,
           SUM(s.last_at - s.started_at) AS duration
         FROM (SELECT DISTINCT ${select}, e.session AS session ${from}) m
         JOIN analytics_sessions s ON s.tenant = ? AND s.site = ? AND s.id = m.session
         GROUP BY ${by}`,
      )
      .all(...groupParams, ...whereParams, q.tenant, q.site);
    return Promise.resolve(toRawAggregates(q, eventRows, sessionRows, c));
  }

  countEvents(tenant: string, site: string): Promise<number> {
    const row = this.#db
      .prepare<[string, string], { n: number }>(
        'SELECT COUNT(*) AS n FROM analytics_events WHERE tenant = ? AND site = ?',
      )
      .get(tenant, site)!;
    return Promise.resolve(row.n);
  }
}

/** Analytics writes inside a store transaction, on the write connection. */
export class SqliteAnalyticsWriter implements AnalyticsWriter {
  readonly #db: SqliteDatabase;
  readonly #existing;
  readonly #latest;
  readonly #insertEvent;
  readonly #upsertSession;
  readonly #seen;
  readonly #rollup;
  // The sink looks up each batch's sites and prunes seen marks per batch: compiling these statements
  // each time cost more than running them.
  readonly #site;
  readonly #pruneSeen;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    this.#site = db.prepare<[string], SiteRow>(SITE_BY_ID);
    this.#pruneSeen = db.prepare(
      "DELETE FROM analytics_seen WHERE tenant = ? AND site = ? AND grain IN ('hour', 'day') AND bucket < ?",
    );
    this.#existing = db.prepare<[string, string], { key: string }>(
      'SELECT key FROM analytics_events WHERE tenant = ? AND key = ?',
    );
    this.#latest = db.prepare<[string, string, string], SessionDbRow>(LATEST_SESSION);
    this.#insertEvent = db.prepare(
      `INSERT INTO analytics_events (tenant, site, key, ts, ts_local, session, visitor, name, page, props)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    this.#upsertSession = db.prepare(
      `INSERT INTO analytics_sessions (tenant, site, id, visitor, started_at, started_local, last_at, pageviews,
         events, entry_page, exit_page, source, referrer, utm_source, utm_medium, utm_campaign, device, browser, os)
       VALUES (@tenant, @site, @id, @visitor, @startedAt, @startedLocal, @lastAt, @pageviews, @events, @entryPage,
         @exitPage, @source, @referrer, @utmSource, @utmMedium, @utmCampaign, @device, @browser, @os)
       ON CONFLICT (tenant, site, id) DO UPDATE SET last_at = excluded.last_at, pageviews = excluded.pageviews,
         events = excluded.events, exit_page = excluded.exit_page`,
    );
    this.#seen = db.prepare(
      `INSERT INTO analytics_seen (tenant, site, grain, bucket, dim, value, visitor) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING`,
    );
    this.#rollup = db.prepare(
      `INSERT INTO analytics_rollups (tenant, site, grain, bucket, dim, value, visitors, visits, pageviews, events,
         bounces, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, site, grain, dim, bucket, value) DO UPDATE SET
         visitors = analytics_rollups.visitors + excluded.visitors, visits = analytics_rollups.visits + excluded.visits,
         pageviews = analytics_rollups.pageviews + excluded.pageviews, events = analytics_rollups.events + excluded.events,
         bounces = analytics_rollups.bounces + excluded.bounces, duration = analytics_rollups.duration + excluded.duration`,
    );
  }

  site(id: string): Promise<Site | undefined> {
    const row = this.#site.get(id);
    return Promise.resolve(row && toSite(row, c));
  }

  createSite(site: Site): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO analytics_sites (id, tenant, domain, allowed_domains, timezone, respect_dnt, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        site.id,
        site.tenant,
        site.domain,
        JSON.stringify(site.allowedDomains),
        site.timezone,
        site.respectDnt ? 1 : 0,
        site.createdAt,
      );
    return Promise.resolve();
  }

  updateSite(site: Site): Promise<void> {
    this.#db
      .prepare(
        `UPDATE analytics_sites SET domain = ?, allowed_domains = ?, timezone = ?, respect_dnt = ?
         WHERE tenant = ? AND id = ?`,
      )
      .run(
        site.domain,
        JSON.stringify(site.allowedDomains),
        site.timezone,
        site.respectDnt ? 1 : 0,
        site.tenant,
        site.id,
      );
    return Promise.resolve();
  }

  deleteSite(tenant: string, id: string): Promise<boolean> {
    const gone = this.#db.prepare('DELETE FROM analytics_sites WHERE tenant = ? AND id = ?').run(tenant, id);
    if (gone.changes === 0) return Promise.resolve(false);
    // Each table's key starts with (tenant, site), so each delete is one index range.
    for (const table of ['analytics_events', 'analytics_sessions', 'analytics_rollups', 'analytics_seen']) {
      this.#db.prepare(`DELETE FROM ${table} WHERE tenant = ? AND site = ?`).run(tenant, id);
    }
    return Promise.resolve(true);
  }

  secret(candidate: string): Promise<string> {
    this.#db
      .prepare("INSERT INTO analytics_settings (name, value) VALUES ('secret', ?) ON CONFLICT DO NOTHING")
      .run(candidate);
    const row = this.#db
      .prepare<[], { value: string }>("SELECT value FROM analytics_settings WHERE name = 'secret'")
      .get()!;
    return Promise.resolve(row.value);
  }

  createOAuthClient(client: OAuthClient): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO analytics_oauth_clients (id, tenant, name, secret_hash, created_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(client.id, client.tenant, client.name, client.secretHash, client.createdAt, client.revokedAt);
    return Promise.resolve();
  }

  revokeOAuthClient(tenant: string, id: string, at: number): Promise<boolean> {
    const { changes } = this.#db
      .prepare(
        'UPDATE analytics_oauth_clients SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant = ? AND id = ?',
      )
      .run(at, tenant, id);
    return Promise.resolve(changes === 1);
  }

  existingKeys(tenant: string, keys: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const key of keys) if (this.#existing.get(tenant, key)) found.add(key);
    return Promise.resolve(found);
  }

  latestSessions(tenant: string, site: string, visitors: readonly string[]): Promise<SessionRow[]> {
    return Promise.resolve(
      visitors.flatMap((v) => {
        const row = this.#latest.get(tenant, site, v);
        return row ? [toSession(row, c)] : [];
      }),
    );
  }

  insertEvents(rows: readonly EventRow[]): Promise<void> {
    for (const r of rows) this.#insertEvent.run(...eventValues(r));
    return Promise.resolve();
  }

  upsertSessions(rows: readonly SessionRow[]): Promise<void> {
    for (const r of rows) this.#upsertSession.run(r);
    return Promise.resolve();
  }

  markSeen(tenant: string, site: string, keys: readonly SeenKey[]): Promise<SeenKey[]> {
    return Promise.resolve(
      keys.filter(
        (k) => this.#seen.run(tenant, site, k.grain, k.bucket, k.dim, k.value, k.visitor).changes === 1,
      ),
    );
  }

  addRollups(tenant: string, site: string, deltas: readonly RollupDelta[]): Promise<void> {
    for (const d of deltas) this.#rollup.run(tenant, site, ...rollupValues(d));
    return Promise.resolve();
  }

  pruneSeen(tenant: string, site: string, before: number): Promise<void> {
    this.#pruneSeen.run(tenant, site, before);
    return Promise.resolve();
  }

  clearRange(tenant: string, site: string, from: number, to: number): Promise<void> {
    const args = [tenant, site, from, to];
    this.#db
      .prepare(
        'DELETE FROM analytics_events WHERE tenant = ? AND site = ? AND ts_local >= ? AND ts_local < ?',
      )
      .run(...args);
    this.#db
      .prepare(
        'DELETE FROM analytics_sessions WHERE tenant = ? AND site = ? AND started_local >= ? AND started_local < ?',
      )
      .run(...args);
    this.#db
      .prepare('DELETE FROM analytics_rollups WHERE tenant = ? AND site = ? AND bucket >= ? AND bucket < ?')
      .run(...args);
    this.#db
      .prepare('DELETE FROM analytics_seen WHERE tenant = ? AND site = ? AND bucket >= ? AND bucket < ?')
      .run(...args);
    return Promise.resolve();
  }
}

/** Web analytics on SQLite: sites, OAuth clients, sessions, events, seen marks and rollups. */
export const sqliteAnalytics: SqliteWing<AnalyticsRepositories, AnalyticsWriters> = {
  migrations: sqliteMigrations,
  storage: analyticsStorage,
  repositories: ({ reader }) => ({ analytics: new SqliteAnalyticsReader(reader) }),
  writers: (writer) => ({ analytics: new SqliteAnalyticsWriter(writer) }),
};
