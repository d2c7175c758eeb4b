import type { PgMigration, TimeLayout } from '../../store/postgres/migrations.ts';
import { timeTable } from '../../store/postgres/partitions.ts';

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
];
