import type { Migration } from '../../sqlite/database.ts';

/** The monitor wing's part of the SQLite schema (version numbers are the store's). */
export const sqliteMigrations: readonly Migration[] = [
  {
    version: 2,
    name: '002_monitor',
    sql: `
      CREATE TABLE monitor_targets (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      -- One row per check identity (target, region, slot start): redundant agents and redelivered
      -- records collapse here. The key also orders a target's history, so a page is one index seek.
      CREATE TABLE monitor_checks (
        tenant TEXT NOT NULL,
        target TEXT NOT NULL,
        scheduled_at INTEGER NOT NULL,
        region TEXT NOT NULL,
        slot INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        dns_ms REAL NOT NULL,
        connect_ms REAL NOT NULL,
        tls_ms REAL NOT NULL,
        ttfb_ms REAL NOT NULL,
        transfer_ms REAL NOT NULL,
        status INTEGER,
        http_version TEXT,
        bytes INTEGER NOT NULL,
        tls_expires_at INTEGER,
        pattern_matched INTEGER,
        redirects INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        error_class TEXT,
        error_detail TEXT,
        PRIMARY KEY (tenant, target, scheduled_at, region)
      ) WITHOUT ROWID;
      CREATE TABLE monitor_rollups (
        tenant TEXT NOT NULL,
        target TEXT NOT NULL,
        size TEXT NOT NULL,
        start INTEGER NOT NULL,
        region TEXT NOT NULL,
        checks INTEGER NOT NULL,
        up INTEGER NOT NULL,
        latency_sum_ms REAL NOT NULL,
        latency TEXT NOT NULL,
        errors TEXT NOT NULL,
        PRIMARY KEY (tenant, target, size, start, region)
      ) WITHOUT ROWID;
      CREATE TABLE monitor_states (
        tenant TEXT NOT NULL,
        target TEXT NOT NULL,
        region TEXT NOT NULL,
        down INTEGER NOT NULL,
        streak INTEGER NOT NULL,
        streak_start INTEGER NOT NULL,
        last_scheduled_at INTEGER NOT NULL,
        incident_start INTEGER,
        PRIMARY KEY (tenant, target, region)
      ) WITHOUT ROWID;
      CREATE TABLE monitor_incidents (
        tenant TEXT NOT NULL,
        target TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        region TEXT NOT NULL,
        ended_at INTEGER,
        cause TEXT NOT NULL,
        detail TEXT NOT NULL,
        -- Rises with every open and close, so notifiers can follow changes from where they stopped.
        seq INTEGER NOT NULL,
        PRIMARY KEY (tenant, target, started_at, region)
      ) WITHOUT ROWID;
      CREATE INDEX monitor_incidents_seq ON monitor_incidents (seq);
    `,
  },
  {
    // Checks as a few bytes each (check-blocks.ts). A series numbers each (tenant, target, region) a
    // history belongs to. Hot rows hold one encoded check each until compaction folds a closed
    // period of a series into one block; rows of monitor_checks (the format before) are read as
    // they are until compaction moves them into blocks too.
    version: 9,
    name: '009_check_blocks',
    sql: `
      CREATE TABLE monitor_series (
        id INTEGER PRIMARY KEY,
        tenant TEXT NOT NULL,
        target TEXT NOT NULL,
        region TEXT NOT NULL,
        -- Where the newest block ends (epoch ms): a check before it may be in a block already.
        compacted_until INTEGER NOT NULL DEFAULT 0,
        UNIQUE (tenant, target, region)
      );
      CREATE TABLE monitor_hot_checks (
        series INTEGER NOT NULL,
        scheduled_at INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (series, scheduled_at)
      ) WITHOUT ROWID;
      CREATE TABLE monitor_check_blocks (
        series INTEGER NOT NULL,
        period_start INTEGER NOT NULL,
        period_end INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (series, period_start)
      ) WITHOUT ROWID;
    `,
  },
];
