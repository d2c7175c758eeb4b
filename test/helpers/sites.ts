import type { Site } from '../../src/analytics/model.ts';

/**
 * A site with every field at a plain value: st_1 of tenant t1 on a.example, also sending from
 * b.example, counted in UTC, ignoring DNT, daily salts, revenue in USD; `patch` overrides.
 */
export function sampleSite(patch: Partial<Site> = {}): Site {
  return {
    id: 'st_1',
    tenant: 't1',
    domain: 'a.example',
    allowedDomains: ['b.example'],
    timezone: 'UTC',
    respectDnt: false,
    saltRotation: 'daily',
    currency: 'USD',
    createdAt: 1,
    ...patch,
  };
}
