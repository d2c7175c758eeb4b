import type { TableUse } from '../../store/storage.ts';

/** Web analytics' tables in a storage report, on either backend. */
export const analyticsStorage: readonly TableUse[] = [
  {
    table: 'analytics_events',
    stream: 'pageviews',
    tier: 'hot',
    label: 'page views and events, one row each',
    records: 'SELECT COUNT(*) AS n FROM analytics_events',
  },
  { table: 'analytics_event_keys', stream: 'pageviews', tier: 'derived', label: 'event keys' },
  { table: 'analytics_sessions', stream: 'pageviews', tier: 'derived', label: 'sessions' },
  { table: 'analytics_seen', stream: 'pageviews', tier: 'derived', label: 'visitor marks per bucket' },
  { table: 'analytics_rollups', stream: 'pageviews', tier: 'derived', label: 'hourly and daily rollups' },
  { table: 'analytics_sites', stream: null, tier: 'derived', label: 'sites' },
];
