import type { Pool } from 'pg';
import { lockedTransaction } from './locked-transaction.ts';

/** How time-series tables are laid out: native range partitions, or TimescaleDB hypertables. */
export type TimeLayout = 'native' | 'timescaledb';

/** One versioned step of the PostgreSQL schema. `sql` may depend on the layout chosen at setup. */
export interface PgMigration {
  readonly version: number;
  readonly name: string;
  sql(layout: TimeLayout): string;
}

/** What `open()` found and did, for `beacon setup` to report. */
export interface MigrationReport {
  /** Migrations applied by this call, in order. */
  readonly applied: string[];
  /** Migrations that were already in the database. */
  readonly existing: string[];
  readonly layout: TimeLayout;
}

/** Session-independent key of the advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK = 0x62636e01;

/** Keyset order is the primary key, so a page at any depth is one index seek. */
const messagesColumns = `
        tenant text COLLATE "C" NOT NULL,
        received_at timestamptz NOT NULL,
        id text COLLATE "C" NOT NULL,
        -- The client's idempotency key; NULL when the client gave none (the key was the id).
        key text COLLATE "C",
        payload json NOT NULL,
        PRIMARY KEY (tenant, received_at, id)`;

const messagesTable = (layout: TimeLayout) =>
  layout === 'native'
    ? `
      -- Native range partitions by day, created ahead of time and on demand (partitions.ts).
      CREATE TABLE messages (${messagesColumns}
      ) PARTITION BY RANGE (received_at);
      CREATE INDEX messages_received_brin ON messages USING brin (received_at);`
    : `
      CREATE TABLE messages (${messagesColumns}
      );
      SELECT create_hypertable('messages', 'received_at', chunk_time_interval => interval '1 day');
      ALTER TABLE messages SET (timescaledb.compress, timescaledb.compress_segmentby = 'tenant',
        timescaledb.compress_orderby = 'received_at, id');
      SELECT add_compression_policy('messages', interval '7 days');`;

const deltasColumns = `
        tenant text COLLATE "C" NOT NULL,
        space text COLLATE "C" NOT NULL,
        ts bigint NOT NULL,
        key text COLLATE "C" NOT NULL,
        delta smallint NOT NULL CHECK (delta IN (1, -1)),
        late boolean NOT NULL,
        PRIMARY KEY (tenant, space, ts, key)`;

/**
 * The largest occupancy table (one row per event per space it changes), partitioned by its time `ts`
 * (epoch ms): daily partitions made on demand (partitions.ts#DeltaPartitions), or a hypertable.
 */
const deltasTable = (layout: TimeLayout) =>
  layout === 'native'
    ? `CREATE TABLE occupancy_deltas (${deltasColumns}
      ) PARTITION BY RANGE (ts);`
    : `CREATE TABLE occupancy_deltas (${deltasColumns}
      );
      SELECT create_hypertable('occupancy_deltas', 'ts', chunk_time_interval => 86400000);`;
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

const checksTable = (layout: TimeLayout) =>
  layout === 'native'
    ? `
      -- Native range partitions by day (partitions.ts); the monitor's retention drops whole days.
      CREATE TABLE monitor_checks (${checksColumns}
      ) PARTITION BY RANGE (scheduled_at);
      CREATE INDEX monitor_checks_scheduled_brin ON monitor_checks USING brin (scheduled_at);`
    : `
      CREATE TABLE monitor_checks (${checksColumns}
      );
      SELECT create_hypertable('monitor_checks', 'scheduled_at', chunk_time_interval => interval '1 day');
      ALTER TABLE monitor_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'tenant, target',
        timescaledb.compress_orderby = 'scheduled_at DESC, region');
      SELECT add_compression_policy('monitor_checks', interval '7 days');`;

/**
 * A table of wall-clock times in the sites' zones (bigint ms), partitioned by local day on `column`:
 * native daily range partitions, or a hypertable with day-long chunks.
 */
const localDayTable = (layout: TimeLayout, table: string, columns: string, column: string) =>
  layout === 'native'
    ? `
      CREATE TABLE ${table} (${columns}
      ) PARTITION BY RANGE (${column});`
    : `
      CREATE TABLE ${table} (${columns}
      );
      SELECT create_hypertable('${table}', '${column}', chunk_time_interval => 86400000::bigint);`;

/**
 * Web analytics (issue 5), the tables of SQLite's migration 3. Every row carries its tenant and site;
 * times ending in _local are wall-clock ms in the site's zone, so buckets are plain arithmetic.
 * Raw events and seen marks are partitioned by local day (seed 003: by tenant and date, the tenant
 * leading every key); rollups and sessions are small and keyed by tenant and site.
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
      ${localDayTable(
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
      ${localDayTable(
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
      )}`;

/**
 * Fills `into` with one row per `size`-long period of the rows of `from`, composed in time order: net
 * Σ net, and lowest (highest) running sum the least (greatest) of each row's own plus the net of the
 * rows before it in the period (the same as `segment.ts#concat`). As in the SQLite store.
 */
