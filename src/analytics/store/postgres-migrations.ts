import type { PgMigration, TimeLayout } from '../../store/postgres/migrations.ts';
import { timeTable } from '../../store/postgres/partitions.ts';
import { MAX_STEPS } from '../visit-steps.ts';
import { visitorSampleSql } from './dimension-sql.ts';

/**
 * Web analytics, the tables of SQLite's migration 3. Every row carries its tenant and site; times
 * ending in _local are wall-clock ms in the site's zone, so buckets are plain arithmetic. Raw events
 * and seen marks are partitioned by local day (seed 003: by tenant and date, the tenant leading every
 * key), as native daily range partitions or a hypertable with day-long chunks; rollups and sessions
 * are small and keyed by tenant and site.
 */
const analyticsTables = (layout: TimeLayout) => `
      CREATE TABLE analytics_sites (
        id text COLLATE "C" PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL REFERENCES tenants (id),
        domain text COLLATE "C" NOT NULL,
        allowed_domains json NOT NULL,
        timezone text COLLATE "C" NOT NULL,
        respect_dnt boolean NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE INDEX analytics_sites_tenant ON analytics_sites (tenant, created_at, id);
      CREATE TABLE analytics_oauth_clients (
        id text COLLATE "C" PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        secret_hash text NOT NULL,
        created_at bigint NOT NULL,
        revoked_at bigint
      );
      CREATE TABLE analytics_settings (
        name text COLLATE "C" PRIMARY KEY,
        value text NOT NULL
      );
      CREATE TABLE analytics_sessions (
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        visitor text COLLATE "C" NOT NULL,
        started_at bigint NOT NULL,
        started_local bigint NOT NULL,
        last_at bigint NOT NULL,
        pageviews integer NOT NULL,
        events integer NOT NULL,
        entry_page text COLLATE "C" NOT NULL,
        exit_page text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        referrer text COLLATE "C" NOT NULL,
        utm_source text COLLATE "C" NOT NULL,
        utm_medium text COLLATE "C" NOT NULL,
        utm_campaign text COLLATE "C" NOT NULL,
        device text COLLATE "C" NOT NULL,
        browser text COLLATE "C" NOT NULL,
        os text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, site, id)
      );
      CREATE INDEX analytics_sessions_visitor ON analytics_sessions (tenant, site, visitor, last_at);
      CREATE INDEX analytics_sessions_start ON analytics_sessions (tenant, site, started_local);
      ${timeTable(
        layout,
        'analytics_events',
        `
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        ts bigint NOT NULL,
        ts_local bigint NOT NULL,
        session text COLLATE "C" NOT NULL,
        visitor text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        page text COLLATE "C" NOT NULL,
        props jsonb NOT NULL,
        PRIMARY KEY (tenant, site, ts_local, key)`,
        'ts_local',
        '86400000::bigint',
      )}
      CREATE INDEX analytics_events_local_brin ON analytics_events USING brin (ts_local);
      -- An event's key is unique per tenant, whatever its time; a unique key on the partitioned table
      -- must contain its partition column, so the keys live here, as message_keys do for messages.
      -- A projection claims its keys here first: a unique key decides which events are new.
      CREATE TABLE analytics_event_keys (
        tenant text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, key)
      );
      CREATE TABLE analytics_rollups (
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        grain text COLLATE "C" NOT NULL,
        bucket bigint NOT NULL,
        dim text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        visitors bigint NOT NULL,
        visits bigint NOT NULL,
        pageviews bigint NOT NULL,
        events bigint NOT NULL,
        bounces bigint NOT NULL,
        duration bigint NOT NULL,
        PRIMARY KEY (tenant, site, grain, dim, bucket, value)
      );
      ${timeTable(
        layout,
        'analytics_seen',
        `
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        grain text COLLATE "C" NOT NULL,
        bucket bigint NOT NULL,
        dim text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        visitor text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, site, grain, bucket, dim, value, visitor)`,
        'bucket',
        '86400000::bigint',
      )}`;

