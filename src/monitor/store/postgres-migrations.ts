import type { PgMigration, TimeLayout } from '../../store/postgres/migrations.ts';
import { timeTable } from '../../store/postgres/partitions.ts';

/**
 * One row per check identity (target, region, slot start), which the primary key enforces: redundant
 * agents and redelivered records collapse here. The key also orders a target's history newest first,
 * so a page is one index seek per partition.
 */
const checksColumns = `
        tenant text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        scheduled_at timestamptz NOT NULL,
        region text COLLATE "C" NOT NULL,
        slot bigint NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms double precision NOT NULL,
        dns_ms double precision NOT NULL,
        connect_ms double precision NOT NULL,
        tls_ms double precision NOT NULL,
        ttfb_ms double precision NOT NULL,
        transfer_ms double precision NOT NULL,
        status integer,
        http_version text,
        bytes bigint NOT NULL,
        tls_expires_at timestamptz,
        pattern_matched boolean,
        redirects integer NOT NULL,
        ok boolean NOT NULL,
        error_class text,
        error_detail text,
        PRIMARY KEY (tenant, target, scheduled_at, region)`;

/** Native range partitions by day, which the monitor's retention drops whole, or a hypertable. */
const checksTable = (layout: TimeLayout) => `
      ${timeTable(layout, 'monitor_checks', checksColumns, 'scheduled_at', "interval '1 day'")}
      ${
        layout === 'native'
          ? 'CREATE INDEX monitor_checks_scheduled_brin ON monitor_checks USING brin (scheduled_at);'
          : `ALTER TABLE monitor_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'tenant, target',
        timescaledb.compress_orderby = 'scheduled_at DESC, region');
      SELECT add_compression_policy('monitor_checks', interval '7 days');`
      }`;