function rollUp(from: string, time: string, into: string, period: string, size: number): string {
  // ((t % size) + size) % size is the floor remainder (% truncates), so times before 1970 work too.
  const start = `${time} - ((${time} % ${size}) + ${size}) % ${size}`;
  return `
      INSERT INTO ${into} (tenant, space, ${period}, net, min_prefix, max_prefix, entries, exits, late)
      SELECT tenant, space, period, sum(net), min(preceding + min_prefix), max(preceding + max_prefix),
             sum(entries), sum(exits), sum(late)
      FROM (
        SELECT tenant, space, ${start} AS period, net, min_prefix, max_prefix, entries, exits, late,
               sum(net) OVER (PARTITION BY tenant, space, ${start} ORDER BY ${time}) - net AS preceding
        FROM ${from}
      ) AS ordered
      GROUP BY tenant, space, period;`;
}

/** Versioned schema of the PostgreSQL store. Add new versions at the end; never edit an applied one. */
export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: '001_tenants_messages_checkpoints',
    sql: (layout) => `
      CREATE TABLE beacon_settings (name text PRIMARY KEY, value text NOT NULL);
      INSERT INTO beacon_settings (name, value) VALUES ('time_layout', '${layout}');
      CREATE TABLE tenants (
        id text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE tokens (
        id text COLLATE "C" PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        scopes json NOT NULL,
        hash text NOT NULL UNIQUE,
        created_at bigint NOT NULL,
        revoked_at bigint
      );
      CREATE INDEX tokens_tenant ON tokens (tenant);
      ${messagesTable(layout)}
      -- A unique key on a partitioned table must contain the partition column, so (tenant, key)
      -- cannot be unique on messages itself. This unpartitioned table holds every live client key:
      -- a record with one is new exactly when its key inserts here. Records without (key = id) only
      -- repeat as redeliveries, which the primary key drops. Retention deletes old keys with the rows.
      CREATE TABLE message_keys (
        tenant text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        received_at timestamptz NOT NULL,
        id text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, key)
      );
      CREATE INDEX message_keys_received_brin ON message_keys USING brin (received_at);
      CREATE TABLE checkpoints (
        consumer_group text NOT NULL,
        stream text NOT NULL,
        partition integer NOT NULL,
        next_offset bigint NOT NULL,
        PRIMARY KEY (consumer_group, stream, partition)
      );`,
  },
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
    // Version 3, as in SQLite: versions 2 to 4 belong to the monitor, analytics and occupancy tables.
    version: 3,
    name: '003_analytics',
    sql: analyticsTables,
  },
  {
    // Version 4, as in SQLite: versions 2 and 3 belong to the monitor and analytics tables.
    version: 4,
    name: '004_occupancy',
    sql: (layout) => `
      CREATE TABLE occupancy_spaces (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        name text NOT NULL,
        parent text COLLATE "C",
        created_at bigint NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE INDEX occupancy_spaces_parent ON occupancy_spaces (tenant, parent);
      CREATE TABLE occupancy_doorways (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        name text NOT NULL,
        side_a text COLLATE "C" NOT NULL,
        side_b text COLLATE "C",
        created_at bigint NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE TABLE occupancy_sensors (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        name text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE TABLE occupancy_placements (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        sensor text COLLATE "C" NOT NULL,
        doorway text COLLATE "C" NOT NULL,
        positive_side text NOT NULL CHECK (positive_side IN ('a', 'b')),
        valid_from bigint NOT NULL,
        valid_to bigint,
        created_at bigint NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE INDEX occupancy_placements_sensor ON occupancy_placements (tenant, sensor, valid_from);
      CREATE INDEX occupancy_placements_doorway ON occupancy_placements (tenant, doorway);
      -- Raw crossings as projected, deduplicated by the record key; placement NULL = not counted yet.
      -- Unpartitioned: (tenant, key) must be unique, and a unique key on a partitioned table must hold
      -- the partition column (an id-keyed retry may carry another ts).
      CREATE TABLE occupancy_events (
        tenant text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        sensor text COLLATE "C" NOT NULL,
        ts bigint NOT NULL,
        direction smallint NOT NULL CHECK (direction IN (1, -1)),
        received_at bigint NOT NULL,
        late boolean NOT NULL,
        placement text COLLATE "C",
        PRIMARY KEY (tenant, key)
      );
      CREATE INDEX occupancy_events_sensor ON occupancy_events (tenant, sensor, ts);
      CREATE INDEX occupancy_events_unplaced ON occupancy_events (tenant, ts, key) WHERE placement IS NULL;
      -- One row per event per space whose count it changes (the roll-up is materialized here).
      ${deltasTable(layout)}
      CREATE INDEX occupancy_deltas_key ON occupancy_deltas (tenant, key);
      -- Minute rollups: net change, lowest and highest running sum, entries, exits, late events, and the
      -- last delta in (ts, key) order, so deltas appended in order extend the row without a rescan.
      CREATE TABLE occupancy_minutes (
        tenant text COLLATE "C" NOT NULL,
        space text COLLATE "C" NOT NULL,
        minute bigint NOT NULL,
        net integer NOT NULL,
        min_prefix integer NOT NULL,
        max_prefix integer NOT NULL,
        entries integer NOT NULL,
        exits integer NOT NULL,
        late integer NOT NULL,
        last_ts bigint NOT NULL,
        last_key text COLLATE "C" NOT NULL,
        PRIMARY KEY (tenant, space, minute)
      );
      -- Day rollups (UTC days): additive totals, so a count at any time sums few rows.
      CREATE TABLE occupancy_days (
        tenant text COLLATE "C" NOT NULL,
        space text COLLATE "C" NOT NULL,
        day bigint NOT NULL,
        net integer NOT NULL,
        entries integer NOT NULL,
        exits integer NOT NULL,
        late integer NOT NULL,
        PRIMARY KEY (tenant, space, day)
      );`,
  },
  {
    // Version 6, as in SQLite (its version 5 changed only its messages table). A corrected count
    // (clamped at zero, or from the last reset) folded every minute row since its origin: up to a day
    // of them per query with a reset, all of history without one. Hour rows and day rows that are whole
    // segments (lowest and highest running sum too, composed in order) let it fold days, then hours,
    // then minutes: a few dozen rows whatever the range.
    version: 6,
    name: '006_occupancy_hours',
    sql: () => `
      CREATE TABLE occupancy_hours (
        tenant text COLLATE "C" NOT NULL,
        space text COLLATE "C" NOT NULL,
        hour bigint NOT NULL,
        net integer NOT NULL,
        min_prefix integer NOT NULL,
        max_prefix integer NOT NULL,
        entries integer NOT NULL,
        exits integer NOT NULL,
        late integer NOT NULL,
        PRIMARY KEY (tenant, space, hour)
      );
      ${rollUp('occupancy_minutes', 'minute', 'occupancy_hours', 'hour', 3_600_000)}
      DELETE FROM occupancy_days;
      ALTER TABLE occupancy_days ADD COLUMN min_prefix integer NOT NULL DEFAULT 0,
        ADD COLUMN max_prefix integer NOT NULL DEFAULT 0;
      ${rollUp('occupancy_hours', 'hour', 'occupancy_days', 'day', 86_400_000)}`,
  },
];

