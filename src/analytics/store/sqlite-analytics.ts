import { sqliteColumns as c } from '../../store/columns.ts';
import type { SqliteWing } from '../../store/sqlite/wing.ts';
import type { SqliteDatabase } from '../../sqlite/database.ts';
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

  sites(tenant: string, page?: SitePage): Promise<Site[]> {
    const rows = page
      ? this.#db
          .prepare<unknown[], SiteRow>(
            `SELECT * FROM analytics_sites WHERE tenant = ? AND (created_at, id) > (?, ?)
             ORDER BY created_at, id LIMIT ?`,
          )
          .all(tenant, page.after?.[0] ?? -1, page.after?.[1] ?? '', page.limit)
      : this.#db
          .prepare<[string], SiteRow>(
            'SELECT * FROM analytics_sites WHERE tenant = ? ORDER BY created_at, id',
          )
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
    return Promise.resolve(this.#sumCells('analytics_rollups', 'grain = ? AND ', [q.grain], q));
  }

  sumImported(q: ImportedQuery): Promise<AggregateRow[]> {
    // Only finished imports count: one under way or failed holds partial days.
    return Promise.resolve(
      this.#sumCells(
        'analytics_imported',
        `import_id IN (SELECT id FROM analytics_imports WHERE tenant = ? AND site = ? AND status = 'completed') AND `,
        [q.tenant, q.site],
        q,
      ),
    );
  }

  /** Rollups and imported cells have the same counters, keyed by dim, bucket (day) and value. */
  #sumCells(
    table: string,
    extraWhere: string,
    extraParams: unknown[],
    q: ImportedQuery | RollupQuery,
  ): AggregateRow[] {
    const time = table === 'analytics_imported' ? 'day' : 'bucket';
    const bucket = bucketSql(time, q.interval);
    const rows = this.#db
      .prepare<unknown[], RollupSumRow>(
        `SELECT ${bucket} AS b, value, SUM(visitors) AS visitors, SUM(visits) AS visits,
           SUM(pageviews) AS pageviews, SUM(events) AS events, SUM(bounces) AS bounces, SUM(duration) AS duration
         FROM ${table}
         WHERE tenant = ? AND site = ? AND ${extraWhere}dim = ? AND ${time} >= ? AND ${time} < ?
         GROUP BY b, value ORDER BY b, value`,
      )
      .all(q.tenant, q.site, ...extraParams, q.dim ?? '', q.from, q.to);
    return rows.map((r) => toRollupAggregate(r, q, c));
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

  firstDay(tenant: string, site: string): Promise<number | null> {
    const row = this.#db
      .prepare<[string, string], { day: number | null }>(
        "SELECT MIN(bucket) AS day FROM analytics_rollups WHERE tenant = ? AND site = ? AND grain = 'day' AND dim = ''",
      )
      .get(tenant, site)!;
    return Promise.resolve(row.day);
  }

  visits(q: VisitQuery): Promise<SessionRow[]> {
    // One bucket is a range of the (tenant, site, sample, started_local, id) index; all buckets, of
    // the (tenant, site, started_local) one.
    const params: unknown[] = [q.tenant, q.site];
    let where = 'tenant = ? AND site = ?';
    if (q.sample !== undefined) {
      where += ' AND sample = ?';
      params.push(q.sample);
    }
    where += ' AND started_local >= ? AND started_local < ?';
    params.push(q.from, q.to);
    if (q.after) {
      where += ' AND (started_local, id) > (?, ?)';
      params.push(...q.after);
    }
    const rows = this.#db
      .prepare<unknown[], SessionDbRow>(
        `SELECT ${VISIT_PARTS[q.parts ?? 'all']} FROM analytics_sessions WHERE ${where}
         ORDER BY started_local, id LIMIT ?`,
      )
      .all(...params, q.limit);
    return Promise.resolve(rows.map((r) => toSession(r, c)));
  }

  definitions(tenant: string, site: string, kind: Definition['kind']): Promise<Definition[]> {
    const rows = this.#db
      .prepare<unknown[], DefinitionRow>(
        'SELECT * FROM analytics_definitions WHERE tenant = ? AND site = ? AND kind = ? ORDER BY name',
      )
      .all(tenant, site, kind);
    return Promise.resolve(rows.map((r) => toDefinition(r, c)));
  }

  definition(
    tenant: string,
    site: string,
    kind: Definition['kind'],
    id: string,
  ): Promise<Definition | undefined> {
    const row = this.#db
      .prepare<unknown[], DefinitionRow>(
        'SELECT * FROM analytics_definitions WHERE tenant = ? AND site = ? AND kind = ? AND id = ?',
      )
      .get(tenant, site, kind, id);
    return Promise.resolve(row && toDefinition(row, c));
  }

  sharedLinks(tenant: string, site: string): Promise<SharedLink[]> {
    const rows = this.#db
      .prepare<unknown[], SharedLinkRow>(
        'SELECT * FROM analytics_shared_links WHERE tenant = ? AND site = ? ORDER BY created_at, id',
      )
      .all(tenant, site);
    return Promise.resolve(rows.map((r) => toSharedLink(r, c)));
  }

  sharedLink(secretHash: string): Promise<SharedLink | undefined> {
    const row = this.#db
      .prepare<[string], SharedLinkRow>('SELECT * FROM analytics_shared_links WHERE secret_hash = ?')
      .get(secretHash);
    return Promise.resolve(row && toSharedLink(row, c));
  }

  reports(tenant: string, site: string): Promise<Report[]> {
    const rows = this.#db
      .prepare<unknown[], ReportRow>(
        'SELECT * FROM analytics_reports WHERE tenant = ? AND site = ? ORDER BY created_at, id',
      )
      .all(tenant, site);
    return Promise.resolve(rows.map((r) => toReport(r, c)));
  }

  report(tenant: string, site: string, id: string): Promise<Report | undefined> {
    const row = this.#db
      .prepare<unknown[], ReportRow>(
        'SELECT * FROM analytics_reports WHERE tenant = ? AND site = ? AND id = ?',
      )
      .get(tenant, site, id);
    return Promise.resolve(row && toReport(row, c));
  }

  dueReports(now: number, limit: number): Promise<Report[]> {
    const rows = this.#db
      .prepare<unknown[], ReportRow>(
        'SELECT * FROM analytics_reports WHERE next_at <= ? ORDER BY next_at, tenant, site, id LIMIT ?',
      )
      .all(now, limit);
    return Promise.resolve(rows.map((r) => toReport(r, c)));
  }

  reportMails(tenant: string, site: string, report: string, limit: number): Promise<OutboxMail[]> {
    const rows = this.#db
      .prepare<unknown[], OutboxRow>(
        `SELECT * FROM analytics_outbox WHERE tenant = ? AND site = ? AND report = ?
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(tenant, site, report, limit);
    return Promise.resolve(rows.map((r) => toOutboxMail(r, c)));
  }

  imports(tenant: string, site: string): Promise<Import[]> {
    const rows = this.#db
      .prepare<unknown[], ImportRow>(
        'SELECT * FROM analytics_imports WHERE tenant = ? AND site = ? ORDER BY created_at DESC, id DESC',
      )
      .all(tenant, site);
    return Promise.resolve(rows.map((r) => toImport(r, c)));
  }

  findImport(tenant: string, site: string, id: string): Promise<Import | undefined> {
    const row = this.#db
      .prepare<unknown[], ImportRow>(
        'SELECT * FROM analytics_imports WHERE tenant = ? AND site = ? AND id = ?',
      )
      .get(tenant, site, id);
    return Promise.resolve(row && toImport(row, c));
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
         events, entry_page, exit_page, source, referrer, utm_source, utm_medium, utm_campaign, device, browser, os,
         sample, steps)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, site, id) DO UPDATE SET last_at = excluded.last_at, pageviews = excluded.pageviews,
         events = excluded.events, exit_page = excluded.exit_page, steps = excluded.steps`,
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
        `INSERT INTO analytics_sites (id, tenant, domain, allowed_domains, timezone, respect_dnt, salt_rotation,
           currency, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...siteValues(site, (b) => (b ? 1 : 0)));
    return Promise.resolve();
  }

  updateSite(site: Site): Promise<void> {
    const [id, tenant, ...settings] = siteValues(site, (b) => (b ? 1 : 0));
    this.#db
      .prepare(
        `UPDATE analytics_sites SET domain = ?, allowed_domains = ?, timezone = ?, respect_dnt = ?,
           salt_rotation = ?, currency = ?
         WHERE tenant = ? AND id = ?`,
      )
      .run(...settings.slice(0, -1), tenant, id);
    return Promise.resolve();
  }

  deleteSite(tenant: string, id: string): Promise<boolean> {
    const gone = this.#db.prepare('DELETE FROM analytics_sites WHERE tenant = ? AND id = ?').run(tenant, id);
    if (gone.changes === 0) return Promise.resolve(false);
    this.#db
      .prepare(
        `DELETE FROM analytics_import_files WHERE import_id IN
           (SELECT id FROM analytics_imports WHERE tenant = ? AND site = ?)`,
      )
      .run(tenant, id);
    // Each table's key starts with (tenant, site), so each delete is one index range.
    for (const table of SITE_TABLES) {
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
    for (const r of rows) this.#upsertSession.run(...sessionValues(r));
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

  putDefinition(d: Definition): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO analytics_definitions (tenant, site, kind, id, name, spec, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, site, kind, id) DO UPDATE SET name = excluded.name, spec = excluded.spec,
           updated_at = excluded.updated_at`,
      )
      .run(d.tenant, d.site, d.kind, d.id, d.name, JSON.stringify(d.spec), d.createdAt, d.updatedAt);
    return Promise.resolve();
  }

  deleteDefinition(tenant: string, site: string, kind: Definition['kind'], id: string): Promise<boolean> {
    const { changes } = this.#db
      .prepare('DELETE FROM analytics_definitions WHERE tenant = ? AND site = ? AND kind = ? AND id = ?')
      .run(tenant, site, kind, id);
    return Promise.resolve(changes === 1);
  }

  createSharedLink(l: SharedLink): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO analytics_shared_links (tenant, site, id, name, secret_hash, hint, password_hash, created_at,
           revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(l.tenant, l.site, l.id, l.name, l.secretHash, l.hint, l.passwordHash, l.createdAt, l.revokedAt);
    return Promise.resolve();
  }

  revokeSharedLink(tenant: string, site: string, id: string, at: number): Promise<boolean> {
    const { changes } = this.#db
      .prepare(
        `UPDATE analytics_shared_links SET revoked_at = COALESCE(revoked_at, ?)
         WHERE tenant = ? AND site = ? AND id = ?`,
      )
      .run(at, tenant, site, id);
    return Promise.resolve(changes === 1);
  }

  putReport(r: Report): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO analytics_reports (tenant, site, id, frequency, recipients, next_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant, site, id) DO UPDATE SET frequency = excluded.frequency,
           recipients = excluded.recipients, next_at = excluded.next_at`,
      )
      .run(r.tenant, r.site, r.id, r.frequency, JSON.stringify(r.recipients), r.nextAt, r.createdAt);
    return Promise.resolve();
  }

  deleteReport(tenant: string, site: string, id: string): Promise<boolean> {
    const { changes } = this.#db
      .prepare('DELETE FROM analytics_reports WHERE tenant = ? AND site = ? AND id = ?')
      .run(tenant, site, id);
    this.#db
      .prepare('DELETE FROM analytics_outbox WHERE tenant = ? AND site = ? AND report = ?')
      .run(tenant, site, id);
    return Promise.resolve(changes === 1);
  }

  queueReportMail(r: Report, dueAt: number, nextAt: number, m: OutboxMail): Promise<boolean> {
    const { changes } = this.#db
      .prepare(
        'UPDATE analytics_reports SET next_at = ? WHERE tenant = ? AND site = ? AND id = ? AND next_at = ?',
      )
      .run(nextAt, r.tenant, r.site, r.id, dueAt);
    if (changes === 0) return Promise.resolve(false);
    this.#db
      .prepare(
        `INSERT INTO analytics_outbox (id, tenant, site, report, period, recipients, subject, html, text, status,
           attempts, next_attempt_at, sent_at, error, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(...outboxValues(m));
    return Promise.resolve(true);
  }

  claimMails(now: number, leaseUntil: number, limit: number): Promise<OutboxMail[]> {
    const rows = this.#db
      .prepare<unknown[], OutboxRow>(
        `UPDATE analytics_outbox SET lease_until = ? WHERE id IN (
           SELECT id FROM analytics_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
           ORDER BY next_attempt_at, id LIMIT ?)
         RETURNING *`,
      )
      .all(leaseUntil, now, now, limit);
    return Promise.resolve(
      rows.map((r) => toOutboxMail(r, c)).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt),
    );
  }

  settleMail(
    id: string,
    o: { status: OutboxMail['status']; at: number; error: string | null; nextAttemptAt: number },
  ): Promise<void> {
    this.#db
      .prepare(
        `UPDATE analytics_outbox SET status = ?, attempts = attempts + 1, error = ?, next_attempt_at = ?,
           sent_at = ?, lease_until = 0 WHERE id = ?`,
      )
      .run(o.status, o.error, o.nextAttemptAt, o.status === 'sent' ? o.at : null, id);
    return Promise.resolve();
  }

  createImport(record: Import, files: readonly ImportFile[]): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO analytics_imports (tenant, site, id, source, content_hash, status, done, total, first_day,
           last_day, skipped_days, error, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...importValues(record));
    const insert = this.#db.prepare(
      'INSERT INTO analytics_import_files (import_id, name, content) VALUES (?, ?, ?)',
    );
    for (const f of files) insert.run(record.id, f.name, f.content);
    return Promise.resolve();
  }

  claimImport(now: number, leaseUntil: number): Promise<Import | undefined> {
    const row = this.#db
      .prepare<unknown[], ImportRow>(
        `UPDATE analytics_imports SET lease_until = ?, status = 'running' WHERE (tenant, site, id) = (
           SELECT tenant, site, id FROM analytics_imports
           WHERE status = 'queued' OR (status = 'running' AND lease_until <= ?)
           ORDER BY created_at, id LIMIT 1)
         RETURNING *`,
      )
      .get(leaseUntil, now);
    return Promise.resolve(row && toImport(row, c));
  }

  importFiles(importId: string): Promise<ImportFile[]> {
    return Promise.resolve(
      this.#db
        .prepare<[string], ImportFile>(
          'SELECT name, content FROM analytics_import_files WHERE import_id = ? ORDER BY name',
        )
        .all(importId),
    );
  }

  updateImport(i: Import, leaseUntil: number): Promise<void> {
    this.#db
      .prepare(
        `UPDATE analytics_imports SET status = ?, done = ?, total = ?, first_day = ?, last_day = ?,
           skipped_days = ?, error = ?, finished_at = ?, lease_until = ? WHERE tenant = ? AND site = ? AND id = ?`,
      )
      .run(...importProgressValues(i, leaseUntil));
    if (i.status === 'completed' || i.status === 'failed') {
      this.#db.prepare('DELETE FROM analytics_import_files WHERE import_id = ?').run(i.id);
    }
    return Promise.resolve();
  }

  writeImported(
    tenant: string,
    site: string,
    importId: string,
    cells: readonly ImportedCell[],
  ): Promise<void> {
    const write = this.#db.prepare(
      `INSERT INTO analytics_imported (tenant, site, dim, day, value, import_id, visitors, visits, pageviews,
         events, bounces, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, site, dim, day, value, import_id) DO UPDATE SET visitors = excluded.visitors,
         visits = excluded.visits, pageviews = excluded.pageviews, events = excluded.events,
         bounces = excluded.bounces, duration = excluded.duration`,
    );
    for (const { day, dim, value, counters: n } of cells) {
      write.run(
        tenant,
        site,
        dim,
        day,
        value,
        importId,
        n.visitors,
        n.visits,
        n.pageviews,
        n.events,
        n.bounces,
        n.duration,
      );
    }
    return Promise.resolve();
  }

  deleteImport(tenant: string, site: string, id: string): Promise<boolean> {
    const { changes } = this.#db
      .prepare('DELETE FROM analytics_imports WHERE tenant = ? AND site = ? AND id = ?')
      .run(tenant, site, id);
    if (changes === 0) return Promise.resolve(false);
    this.#db.prepare('DELETE FROM analytics_import_files WHERE import_id = ?').run(id);
    this.#db
      .prepare('DELETE FROM analytics_imported WHERE import_id = ? AND tenant = ? AND site = ?')
      .run(id, tenant, site);
    return Promise.resolve(true);
  }
}

/** Web analytics on SQLite: sites, OAuth clients, sessions, events, seen marks and rollups. */
export const sqliteAnalytics: SqliteWing<AnalyticsRepositories, AnalyticsWriters> = {
  migrations: sqliteMigrations,
  storage: analyticsStorage,
  repositories: ({ reader }) => ({ analytics: new SqliteAnalyticsReader(reader) }),
  writers: (writer) => ({ analytics: new SqliteAnalyticsWriter(writer) }),
};
