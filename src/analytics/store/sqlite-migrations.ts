import type { Migration } from '../../sqlite/database.ts';
import { MAX_STEPS } from '../visit-steps.ts';
import { visitorSampleSql } from './dimension-sql.ts';

/** The analytics wing's part of the SQLite schema (version numbers are the store's). */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 3,
    name: '003_analytics',
    sql: `
      CREATE TABLE analytics_sites (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants (id),
        domain TEXT NOT NULL,
        allowed_domains TEXT NOT NULL,
        timezone TEXT NOT NULL,
        respect_dnt INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX analytics_sites_tenant ON analytics_sites (tenant, id);
      CREATE TABLE analytics_oauth_clients (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants (id),
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE TABLE analytics_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      -- Times ending in _local are wall-clock ms in the site's zone: buckets are plain arithmetic.
      CREATE TABLE analytics_sessions (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        id TEXT NOT NULL,
        visitor TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        started_local INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        pageviews INTEGER NOT NULL,
        events INTEGER NOT NULL,
        entry_page TEXT NOT NULL,
        exit_page TEXT NOT NULL,
        source TEXT NOT NULL,
        referrer TEXT NOT NULL,
        utm_source TEXT NOT NULL,
        utm_medium TEXT NOT NULL,
        utm_campaign TEXT NOT NULL,
        device TEXT NOT NULL,
        browser TEXT NOT NULL,
        os TEXT NOT NULL,
        PRIMARY KEY (tenant, site, id)
      ) WITHOUT ROWID;
      CREATE INDEX analytics_sessions_visitor ON analytics_sessions (tenant, site, visitor, last_at);
      CREATE INDEX analytics_sessions_start ON analytics_sessions (tenant, site, started_local);
      CREATE TABLE analytics_events (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        key TEXT NOT NULL,
        ts INTEGER NOT NULL,
        ts_local INTEGER NOT NULL,
        session TEXT NOT NULL,
        visitor TEXT NOT NULL,
        name TEXT NOT NULL,
        page TEXT NOT NULL,
        props TEXT NOT NULL,
        PRIMARY KEY (tenant, key)
      ) WITHOUT ROWID;
      CREATE INDEX analytics_events_time ON analytics_events (tenant, site, ts_local);
      -- Partitioned by tenant, site and time through the key order (seed 003).
      CREATE TABLE analytics_rollups (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        grain TEXT NOT NULL,
        bucket INTEGER NOT NULL,
        dim TEXT NOT NULL,
        value TEXT NOT NULL,
        visitors INTEGER NOT NULL,
        visits INTEGER NOT NULL,
        pageviews INTEGER NOT NULL,
        events INTEGER NOT NULL,
        bounces INTEGER NOT NULL,
        duration INTEGER NOT NULL,
        PRIMARY KEY (tenant, site, grain, dim, bucket, value)
      ) WITHOUT ROWID;
      CREATE TABLE analytics_seen (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        grain TEXT NOT NULL,
        bucket INTEGER NOT NULL,
        dim TEXT NOT NULL,
        value TEXT NOT NULL,
        visitor TEXT NOT NULL,
        PRIMARY KEY (tenant, site, grain, bucket, dim, value, visitor)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 14,
    name: '014_analytics_insights',
    sql: `
      ALTER TABLE analytics_sites ADD COLUMN salt_rotation TEXT NOT NULL DEFAULT 'daily';
      ALTER TABLE analytics_sites ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';
      -- Visits carry their steps, and a sample bucket of their visitor: funnels, journeys, goals and
      -- retention read one sample of visitors at a time. The table is rebuilt keyed by (sample,
      -- started_local) so that such a read is one contiguous range of it; the visit's id stays unique.
      -- Visits projected before this version get their steps from their events, through an index
      -- that exists only while this runs.
      CREATE INDEX analytics_events_session_upgrade ON analytics_events (tenant, site, session, ts, key);
      CREATE TABLE analytics_sessions_v14 (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        id TEXT NOT NULL,
        visitor TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        started_local INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        pageviews INTEGER NOT NULL,
        events INTEGER NOT NULL,
        entry_page TEXT NOT NULL,
        exit_page TEXT NOT NULL,
        source TEXT NOT NULL,
        referrer TEXT NOT NULL,
        utm_source TEXT NOT NULL,
        utm_medium TEXT NOT NULL,
        utm_campaign TEXT NOT NULL,
        device TEXT NOT NULL,
        browser TEXT NOT NULL,
        os TEXT NOT NULL,
        sample INTEGER NOT NULL,
        steps TEXT NOT NULL,
        PRIMARY KEY (tenant, site, sample, started_local, id)
      ) WITHOUT ROWID;
      INSERT INTO analytics_sessions_v14
      SELECT s.tenant, s.site, s.id, s.visitor, s.started_at, s.started_local, s.last_at, s.pageviews, s.events,
        s.entry_page, s.exit_page, s.source, s.referrer, s.utm_source, s.utm_medium, s.utm_campaign, s.device,
        s.browser, s.os, ${visitorSampleSql('instr', 'max')},
        COALESCE((
          SELECT json_group_array(json(step) ORDER BY ts, key) FROM (
            SELECT e.ts, e.key, CASE WHEN e.name = 'pageview' THEN json_array(e.ts - s.started_at, e.page)
              WHEN e.props = '{}' THEN json_array(e.ts - s.started_at, e.page, e.name)
              ELSE json_array(e.ts - s.started_at, e.page, e.name, json(e.props)) END AS step
            FROM analytics_events e
            WHERE e.tenant = s.tenant AND e.site = s.site AND e.session = s.id
            ORDER BY e.ts, e.key LIMIT ${MAX_STEPS}
          ) HAVING count(*) > 0
        ), '[]')
      FROM analytics_sessions s;
      DROP INDEX analytics_events_session_upgrade;
      DROP TABLE analytics_sessions;
      ALTER TABLE analytics_sessions_v14 RENAME TO analytics_sessions;
      CREATE UNIQUE INDEX analytics_sessions_id ON analytics_sessions (tenant, site, id);
      CREATE INDEX analytics_sessions_visitor ON analytics_sessions (tenant, site, visitor, last_at);
      CREATE INDEX analytics_sessions_start ON analytics_sessions (tenant, site, started_local);
      -- Goals and segments: named per site and kind, the definition as JSON.
      CREATE TABLE analytics_definitions (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, site, kind, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX analytics_definitions_name ON analytics_definitions (tenant, site, kind, name);
      CREATE TABLE analytics_shared_links (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        password_hash TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        PRIMARY KEY (tenant, site, id)
      ) WITHOUT ROWID;
      CREATE TABLE analytics_reports (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        id TEXT NOT NULL,
        frequency TEXT NOT NULL,
        recipients TEXT NOT NULL,
        next_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, site, id)
      ) WITHOUT ROWID;
      CREATE INDEX analytics_reports_due ON analytics_reports (next_at);
      -- Report mails: one per report and period, whichever process queued it; sent under a lease.
      CREATE TABLE analytics_outbox (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        report TEXT NOT NULL,
        period TEXT NOT NULL,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        html TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        lease_until INTEGER NOT NULL DEFAULT 0,
        sent_at INTEGER,
        error TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (tenant, site, report, period)
      ) WITHOUT ROWID;
      CREATE INDEX analytics_outbox_due ON analytics_outbox (status, next_attempt_at);
      CREATE TABLE analytics_imports (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        status TEXT NOT NULL,
        done INTEGER NOT NULL,
        total INTEGER NOT NULL,
        first_day INTEGER,
        last_day INTEGER,
        skipped_days INTEGER NOT NULL,
        error TEXT,
        lease_until INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        PRIMARY KEY (tenant, site, id),
        UNIQUE (tenant, site, content_hash)
      ) WITHOUT ROWID;
      CREATE INDEX analytics_imports_queue ON analytics_imports (status, created_at);
      CREATE TABLE analytics_import_files (
        import_id TEXT NOT NULL,
        name TEXT NOT NULL,
        content TEXT NOT NULL,
        PRIMARY KEY (import_id, name)
      ) WITHOUT ROWID;
      -- Imported aggregates, kept apart from the rollups Beacon collects: per local day, dimension and
      -- value, per import (so an import can be deleted whole, and written again without doubling).
      CREATE TABLE analytics_imported (
        tenant TEXT NOT NULL,
        site TEXT NOT NULL,
        dim TEXT NOT NULL,
        day INTEGER NOT NULL,
        value TEXT NOT NULL,
        import_id TEXT NOT NULL,
        visitors INTEGER NOT NULL,
        visits INTEGER NOT NULL,
        pageviews INTEGER NOT NULL,
        events INTEGER NOT NULL,
        bounces INTEGER NOT NULL,
        duration INTEGER NOT NULL,
        PRIMARY KEY (tenant, site, dim, day, value, import_id)
      ) WITHOUT ROWID;
      CREATE INDEX analytics_imported_import ON analytics_imported (import_id);
    `,
  },
];