/**
 * TimescaleDB is used when the server can load it: the extension is available and preloaded (it
 * cannot be created otherwise). Decided once, when the schema is first created, and kept.
 */
async function detectLayout(pool: Pool): Promise<TimeLayout> {
  const { rows } = await pool.query<{ available: boolean; preloaded: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
            current_setting('shared_preload_libraries') LIKE '%timescaledb%' AS preloaded`,
  );
  return rows[0]!.available && rows[0]!.preloaded ? 'timescaledb' : 'native';
}

/**
 * Applies pending migrations in one transaction under an advisory lock, so two processes starting
 * at once apply each migration exactly once: the second waits, then finds nothing to do. A database
 * newer than this code is refused rather than guessed at.
 */
export async function migrate(pool: Pool, migrations: readonly PgMigration[]): Promise<MigrationReport> {
  const detected = await detectLayout(pool);
  return lockedTransaction(pool, MIGRATION_LOCK, async (client) => {
    await client.query(`CREATE TABLE IF NOT EXISTS beacon_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = await client.query<{ version: number; name: string }>(
      'SELECT version, name FROM beacon_migrations ORDER BY version',
    );
    const latest = Math.max(0, ...migrations.map((m) => m.version));
    const current = Math.max(0, ...done.rows.map((r) => r.version));
    if (current > latest) {
      throw new Error(
        `database schema version ${current} is newer than this Beacon (${latest}); upgrade Beacon`,
      );
    }
    let layout = detected;
    if (done.rows.length > 0) {
      const saved = await client.query<{ value: TimeLayout }>(
        "SELECT value FROM beacon_settings WHERE name = 'time_layout'",
      );
      layout = saved.rows[0]?.value ?? 'native';
    } else if (layout === 'timescaledb') {
      await client.query('CREATE EXTENSION IF NOT EXISTS timescaledb');
    }
    const applied: string[] = [];
    const have = new Set(done.rows.map((r) => r.version));
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (have.has(migration.version)) continue;
      await client.query(migration.sql(layout));
      await client.query('INSERT INTO beacon_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.name);
    }
    return { applied, existing: done.rows.map((r) => r.name), layout };
  });
}
