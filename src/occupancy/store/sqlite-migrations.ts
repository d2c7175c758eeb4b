import type { Migration } from '../../sqlite/database.ts';
import { rollUp } from './roll-up-sql.ts';

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
];
