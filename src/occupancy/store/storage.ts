import type { TableUse } from '../../store/storage.ts';

/** Occupancy's tables in a storage report, on either backend. */
export const occupancyStorage: readonly TableUse[] = [
  {
    table: 'occupancy_events',
    stream: 'sensor-events',
    tier: 'hot',
    label: 'sensor events, one row each',
    records: 'SELECT COUNT(*) AS n FROM occupancy_events',
  },
  {
    table: 'occupancy_sensor_hours',
    stream: 'sensor-events',
    tier: 'derived',
    label: 'crossings per sensor and hour',
  },
  {
    table: 'occupancy_sensor_last',
    stream: 'sensor-events',
    tier: 'derived',
    label: 'last event per sensor',
  },
  { table: 'occupancy_minutes', stream: 'sensor-events', tier: 'derived', label: 'minute summaries' },
  { table: 'occupancy_hours', stream: 'sensor-events', tier: 'derived', label: 'hour summaries' },
  { table: 'occupancy_days', stream: 'sensor-events', tier: 'derived', label: 'day summaries' },
];
