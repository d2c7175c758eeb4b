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
  {
    // Monitor kinds, states and alerting. Columns added to old tables are nullable or defaulted, so
    // rows written before read as they did (an http check, its state from ok).
    version: 10,
    name: '010_alerts',
    sql: `
      ALTER TABLE monitor_checks ADD COLUMN kind TEXT;
      ALTER TABLE monitor_checks ADD COLUMN state TEXT;
      ALTER TABLE monitor_checks ADD COLUMN observed TEXT;
      ALTER TABLE monitor_states ADD COLUMN fails INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE monitor_states ADD COLUMN slow INTEGER NOT NULL DEFAULT 0;
      -- A push target's secret, indexed: a push names only its token.
      ALTER TABLE monitor_targets ADD COLUMN push_token TEXT;
      CREATE UNIQUE INDEX monitor_targets_push_token ON monitor_targets (push_token) WHERE push_token IS NOT NULL;
      CREATE TABLE monitor_pushes (
        tenant TEXT NOT NULL,
        target TEXT NOT NULL,
        at INTEGER NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL,
        duration_ms REAL,
        PRIMARY KEY (tenant, target)
      ) WITHOUT ROWID;
      CREATE TABLE monitor_alert_rules (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      CREATE TABLE monitor_maintenance (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        source TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      -- What each rule last told of each target: moved only by the check projection.
      CREATE TABLE monitor_alert_states (
        tenant TEXT NOT NULL,
        rule TEXT NOT NULL,
        target TEXT NOT NULL,
        down INTEGER NOT NULL,
        degraded INTEGER NOT NULL,
        since INTEGER NOT NULL,
        notified_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, target, rule)
      ) WITHOUT ROWID;
      -- One row per threshold per certificate (its expiry identifies it), so each warns once.
      CREATE TABLE monitor_cert_warnings (
        tenant TEXT NOT NULL,
        target TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        days INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (tenant, target, expires_at, days)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Each target's newest check, kept by every check insert, so a page of a target list reads its
    // targets' states in one join and filters on them. Targets checked before read as unknown until
    // their next check.
    version: 16,
    name: '016_target_current',
    sql: `
      CREATE TABLE monitor_current (
        tenant TEXT NOT NULL,
        target TEXT NOT NULL,
        at INTEGER NOT NULL,
        region TEXT NOT NULL,
        state TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (tenant, target)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Public status pages and the incident updates published on them. A slug and a domain are
    // unique across tenants: the public URL or Host header is all that finds a page.
    version: 17,
    name: '017_status_pages',
    sql: `
      CREATE TABLE monitor_status_pages (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        slug TEXT NOT NULL,
        domain TEXT,
        spec TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX monitor_status_pages_slug ON monitor_status_pages (slug);
      CREATE UNIQUE INDEX monitor_status_pages_domain ON monitor_status_pages (domain) WHERE domain IS NOT NULL;
      CREATE TABLE monitor_status_updates (
        tenant TEXT NOT NULL,
        page TEXT NOT NULL,
        id TEXT NOT NULL,
        at INTEGER NOT NULL,
        status TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, page, id)
      ) WITHOUT ROWID;
      -- A page's updates newest first, a page of them one index range.
      CREATE INDEX monitor_status_updates_at ON monitor_status_updates (tenant, page, at, id);
    `,
  },
  {
    // Blocks move to a rowid table. A block (about 9.6 KB for a day at 60 s) is larger than a page:
    // in a WITHOUT ROWID table SQLite keeps at most about 1 KB of a row in its leaf and spills the
    // rest to overflow pages whose last one is left part empty (half a page a block, on average),
    // and new days go into the middle of a tree ordered by series. A rowid table sizes each row's
    // local part so that its overflow pages are full, and appends. Measured with bench/storage.ts:
    // 9.1 B a check at rest before.
    version: 19,
    name: '019_check_blocks_rowid',
    sql: `
      CREATE TABLE monitor_check_blocks_rowid (
        series INTEGER NOT NULL,
        period_start INTEGER NOT NULL,
        period_end INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        data BLOB NOT NULL
      );
      INSERT INTO monitor_check_blocks_rowid (series, period_start, period_end, checks, data)
        SELECT series, period_start, period_end, checks, data FROM monitor_check_blocks
        ORDER BY series, period_start;
      DROP TABLE monitor_check_blocks;
      ALTER TABLE monitor_check_blocks_rowid RENAME TO monitor_check_blocks;
      CREATE UNIQUE INDEX monitor_check_blocks_key ON monitor_check_blocks (series, period_start);
    `,
  },
  {
    // Minute rollups are no longer stored: a reader sums them from the checks (hot rows, blocks and
    // legacy rows), as it did already for checks in blocks. Storing them cost a row a minute per
    // series at ingest, and deleting those rows was compaction's largest cost. Hour and day rollups
    // stay.
    version: 21,
    name: '021_minute_rollups_derived',
    sql: `DELETE FROM monitor_rollups WHERE size = 'minute';`,
  },
  {
    // A block's row keeps a head of its data whose part in the leaf is small and about constant, the
    // rest in full overflow pages; what is left over goes to monitor_check_block_tails in pieces of
    // a slot of a leaf page each (see BLOCK_PIECE in sqlite-monitor.ts). A row's part in the leaf
    // was its length's remainder, 0.5–4 KB, and such rows left their pages about a fifth empty
    // (0.9 → 0.4 B a check around the blocks' data, bench/storage.ts). Tails are keyed by their
    // block's id, so blocks get an INTEGER PRIMARY KEY: a VACUUM may renumber implicit rowids. Blocks
    // written before are copied as they are, their data whole in the row, and read so; the trigger
    // takes a block's tails with it.
    version: 22,
    name: '022_check_block_tails',
    sql: `
      CREATE TABLE monitor_check_blocks_keyed (
        id INTEGER PRIMARY KEY,
        series INTEGER NOT NULL,
        period_start INTEGER NOT NULL,
        period_end INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        data BLOB NOT NULL
      );
      INSERT INTO monitor_check_blocks_keyed (id, series, period_start, period_end, checks, data)
        SELECT rowid, series, period_start, period_end, checks, data FROM monitor_check_blocks ORDER BY rowid;
      DROP TABLE monitor_check_blocks;
      ALTER TABLE monitor_check_blocks_keyed RENAME TO monitor_check_blocks;
      CREATE UNIQUE INDEX monitor_check_blocks_key ON monitor_check_blocks (series, period_start);
      CREATE TABLE monitor_check_block_tails (
        piece INTEGER PRIMARY KEY,
        data BLOB NOT NULL
      );
      CREATE TRIGGER monitor_check_blocks_tails_gone AFTER DELETE ON monitor_check_blocks BEGIN
        DELETE FROM monitor_check_block_tails WHERE piece BETWEEN OLD.id * 16 AND OLD.id * 16 + 15;
      END;
    `,
  },
  {
    // PostgreSQL's version 23 packs up to 16 hot checks into a row, sharing its tuple header and index
    // entry. SQLite keeps one check a row: a WITHOUT ROWID row costs it a few bytes beside its body
    // (48.5 B a check at rest, bench/storage.ts). The version is kept so that both backends have the
    // same list.
    version: 23,
    name: '023_hot_check_runs',
    sql: `-- Nothing to change on SQLite.`,
  },
];