/** The analytics wing's part of the PostgreSQL schema (version numbers are the store's). */
export const postgresMigrations: readonly PgMigration[] = [
  {
    // Version 3, as in SQLite: versions 2 to 4 belong to the monitor, analytics and occupancy tables.
    version: 3,
    name: '003_analytics',
    sql: analyticsTables,
  },
  {
    // Version 14, as in SQLite: sites' salt rotation and currency, visits' steps and sample buckets,
    // goals and segments, shared links, scheduled reports and their outbox, imports.
    version: 14,
    name: '014_analytics_insights',
    sql: () => `
      ALTER TABLE analytics_sites ADD COLUMN salt_rotation text COLLATE "C" NOT NULL DEFAULT 'daily',
        ADD COLUMN currency text COLLATE "C" NOT NULL DEFAULT 'USD';
      ALTER TABLE analytics_sessions ADD COLUMN sample integer NOT NULL DEFAULT 0,
        ADD COLUMN steps text NOT NULL DEFAULT '[]';
      UPDATE analytics_sessions SET sample = ${visitorSampleSql('strpos', 'greatest')};
      -- Visits projected before this version get their steps from their events, in one pass.
      UPDATE analytics_sessions s SET steps = x.steps FROM (
        SELECT tenant, site, session, json_agg(step ORDER BY ts, key)::text AS steps FROM (
          SELECT e.tenant, e.site, e.session, e.ts, e.key,
            CASE WHEN e.name = 'pageview' THEN json_build_array(e.ts - s2.started_at, e.page)
              WHEN e.props = '{}'::jsonb THEN json_build_array(e.ts - s2.started_at, e.page, e.name)
              ELSE json_build_array(e.ts - s2.started_at, e.page, e.name, e.props) END AS step,
            row_number() OVER (PARTITION BY e.tenant, e.site, e.session ORDER BY e.ts, e.key) AS n
          FROM analytics_events e JOIN analytics_sessions s2
            ON s2.tenant = e.tenant AND s2.site = e.site AND s2.id = e.session
        ) steps WHERE n <= ${MAX_STEPS} GROUP BY tenant, site, session
      ) x WHERE s.tenant = x.tenant AND s.site = x.site AND s.id = x.session;
      CREATE INDEX analytics_sessions_sample ON analytics_sessions (tenant, site, sample, started_local, id);
      CREATE TABLE analytics_definitions (
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        kind text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        spec text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (tenant, site, kind, id)
      );
      CREATE UNIQUE INDEX analytics_definitions_name ON analytics_definitions (tenant, site, kind, name);
      CREATE TABLE analytics_shared_links (
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        name text NOT NULL,
        secret_hash text COLLATE "C" NOT NULL UNIQUE,
        hint text NOT NULL,
        password_hash text,
        created_at bigint NOT NULL,
        revoked_at bigint,
        PRIMARY KEY (tenant, site, id)
      );
      CREATE TABLE analytics_reports (
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        frequency text COLLATE "C" NOT NULL,
        recipients text NOT NULL,
        next_at bigint NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (tenant, site, id)
      );
      CREATE INDEX analytics_reports_due ON analytics_reports (next_at);
      CREATE TABLE analytics_outbox (
        id text COLLATE "C" PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        report text COLLATE "C" NOT NULL,
        period text COLLATE "C" NOT NULL,
        recipients text NOT NULL,
        subject text NOT NULL,
        html text NOT NULL,
        text text NOT NULL,
        status text COLLATE "C" NOT NULL,
        attempts integer NOT NULL,
        next_attempt_at bigint NOT NULL,
        lease_until bigint NOT NULL DEFAULT 0,
        sent_at bigint,
        error text,
        created_at bigint NOT NULL,
        UNIQUE (tenant, site, report, period)
      );
      CREATE INDEX analytics_outbox_due ON analytics_outbox (status, next_attempt_at);
      CREATE TABLE analytics_imports (
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        source text COLLATE "C" NOT NULL,
        content_hash text COLLATE "C" NOT NULL,
        status text COLLATE "C" NOT NULL,
        done bigint NOT NULL,
        total bigint NOT NULL,
        first_day bigint,
        last_day bigint,
        skipped_days integer NOT NULL,
        error text,
        lease_until bigint NOT NULL DEFAULT 0,
        created_at bigint NOT NULL,
        finished_at bigint,
        PRIMARY KEY (tenant, site, id),
        UNIQUE (tenant, site, content_hash)
      );
      CREATE INDEX analytics_imports_queue ON analytics_imports (status, created_at);
      CREATE TABLE analytics_import_files (
        import_id text COLLATE "C" NOT NULL,
        name text COLLATE "C" NOT NULL,
        content text NOT NULL,
        PRIMARY KEY (import_id, name)
      );
      CREATE TABLE analytics_imported (
        tenant text COLLATE "C" NOT NULL,
        site text COLLATE "C" NOT NULL,
        dim text COLLATE "C" NOT NULL,
        day bigint NOT NULL,
        value text COLLATE "C" NOT NULL,
        import_id text COLLATE "C" NOT NULL,
        visitors bigint NOT NULL,
        visits bigint NOT NULL,
        pageviews bigint NOT NULL,
        events bigint NOT NULL,
        bounces bigint NOT NULL,
        duration bigint NOT NULL,
        PRIMARY KEY (tenant, site, dim, day, value, import_id)
      );
      CREATE INDEX analytics_imported_import ON analytics_imported (import_id);`,
  },
];
