import type { PgMigration } from '../../store/postgres/migrations.ts';
import { timeTable } from '../../store/postgres/partitions.ts';
import { areaBackfill, rollUp } from './roll-up-sql.ts';

const deltasColumns = `
        tenant text COLLATE "C" NOT NULL,
        space text COLLATE "C" NOT NULL,
        ts bigint NOT NULL,
        key text COLLATE "C" NOT NULL,
        delta smallint NOT NULL CHECK (delta IN (1, -1)),
        late boolean NOT NULL,
        PRIMARY KEY (tenant, space, ts, key)`;

/** The occupancy wing's part of the PostgreSQL schema (version numbers are the store's). */
export const postgresMigrations: readonly PgMigration[] = [
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
      -- Partitioned by its time ts (epoch ms): daily partitions made on demand (DeltaPartitions), or a
      -- hypertable.
      ${timeTable(layout, 'occupancy_deltas', deltasColumns, 'ts', '86400000')}
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
  {
    // Version 12, as in SQLite: capacity and open hours per space, moves and their transfers,
    // headcount corrections with their audit trail, alerts and the outbox that notifies them.
    version: 12,
    name: '012_occupancy_operations',
    sql: () => `
      ALTER TABLE occupancy_spaces ADD COLUMN capacity integer, ADD COLUMN alert_after_minutes integer,
        ADD COLUMN open_hours json;
      CREATE TABLE occupancy_space_moves (
        tenant text COLLATE "C" NOT NULL,
        space text COLLATE "C" NOT NULL,
        at bigint NOT NULL,
        parent text COLLATE "C",
        created_at bigint NOT NULL,
        PRIMARY KEY (tenant, space, at)
      );
      CREATE INDEX occupancy_space_moves_parent ON occupancy_space_moves (tenant, parent);
      CREATE TABLE occupancy_transfers (
        tenant text COLLATE "C" NOT NULL,
        space text COLLATE "C" NOT NULL,
        ts bigint NOT NULL,
        source text COLLATE "C" NOT NULL,
        amount integer NOT NULL,
        PRIMARY KEY (tenant, space, ts, source)
      );
      CREATE INDEX occupancy_transfers_source ON occupancy_transfers (tenant, source, ts);
      CREATE TABLE occupancy_corrections (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        space text COLLATE "C" NOT NULL,
        at bigint NOT NULL,
        count integer NOT NULL,
        note text NOT NULL,
        created_at bigint NOT NULL,
        created_by text NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE UNIQUE INDEX occupancy_corrections_at ON occupancy_corrections (tenant, space, at);
      CREATE TABLE occupancy_audit (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        at bigint NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        space text COLLATE "C" NOT NULL,
        detail json NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE INDEX occupancy_audit_space ON occupancy_audit (tenant, space, id);
      CREATE TABLE occupancy_alerts (
        tenant text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        kind text NOT NULL,
        subject text COLLATE "C" NOT NULL,
        space text COLLATE "C",
        opened_at bigint NOT NULL,
        closed_at bigint,
        detail json NOT NULL,
        PRIMARY KEY (tenant, id)
      );
      CREATE UNIQUE INDEX occupancy_alerts_subject ON occupancy_alerts (tenant, kind, subject, opened_at);
      CREATE UNIQUE INDEX occupancy_alerts_open ON occupancy_alerts (tenant, kind, subject) WHERE closed_at IS NULL;
      CREATE TABLE occupancy_outbox (
        id text COLLATE "C" PRIMARY KEY,
        tenant text COLLATE "C" NOT NULL,
        event json NOT NULL,
        created_at bigint NOT NULL,
        attempts integer NOT NULL,
        next_attempt_at bigint,
        lease_until bigint,
        delivered_at bigint,
        last_error text
      );
      CREATE INDEX occupancy_outbox_due ON occupancy_outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
      CREATE INDEX occupancy_outbox_tenant ON occupancy_outbox (tenant, id);`,
  },
  {
    // Version 13, as in SQLite: events keep the spaces they entered and left (no delta rows), are
    // kept by (minute, sensor, ts, key), with per-sensor hourly counts and last events beside them;
    // rows gain their area, for time-weighted averages.
    version: 13,
    name: '013_occupancy_compact_events',
    sql: () => `
      ALTER TABLE occupancy_minutes ADD COLUMN area bigint NOT NULL DEFAULT 0;
      ALTER TABLE occupancy_hours ADD COLUMN area bigint NOT NULL DEFAULT 0;
      ALTER TABLE occupancy_days ADD COLUMN area bigint NOT NULL DEFAULT 0;
      ${areaBackfill}
      CREATE TABLE occupancy_events_v13 (
        tenant text COLLATE "C" NOT NULL,
        minute bigint NOT NULL,
        sensor text COLLATE "C" NOT NULL,
        ts bigint NOT NULL,
        key text COLLATE "C" NOT NULL,
        direction smallint NOT NULL CHECK (direction IN (1, -1)),
        received_at bigint NOT NULL,
        late boolean NOT NULL,
        placement text COLLATE "C",
        enters text,
        leaves text,
        PRIMARY KEY (tenant, minute, sensor, ts, key)
      );
      INSERT INTO occupancy_events_v13
      SELECT e.tenant, e.ts - ((e.ts % 60000) + 60000) % 60000, e.sensor, e.ts, e.key, e.direction,
             e.received_at, e.late, e.placement,
             (SELECT json_agg(d.space)::text FROM occupancy_deltas d
              WHERE d.tenant = e.tenant AND d.key = e.key AND d.delta = 1),
             (SELECT json_agg(d.space)::text FROM occupancy_deltas d
              WHERE d.tenant = e.tenant AND d.key = e.key AND d.delta = -1)
      FROM occupancy_events e;
      DROP TABLE occupancy_events;
      DROP TABLE occupancy_deltas;
      ALTER TABLE occupancy_events_v13 RENAME TO occupancy_events;
      ALTER INDEX occupancy_events_v13_pkey RENAME TO occupancy_events_pkey;
      CREATE UNIQUE INDEX occupancy_events_key ON occupancy_events (tenant, key) WHERE substr(key, 1, 4) <> 'seq:';
      CREATE INDEX occupancy_events_unplaced ON occupancy_events (tenant, ts, key) WHERE placement IS NULL;
      CREATE INDEX occupancy_events_unplaced_sensor ON occupancy_events (tenant, sensor, ts) WHERE placement IS NULL;
      CREATE TABLE occupancy_sensor_hours (
        tenant text COLLATE "C" NOT NULL,
        hour bigint NOT NULL,
        sensor text COLLATE "C" NOT NULL,
        placement text COLLATE "C" NOT NULL,
        up integer NOT NULL,
        down integer NOT NULL,
        PRIMARY KEY (tenant, hour, sensor, placement)
      );
      CREATE INDEX occupancy_sensor_hours_sensor ON occupancy_sensor_hours (tenant, sensor, hour);
      INSERT INTO occupancy_sensor_hours
      SELECT tenant, ts - ((ts % 3600000) + 3600000) % 3600000, sensor, coalesce(placement, ''),
             count(*) FILTER (WHERE direction = 1), count(*) FILTER (WHERE direction = -1)
      FROM occupancy_events GROUP BY 1, 2, 3, 4;
      CREATE TABLE occupancy_sensor_last (
        tenant text COLLATE "C" NOT NULL,
        sensor text COLLATE "C" NOT NULL,
        ts bigint NOT NULL,
        received_at bigint NOT NULL,
        PRIMARY KEY (tenant, sensor)
      );
      INSERT INTO occupancy_sensor_last
      SELECT tenant, sensor, max(ts), max(received_at) FROM occupancy_events GROUP BY 1, 2;`,
  },
  {
    // Version 20, as in SQLite: each tenant's model version, raised by every change to its spaces,
    // moves, doorways, sensors or placements, so a sink keeps what it read of them across batches
    // while it stays. And, on PostgreSQL only, the rows every sink batch rewrites in place (a
    // sensor's hour and its last event, a space's hour and day) leave room on their page, so an
    // update can be HOT (no new index entries, the old version pruned from the page): at fill factor
    // 100, 94% of the sensor-hour updates were not. Minute rows are left full: most are written once
    // or twice and they are the largest of these tables. New pages only; existing rows move as they
    // are rewritten.
    version: 20,
    name: '020_occupancy_sink',
    sql: () => `
      CREATE TABLE occupancy_model (
        tenant text COLLATE "C" PRIMARY KEY,
        version bigint NOT NULL
      ) WITH (fillfactor = 50);
      ALTER TABLE occupancy_sensor_hours SET (fillfactor = 70);
      ALTER TABLE occupancy_sensor_last SET (fillfactor = 50);
      ALTER TABLE occupancy_hours SET (fillfactor = 70);
      ALTER TABLE occupancy_days SET (fillfactor = 70);`,
  },
];
