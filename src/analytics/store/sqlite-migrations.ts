import type { Migration } from '../../sqlite/database.ts';

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
];
