import type { Migration } from '../../sqlite/database.ts';

/**
 * Fills `into` with one row per `size`-long period of the rows of `from`, composed in time order: net
 * Σ net, and lowest (highest) running sum the least (greatest) of each row's own plus the net of the
 * rows before it in the period (the same as `segment.ts#concat`).
 */
function rollUp(from: string, time: string, into: string, period: string, size: number): string {
  // ((t % size) + size) % size is the floor remainder (% truncates), so times before 1970 work too.
  const start = `${time} - ((${time} % ${size}) + ${size}) % ${size}`;
  return `
      INSERT INTO ${into} (tenant, space, ${period}, net, min_prefix, max_prefix, entries, exits, late)
      SELECT tenant, space, period, SUM(net), MIN(preceding + min_prefix), MAX(preceding + max_prefix),
             SUM(entries), SUM(exits), SUM(late)
      FROM (
        SELECT tenant, space, ${start} AS period, net, min_prefix, max_prefix, entries, exits, late,
               SUM(net) OVER (PARTITION BY tenant, space, ${start} ORDER BY ${time}) - net AS preceding
        FROM ${from}
      ) AS ordered
      GROUP BY tenant, space, period;`;
}

/** Versioned schema of the SQLite store. Add new versions at the end; never edit an applied one. */
export const storeMigrations: readonly Migration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: `
      CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL REFERENCES tenants (id),
        name TEXT NOT NULL,
        scopes TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX tokens_tenant ON tokens (tenant);
      -- Keyset order is the primary key, so a page at any depth is one index seek.
      CREATE TABLE messages (
        tenant TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        id TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (tenant, received_at, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX messages_key ON messages (tenant, key);
      CREATE TABLE checkpoints (
        consumer_group TEXT NOT NULL,
        stream TEXT NOT NULL,
        partition INTEGER NOT NULL,
        next_offset INTEGER NOT NULL,
        PRIMARY KEY (consumer_group, stream, partition)
      ) WITHOUT ROWID;
    `,
  },
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
    version: 4,
    name: '004_occupancy',
    sql: `
      CREATE TABLE occupancy_spaces (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        parent TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE INDEX occupancy_spaces_parent ON occupancy_spaces (tenant, parent);
      CREATE TABLE occupancy_doorways (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        side_a TEXT NOT NULL,
        side_b TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE TABLE occupancy_sensors (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE TABLE occupancy_placements (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        sensor TEXT NOT NULL,
        doorway TEXT NOT NULL,
        positive_side TEXT NOT NULL,
        valid_from INTEGER NOT NULL,
        valid_to INTEGER,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE INDEX occupancy_placements_sensor ON occupancy_placements (tenant, sensor, valid_from);
      CREATE INDEX occupancy_placements_doorway ON occupancy_placements (tenant, doorway);
      -- Raw crossings as projected, deduplicated by the record key; placement NULL = not counted yet.
      CREATE TABLE occupancy_events (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        sensor TEXT NOT NULL,
        ts INTEGER NOT NULL,
        direction INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        late INTEGER NOT NULL,
        placement TEXT,
        PRIMARY KEY (tenant, key)
      ) WITHOUT ROWID;
      CREATE INDEX occupancy_events_sensor ON occupancy_events (tenant, sensor, ts);
      CREATE INDEX occupancy_events_unplaced ON occupancy_events (tenant, ts, key) WHERE placement IS NULL;
      -- One row per event per space whose count it changes (the roll-up is materialized here).
      CREATE TABLE occupancy_deltas (
        tenant TEXT NOT NULL,
        space TEXT NOT NULL,
        ts INTEGER NOT NULL,
        key TEXT NOT NULL,
        delta INTEGER NOT NULL,
        late INTEGER NOT NULL,
        PRIMARY KEY (tenant, space, ts, key)
      ) WITHOUT ROWID;
      CREATE INDEX occupancy_deltas_key ON occupancy_deltas (tenant, key);
      -- Minute rollups: net change, lowest and highest running sum, entries, exits, late events, and the
      -- last delta in (ts, key) order, so deltas appended in order extend the row without a rescan.
      CREATE TABLE occupancy_minutes (
        tenant TEXT NOT NULL,
        space TEXT NOT NULL,
        minute INTEGER NOT NULL,
        net INTEGER NOT NULL,
        min_prefix INTEGER NOT NULL,
        max_prefix INTEGER NOT NULL,
        entries INTEGER NOT NULL,
        exits INTEGER NOT NULL,
        late INTEGER NOT NULL,
        last_ts INTEGER NOT NULL,
        last_key TEXT NOT NULL,
        PRIMARY KEY (tenant, space, minute)
      ) WITHOUT ROWID;
      -- Day rollups (UTC days): additive totals, so a count at any time sums few rows.
      CREATE TABLE occupancy_days (
        tenant TEXT NOT NULL,
        space TEXT NOT NULL,
        day INTEGER NOT NULL,
        net INTEGER NOT NULL,
        entries INTEGER NOT NULL,
        exits INTEGER NOT NULL,
        late INTEGER NOT NULL,
        PRIMARY KEY (tenant, space, day)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Version 5, not 2: versions 2 to 4 belong to the monitor, analytics and occupancy tables.
    // Indexing every message's key cost a second B-tree insert per row (about a third of the sink's
    // time), though only keys a client chose can repeat; a redelivered record repeats its primary key.
    version: 5,
    name: '005_messages_client_keys_only',
    sql: `
      CREATE TABLE messages_v5 (
        tenant TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        id TEXT NOT NULL,
        -- The client's idempotency key; NULL when the client gave none.
        key TEXT,
        payload TEXT NOT NULL,
        PRIMARY KEY (tenant, received_at, id)
      ) WITHOUT ROWID;
      INSERT INTO messages_v5 (tenant, received_at, id, key, payload)
        SELECT tenant, received_at, id, CASE WHEN key = id THEN NULL ELSE key END, payload FROM messages;
      DROP TABLE messages;
      ALTER TABLE messages_v5 RENAME TO messages;
      CREATE UNIQUE INDEX messages_key ON messages (tenant, key) WHERE key IS NOT NULL;
    `,
  },
  {
    // A corrected count (clamped at zero, or from the last reset) folded every minute row since its
    // origin: up to a day of them per query with a reset, all of history without one. Hour rows and
    // day rows that are whole segments (lowest and highest running sum too, composed in order) let it
    // fold days, then hours, then minutes: a few dozen rows whatever the range.
    version: 6,
    name: '006_occupancy_hours',
    sql: `
      CREATE TABLE occupancy_hours (
        tenant TEXT NOT NULL,
        space TEXT NOT NULL,
        hour INTEGER NOT NULL,
        net INTEGER NOT NULL,
        min_prefix INTEGER NOT NULL,
        max_prefix INTEGER NOT NULL,
        entries INTEGER NOT NULL,
        exits INTEGER NOT NULL,
        late INTEGER NOT NULL,
        PRIMARY KEY (tenant, space, hour)
      ) WITHOUT ROWID;
      ${rollUp('occupancy_minutes', 'minute', 'occupancy_hours', 'hour', 3_600_000)}
      DELETE FROM occupancy_days;
      ALTER TABLE occupancy_days ADD COLUMN min_prefix INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE occupancy_days ADD COLUMN max_prefix INTEGER NOT NULL DEFAULT 0;
      ${rollUp('occupancy_hours', 'hour', 'occupancy_days', 'day', 86_400_000)}
    `,
  },
];