/** The monitor wing's part of the PostgreSQL schema (version numbers are the store's). */
export const postgresMigrations: readonly PgMigration[] = [
  {
    // Version 2, as in SQLite: the monitor's tables. Checks are time-partitioned like messages;
    // targets, rollups (kept longer than raw checks), incident states and incidents are small and not.
    version: 2,
    name: '002_monitor',
    sql: (layout) => `
      CREATE TABLE monitor_targets (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        source text NOT NULL,
        -- The spec as JSON text, kept byte for byte (json, not jsonb), so it reads back in its order.
        spec json NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      ${checksTable(layout)}
      CREATE TABLE monitor_rollups (
        tenant text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        size text COLLATE "C" NOT NULL,
        start timestamptz NOT NULL,
        region text COLLATE "C" NOT NULL,
        checks integer NOT NULL,
        up integer NOT NULL,
        latency_sum_ms double precision NOT NULL,
        latency json NOT NULL,
        errors json NOT NULL,
        PRIMARY KEY (tenant, target, size, start, region)
      );
      CREATE TABLE monitor_states (
        tenant text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        region text COLLATE "C" NOT NULL,
        down boolean NOT NULL,
        streak integer NOT NULL,
        streak_start timestamptz NOT NULL,
        last_scheduled_at timestamptz NOT NULL,
        incident_start timestamptz,
        PRIMARY KEY (tenant, target, region)
      );
      CREATE TABLE monitor_incidents (
        tenant text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        started_at timestamptz NOT NULL,
        region text COLLATE "C" NOT NULL,
        ended_at timestamptz,
        cause text NOT NULL,
        detail text NOT NULL,
        -- Rises with every open and close, in commit order, so notifiers follow changes from where
        -- they stopped (postgres-monitor.ts serializes the transactions that assign it).
        seq bigint NOT NULL,
        PRIMARY KEY (tenant, target, started_at, region)
      );
      CREATE INDEX monitor_incidents_seq ON monitor_incidents (seq);`,
  },
  {
    // Version 9, as in SQLite: checks as a few bytes each (check-blocks.ts). A series numbers each
    // (tenant, target, region); hot rows hold one encoded check each until compaction folds a closed
    // period of a series into one block. monitor_checks (the format before) is read as it is until
    // compaction has moved its rows into blocks. Times here are epoch ms as float8, exact for the
    // integers the prober writes and keeping any fraction an agent sends.
    version: 9,
    name: '009_check_blocks',
    sql: () => `
      CREATE TABLE monitor_series (
        id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        region text COLLATE "C" NOT NULL,
        -- Where the newest block ends: a check before it may be in a block already.
        compacted_until float8 NOT NULL DEFAULT 0,
        UNIQUE (tenant, target, region)
      );
      CREATE TABLE monitor_hot_checks (
        series integer NOT NULL,
        scheduled_at float8 NOT NULL,
        body bytea NOT NULL,
        PRIMARY KEY (series, scheduled_at)
      );
      CREATE TABLE monitor_check_blocks (
        series integer NOT NULL,
        period_start float8 NOT NULL,
        period_end float8 NOT NULL,
        checks integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (series, period_start)
      );
      -- Blocks are zstd already: stored out of line without PostgreSQL compressing them again.
      ALTER TABLE monitor_check_blocks ALTER COLUMN data SET STORAGE EXTERNAL;`,
  },
  {
    // Monitor kinds, states and alerting, as in SQLite. Times of the new tables are epoch ms (bigint):
    // they are never ranged over by SQL, only compared and carried.
    version: 10,
    name: '010_alerts',
    sql: () => `
      ALTER TABLE monitor_checks ADD COLUMN kind text;
      ALTER TABLE monitor_checks ADD COLUMN state text;
      ALTER TABLE monitor_checks ADD COLUMN observed json;
      ALTER TABLE monitor_states ADD COLUMN fails integer NOT NULL DEFAULT 0;
      ALTER TABLE monitor_states ADD COLUMN slow integer NOT NULL DEFAULT 0;
      ALTER TABLE monitor_targets ADD COLUMN push_token text COLLATE "C";
      CREATE UNIQUE INDEX monitor_targets_push_token ON monitor_targets (push_token) WHERE push_token IS NOT NULL;
      CREATE TABLE monitor_pushes (
        tenant text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        at bigint NOT NULL,
        status text NOT NULL,
        message text NOT NULL,
        duration_ms double precision,
        PRIMARY KEY (tenant, target)
      );
      CREATE TABLE monitor_alert_rules (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        source text NOT NULL,
        spec json NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE TABLE monitor_maintenance (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        source text NOT NULL,
        spec json NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE TABLE monitor_alert_states (
        tenant text COLLATE "C" NOT NULL,
        rule text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        down boolean NOT NULL,
        degraded boolean NOT NULL,
        since bigint NOT NULL,
        notified_at bigint NOT NULL,
        PRIMARY KEY (tenant, target, rule)
      );
      CREATE TABLE monitor_cert_warnings (
        tenant text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        expires_at bigint NOT NULL,
        days integer NOT NULL,
        at bigint NOT NULL,
        PRIMARY KEY (tenant, target, expires_at, days)
      );`,
  },
  {
    // Each target's newest check, as in SQLite.
    version: 16,
    name: '016_target_current',
    sql: () => `
      CREATE TABLE monitor_current (
        tenant text COLLATE "C" NOT NULL,
        target text COLLATE "C" NOT NULL,
        at double precision NOT NULL,
        region text COLLATE "C" NOT NULL,
        state text NOT NULL,
        body json NOT NULL,
        PRIMARY KEY (tenant, target)
      );`,
  },
  {
    // Status pages and their incident updates, as in SQLite; times are epoch ms (bigint).
    version: 17,
    name: '017_status_pages',
    sql: () => `
      CREATE TABLE monitor_status_pages (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        slug text COLLATE "C" NOT NULL,
        domain text COLLATE "C",
        spec json NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE UNIQUE INDEX monitor_status_pages_slug ON monitor_status_pages (slug);
      CREATE UNIQUE INDEX monitor_status_pages_domain ON monitor_status_pages (domain) WHERE domain IS NOT NULL;
      CREATE TABLE monitor_status_updates (
        tenant text COLLATE "C" NOT NULL,
        page text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        at bigint NOT NULL,
        status text NOT NULL,
        title text NOT NULL,
        body text NOT NULL,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        PRIMARY KEY (tenant, page, id)
      );
      CREATE INDEX monitor_status_updates_at ON monitor_status_updates (tenant, page, at, id);`,
  },
  {
    // SQLite's version 19 moves its blocks to a rowid table (overflow pages filled). PostgreSQL keeps
    // each block out of line in TOAST already (storage EXTERNAL, version 9): nothing to move. The
    // version is kept so that both backends have the same list.
    version: 19,
    name: '019_check_blocks_rowid',
    sql: () => `
      COMMENT ON TABLE monitor_check_blocks IS 'Compacted checks: one zstd block per series and period, stored out of line';`,
  },
  {
    // As in SQLite: minute rollups are summed from the checks when read, and no longer stored.
    version: 21,
    name: '021_minute_rollups_derived',
    sql: () => `DELETE FROM monitor_rollups WHERE size = 'minute';`,
  },
  {
    // A block's data goes out of line in whole TOAST chunks (four to a page) and what is left over
    // stays in its row, stored as it is (TOAST_CHUNK in postgres-monitor.ts): the last, partial
    // chunk of each block took a chunk's slot in a page (8.7 → 8.2 B a check for blocks and their
    // indexes, bench/storage.ts). Blocks written before have an empty tail and read as they are.
    // SQLite's version 22 does the same with its own pages.
    version: 22,
    name: '022_check_block_tails',
    sql: () => `
      ALTER TABLE monitor_check_blocks ADD COLUMN tail bytea NOT NULL DEFAULT '';
      ALTER TABLE monitor_check_blocks ALTER COLUMN tail SET STORAGE PLAIN;`,
  },
  {
    // Hot rows hold up to 16 checks of a series each (postgres-hot-checks.ts), all in one hour: a
    // row's times as float8[] and their bodies back to back. One row per check cost 113 B a check at
    // rest (24 B of tuple header, a 4 B line pointer, the key's alignment, and an index entry of
    // about 40 B); sixteen share that overhead (bench/storage.ts). Rows are keyed by their first
    // check's time; a check lives in the row of its series with the greatest start at or before it.
    // The rows there are grouped so, sixteen at most, never across an hour.
    version: 23,
    name: '023_hot_check_runs',
    sql: () => `
      ALTER TABLE monitor_hot_checks RENAME TO monitor_hot_checks_22;
      ALTER INDEX monitor_hot_checks_pkey RENAME TO monitor_hot_checks_22_pkey;
      CREATE TABLE monitor_hot_checks (
        start float8 NOT NULL,
        series integer NOT NULL,
        at float8[] NOT NULL,
        body bytea NOT NULL,
        PRIMARY KEY (series, start)
      );
      INSERT INTO monitor_hot_checks (start, series, at, body)
        SELECT min(scheduled_at), series, array_agg(scheduled_at ORDER BY scheduled_at),
          string_agg(body, ''::bytea ORDER BY scheduled_at)
        FROM (
          SELECT series, scheduled_at, body, floor(scheduled_at / 3600000) AS hour,
            (row_number() OVER (PARTITION BY series, floor(scheduled_at / 3600000) ORDER BY scheduled_at) - 1) / 16
              AS part
          FROM monitor_hot_checks_22
        ) runs
        GROUP BY series, hour, part;
      DROP TABLE monitor_hot_checks_22;`,
  },
];
