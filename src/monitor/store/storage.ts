import type { TableUse } from '../../store/storage.ts';

/** The monitor's tables in a storage report, on either backend. */
export const monitorStorage: readonly TableUse[] = [
  {
    table: 'monitor_hot_checks',
    stream: 'checks',
    tier: 'hot',
    label: 'checks not yet in blocks',
    records: 'SELECT COUNT(*) AS n FROM monitor_hot_checks',
    // Several checks a row (postgres-hot-checks.ts).
    postgresRecords: 'SELECT SUM(cardinality(at)) AS n FROM monitor_hot_checks',
  },
  {
    table: 'monitor_check_blocks',
    stream: 'checks',
    tier: 'compacted',
    label: 'checks in blocks',
    records: 'SELECT SUM(checks) AS n FROM monitor_check_blocks',
  },
  // SQLite only: what a block's row leaves over, in pieces that pack its pages.
  {
    table: 'monitor_check_block_tails',
    stream: 'checks',
    tier: 'compacted',
    label: 'checks in blocks: the tails of their data',
  },
  {
    table: 'monitor_checks',
    stream: 'checks',
    tier: 'hot',
    label: 'checks stored before blocks existed',
    records: 'SELECT COUNT(*) AS n FROM monitor_checks',
  },
  { table: 'monitor_series', stream: 'checks', tier: 'derived', label: 'series (target and region)' },
  { table: 'monitor_rollups', stream: 'checks', tier: 'derived', label: 'hour and day rollups' },
  { table: 'monitor_states', stream: 'checks', tier: 'derived', label: 'incident states' },
  { table: 'monitor_incidents', stream: 'checks', tier: 'derived', label: 'incidents' },
  { table: 'monitor_targets', stream: null, tier: 'derived', label: 'targets' },
  {
    table: 'monitor_alert_states',
    stream: 'checks',
    tier: 'derived',
    label: 'what each alert rule last told',
  },
  { table: 'monitor_cert_warnings', stream: 'checks', tier: 'derived', label: 'certificate warnings told' },
  { table: 'monitor_pushes', stream: null, tier: 'derived', label: 'the last push of each heartbeat target' },
  { table: 'monitor_alert_rules', stream: null, tier: 'derived', label: 'alert rules' },
  { table: 'monitor_maintenance', stream: null, tier: 'derived', label: 'maintenance windows' },
  { table: 'monitor_status_pages', stream: null, tier: 'derived', label: 'status pages' },
  {
    table: 'monitor_status_updates',
    stream: null,
    tier: 'derived',
    label: 'incident updates on status pages',
  },
];
