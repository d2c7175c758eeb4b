import type { Migration } from '../../sqlite/database.ts';
import { areaBackfill, rollUp } from './roll-up-sql.ts';

/** The occupancy wing's part of the SQLite schema (version numbers are the store's). */
export const sqliteMigrations: readonly Migration[] = [
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
  {
    // What operators of a building need around the counts: a capacity and open hours per space,
    // re-parenting from a date (moves, and the transfers of the people inside a moved space),
    // headcount corrections with an audit trail, and alerts with the outbox that notifies them.
    version: 12,
    name: '012_occupancy_operations',
    sql: `
      ALTER TABLE occupancy_spaces ADD COLUMN capacity INTEGER;
      ALTER TABLE occupancy_spaces ADD COLUMN alert_after_minutes INTEGER;
      ALTER TABLE occupancy_spaces ADD COLUMN open_hours TEXT;
      -- From at on, space sits inside parent (NULL: at the top).
      CREATE TABLE occupancy_space_moves (
        tenant TEXT NOT NULL,
        space TEXT NOT NULL,
        at INTEGER NOT NULL,
        parent TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, space, at)
      ) WITHOUT ROWID;
      CREATE INDEX occupancy_space_moves_parent ON occupancy_space_moves (tenant, parent);
      -- The people inside a moved space (source) leaving its old ancestors and entering its new
      -- ones at the move: counted like deltas, kept apart because their size is any whole number.
      CREATE TABLE occupancy_transfers (
        tenant TEXT NOT NULL,
        space TEXT NOT NULL,
        ts INTEGER NOT NULL,
        source TEXT NOT NULL,
        amount INTEGER NOT NULL,
        PRIMARY KEY (tenant, space, ts, source)
      ) WITHOUT ROWID;
      CREATE INDEX occupancy_transfers_source ON occupancy_transfers (tenant, source, ts);
      -- Headcounts: the corrected count of space at at was count. One per space and instant.
      CREATE TABLE occupancy_corrections (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        space TEXT NOT NULL,
        at INTEGER NOT NULL,
        count INTEGER NOT NULL,
        note TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX occupancy_corrections_at ON occupancy_corrections (tenant, space, at);
      -- Who changed what, and when (ids are UUIDv7: they rise with time).
      CREATE TABLE occupancy_audit (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        space TEXT NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      CREATE INDEX occupancy_audit_space ON occupancy_audit (tenant, space, id);
      -- Alerts: at most one open per kind and subject; a drift notice opens and closes at once.
      CREATE TABLE occupancy_alerts (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        space TEXT,
        opened_at INTEGER NOT NULL,
        closed_at INTEGER,
        detail TEXT NOT NULL,
        PRIMARY KEY (tenant, id)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX occupancy_alerts_subject ON occupancy_alerts (tenant, kind, subject, opened_at);
      CREATE UNIQUE INDEX occupancy_alerts_open ON occupancy_alerts (tenant, kind, subject) WHERE closed_at IS NULL;
      -- Notifications to deliver, written in the transaction that opens or closes their alert.
      CREATE TABLE occupancy_outbox (
        id TEXT NOT NULL PRIMARY KEY,
        tenant TEXT NOT NULL,
        event TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER,
        lease_until INTEGER,
        delivered_at INTEGER,
        last_error TEXT
      ) WITHOUT ROWID;
      CREATE INDEX occupancy_outbox_due ON occupancy_outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
      CREATE INDEX occupancy_outbox_tenant ON occupancy_outbox (tenant, id);
    `,
  },
  {
    // Two changes to the rows every event writes, which halve the bytes per event and most of the
    // sink's work. (1) Events keep the spaces they entered and left (the roll-up) themselves, instead
    // of one delta row per event and space with an index on its key: a space's deltas in a minute
    // are that minute's events naming it. (2) Events are kept by (minute, sensor, ts, key): a sink
    // batch writes a few pages at the end instead of one page per sensor of an index by sensor, and a
    // sensor's events are still found by minute. Per-sensor hourly counts (for recounts and drift)
    // and each sensor's last event are kept beside them. Rows also gain their area (the integral of
    // the running sum over the period), for time-weighted averages.
    version: 13,
    name: '013_occupancy_compact_events',
    sql: `
      ALTER TABLE occupancy_minutes ADD COLUMN area INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE occupancy_hours ADD COLUMN area INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE occupancy_days ADD COLUMN area INTEGER NOT NULL DEFAULT 0;
      ${areaBackfill}
      CREATE TABLE occupancy_events_v13 (
        tenant TEXT NOT NULL,
        minute INTEGER NOT NULL,
        sensor TEXT NOT NULL,
        ts INTEGER NOT NULL,
        key TEXT NOT NULL,
        direction INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        late INTEGER NOT NULL,
        placement TEXT,
        enters TEXT,
        leaves TEXT,
        PRIMARY KEY (tenant, minute, sensor, ts, key)
      ) WITHOUT ROWID;
      INSERT INTO occupancy_events_v13
      SELECT e.tenant, e.ts - ((e.ts % 60000) + 60000) % 60000, e.sensor, e.ts, e.key, e.direction,
             e.received_at, e.late, e.placement,
             (SELECT json_group_array(d.space) FROM occupancy_deltas d
              WHERE d.tenant = e.tenant AND d.key = e.key AND d.delta = 1 HAVING COUNT(*) > 0),
             (SELECT json_group_array(d.space) FROM occupancy_deltas d
              WHERE d.tenant = e.tenant AND d.key = e.key AND d.delta = -1 HAVING COUNT(*) > 0)
      FROM occupancy_events e;
      DROP TABLE occupancy_events;
      DROP TABLE occupancy_deltas;
      ALTER TABLE occupancy_events_v13 RENAME TO occupancy_events;
      -- A key that does not start with seq: does not hold its sensor and time, so a retry may carry
      -- another time: such keys are kept unique on their own.
      CREATE UNIQUE INDEX occupancy_events_key ON occupancy_events (tenant, key) WHERE substr(key, 1, 4) <> 'seq:';
      CREATE INDEX occupancy_events_unplaced ON occupancy_events (tenant, ts, key) WHERE placement IS NULL;
      CREATE INDEX occupancy_events_unplaced_sensor ON occupancy_events (tenant, sensor, ts) WHERE placement IS NULL;
      -- Each sensor's events per UTC hour and placement ('' while unplaced), by direction.
      CREATE TABLE occupancy_sensor_hours (
        tenant TEXT NOT NULL,
        hour INTEGER NOT NULL,
        sensor TEXT NOT NULL,
        placement TEXT NOT NULL,
        up INTEGER NOT NULL,
        down INTEGER NOT NULL,
        PRIMARY KEY (tenant, hour, sensor, placement)
      ) WITHOUT ROWID;
      CREATE INDEX occupancy_sensor_hours_sensor ON occupancy_sensor_hours (tenant, sensor, hour);
      INSERT INTO occupancy_sensor_hours
      SELECT tenant, ts - ((ts % 3600000) + 3600000) % 3600000, sensor, COALESCE(placement, ''),
             SUM(direction = 1), SUM(direction = -1)
      FROM occupancy_events GROUP BY 1, 2, 3, 4;
      -- Each sensor's latest event time and latest receipt.
      CREATE TABLE occupancy_sensor_last (
        tenant TEXT NOT NULL,
        sensor TEXT NOT NULL,
        ts INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, sensor)
      ) WITHOUT ROWID;
      INSERT INTO occupancy_sensor_last
      SELECT tenant, sensor, MAX(ts), MAX(received_at) FROM occupancy_events GROUP BY 1, 2;
    `,
  },
  {
    // Each tenant's model version, raised by every change to its spaces, moves, doorways, sensors or
    // placements, so a sink keeps what it read of them across batches while it stays.
    version: 20,
    name: '020_occupancy_sink',
    sql: `
      CREATE TABLE occupancy_model (
        tenant TEXT NOT NULL PRIMARY KEY,
        version INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];
