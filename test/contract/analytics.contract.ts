import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  zeroCounters,
  type Counters,
  type EventRow,
  type SessionRow,
  type Site,
} from '../../src/analytics/model.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import type { StoreContractTarget } from './store.contract.ts';

const DAY = 86_400_000;
const D0 = Date.UTC(2026, 10, 2); // a Monday
const site: Site = {
  id: 'st_c',
  tenant: 'default',
  domain: 'c.example',
  allowedDomains: ['cdn.c.example'],
  timezone: 'Europe/Berlin',
  respectDnt: true,
  saltRotation: 'daily',
  currency: 'USD',
  createdAt: 1,
};
const counters = (patch: Partial<Counters>): Counters => ({ ...zeroCounters(), ...patch });
const session = (
  id: string,
  visitor: string,
  startedLocal: number,
  patch: Partial<SessionRow> = {},
): SessionRow => ({
  tenant: 'default',
  site: 'st_c',
  id,
  visitor,
  startedAt: startedLocal,
  startedLocal,
  lastAt: startedLocal + 60_000,
  pageviews: 2,
  events: 0,
  entryPage: '/',
  exitPage: '/b',
  source: 'Google',
  referrer: 'google.com/',
  utmSource: '',
  utmMedium: '',
  utmCampaign: '',
  device: 'desktop',
  browser: 'Chrome',
  os: 'Linux',
  sample: 0,
  steps: [],
  ...patch,
});
const event = (
  key: string,
  s: SessionRow,
  local: number,
  name = 'pageview',
  page = '/',
  props = {},
): EventRow => ({
  tenant: 'default',
  site: 'st_c',
  key,
  ts: local,
  local,
  session: s.id,
  visitor: s.visitor,
  name,
  page,
  props,
});

/**
 * What every store backend must do for analytics, with the same answers: run once per backend
 * (analytics-store.test.ts on SQLite, analytics-store-postgres.test.ts on PostgreSQL).
 */
export function runAnalyticsContract(target: StoreContractTarget): void {
  const it = (name: string, fn: (store: BeaconStore) => Promise<void>): void =>
    void test(name, async () => {
      const store = await target.create();
      try {
        await store.tenants.ensure({ id: 'default', name: 'Default', createdAt: 0 });
        await store.transaction((tx) => tx.analytics.createSite(site));
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`Analytics store contract: ${target.name}`, () => {
    it('sites round-trip and are listed per tenant; the secret is created once', async (store) => {
      assert.deepEqual(await store.analytics.site('st_c'), site);
      assert.deepEqual(await store.analytics.sites('default'), [site]);
      assert.deepEqual(await store.analytics.sites('other'), []);
      const first = await store.transaction((tx) => tx.analytics.secret('one'));
      assert.equal(await store.transaction((tx) => tx.analytics.secret('two')), first);
    });

    it('seen marks report only new (cell, visitor) pairs; rollups add up', async (store) => {
      const key = { grain: 'day' as const, bucket: D0, dim: 'visit:source', value: 'Google' };
      const fresh = await store.transaction((tx) =>
        tx.analytics.markSeen('default', 'st_c', [
          { ...key, visitor: 'a' },
          { ...key, visitor: 'b' },
        ]),
      );
      assert.equal(fresh.length, 2);
      const again = await store.transaction((tx) =>
        tx.analytics.markSeen('default', 'st_c', [
          { ...key, visitor: 'a' },
          { ...key, visitor: 'c' },
        ]),
      );
      assert.deepEqual(
        again.map((k) => k.visitor),
        ['c'],
      );
      await store.transaction((tx) => tx.analytics.pruneSeen('default', 'st_c', D0 + 1));
      const afterPrune = await store.transaction((tx) =>
        tx.analytics.markSeen('default', 'st_c', [{ ...key, visitor: 'a' }]),
      );
      assert.equal(afterPrune.length, 1, 'a pruned mark is forgotten');
      for (const day of [0, 1, 7, 40]) {
        await store.transaction((tx) =>
          tx.analytics.addRollups('default', 'st_c', [
            {
              grain: 'day',
              bucket: D0 + day * DAY,
              dim: '',
              value: '',
              counters: counters({ visitors: 1, pageviews: 2 }),
            },
            {
              grain: 'day',
              bucket: D0 + day * DAY,
              dim: '',
              value: '',
              counters: counters({ pageviews: 1, visits: 1 }),
            },
          ]),
        );
      }
      const weeks = await store.analytics.sumRollups({
        tenant: 'default',
        site: 'st_c',
        grain: 'day',
        from: D0,
        to: D0 + 60 * DAY,
        interval: 'week',
      });
      assert.deepEqual(
        weeks.map((r) => [r.bucket, r.counters.pageviews, r.counters.visitors]),
        [
          [D0, 6, 2],
          [D0 + 7 * DAY, 3, 1],
          [D0 + 35 * DAY, 3, 1],
        ],
      );
      const months = await store.analytics.sumRollups({
        tenant: 'default',
        site: 'st_c',
        grain: 'day',
        from: D0,
        to: D0 + 60 * DAY,
        interval: 'month',
      });
      assert.deepEqual(
        months.map((r) => [new Date(r.bucket!).toISOString().slice(0, 10), r.counters.pageviews]),
        [
          ['2026-11-01', 9],
          ['2026-12-01', 3],
        ],
      );
    });

    it('raw aggregation filters and groups events with their sessions, and clearRange removes a range', async (store) => {
      const s1 = session('s1', 'a', D0 + 1000);
      const s2 = session('s2', 'b', D0 + 2000, { source: 'Direct / None', pageviews: 1, lastAt: D0 + 2000 });
      await store.transaction(async (tx) => {
        await tx.analytics.upsertSessions([s1, s2]);
        await tx.analytics.insertEvents([
          event('k1', s1, D0 + 1000),
          event('k2', s1, D0 + 61_000, 'pageview', '/b'),
          event('k3', s1, D0 + 62_000, 'signup', '/b', { plan: 'pro' }),
          event('k4', s2, D0 + 2000),
        ]);
      });
      assert.deepEqual(
        [
          ...(await store.transaction((tx) => tx.analytics.existingKeys('default', ['k1', 'k9', 'k4']))),
        ].sort(),
        ['k1', 'k4'],
      );
      const bySource = await store.analytics.aggregateRaw({
        tenant: 'default',
        site: 'st_c',
        from: D0,
        to: D0 + DAY,
        dims: ['visit:source'],
        filters: [{ op: 'is', dim: 'event:page', values: ['/'] }],
      });
      const rows = new Map(bySource.map((r) => [r.values[0], r.counters]));
      assert.deepEqual(
        rows.get('Google'),
        counters({ visitors: 1, visits: 1, pageviews: 1, duration: 60_000 }),
      );
      assert.deepEqual(
        rows.get('Direct / None'),
        counters({ visitors: 1, visits: 1, pageviews: 1, bounces: 1 }),
      );
      const plans = await store.analytics.aggregateRaw({
        tenant: 'default',
        site: 'st_c',
        from: D0,
        to: D0 + DAY,
        dims: ['event:props:plan'],
        filters: [{ op: 'contains', dim: 'event:name', values: ['sign'] }],
      });
      assert.deepEqual(
        plans.map((r) => [r.values[0], r.counters.events]),
        [['pro', 1]],
      );
      const latest = await store.analytics.latestSessions('default', 'st_c', ['a', 'nobody']);
      assert.deepEqual(latest, [s1]);
      await store.transaction((tx) => tx.analytics.clearRange('default', 'st_c', D0, D0 + DAY));
      assert.equal(await store.analytics.countEvents('default', 'st_c'), 0);
      assert.deepEqual(await store.analytics.latestSessions('default', 'st_c', ['a']), []);
    });

    it('a site is updated in place, and deleted with everything projected for it, only by its tenant', async (store) => {
      await store.tenants.ensure({ id: 'other', name: 'Other', createdAt: 0 });
      const changed: Site = {
        ...site,
        domain: 'd.example',
        allowedDomains: [],
        timezone: 'America/New_York',
        respectDnt: false,
        saltRotation: 'daily',
        currency: 'USD',
      };
      await store.transaction((tx) => tx.analytics.updateSite(changed));
      assert.deepEqual(await store.analytics.site('st_c'), changed);
      // Another tenant's update and delete change nothing.
      await store.transaction((tx) =>
        tx.analytics.updateSite({ ...changed, tenant: 'other', domain: 'x.example' }),
      );
      assert.equal(await store.transaction((tx) => tx.analytics.deleteSite('other', 'st_c')), false);
      assert.deepEqual(await store.analytics.site('st_c'), changed);

      // A second site of the tenant keeps its data when the first goes.
      const kept: Site = { ...site, id: 'st_k', domain: 'k.example', createdAt: 2 };
      const s1 = session('s1', 'a', D0 + 1000);
      const k1 = { ...session('s1', 'a', D0 + 1000), site: 'st_k' };
      await store.transaction(async (tx) => {
        await tx.analytics.createSite(kept);
        await tx.analytics.upsertSessions([s1, k1]);
        await tx.analytics.insertEvents([
          event('e1', s1, D0 + 1000),
          { ...event('e2', k1, D0 + 1000), site: 'st_k' },
        ]);
        for (const id of ['st_c', 'st_k']) {
          await tx.analytics.markSeen('default', id, [
            { grain: 'day', bucket: D0, dim: '', value: '', visitor: 'a' },
          ]);
          await tx.analytics.addRollups('default', id, [
            {
              grain: 'day',
              bucket: D0,
              dim: '',
              value: '',
              counters: counters({ visitors: 1, pageviews: 1 }),
            },
          ]);
        }
      });
      const totals = (id: string) =>
        store.analytics.sumRollups({ tenant: 'default', site: id, grain: 'day', from: D0, to: D0 + DAY });
      assert.equal(await store.transaction((tx) => tx.analytics.deleteSite('default', 'st_c')), true);
      assert.equal(await store.analytics.site('st_c'), undefined);
      assert.deepEqual(
        (await store.analytics.sites('default')).map((x) => x.id),
        ['st_k'],
      );
      assert.equal(await store.analytics.countEvents('default', 'st_c'), 0);
      assert.deepEqual(await store.analytics.latestSessions('default', 'st_c', ['a']), []);
      assert.deepEqual(await totals('st_c'), []);
      // Its event keys are gone too: the same key may be projected again (a site is never recreated
      // with the same id, but keys are per tenant).
      assert.deepEqual(
        [...(await store.transaction((tx) => tx.analytics.existingKeys('default', ['e1'])))],
        [],
      );
      // Its seen marks are gone: the same (cell, visitor) is new again.
      const seen = await store.transaction((tx) =>
        tx.analytics.markSeen('default', 'st_c', [
          { grain: 'day', bucket: D0, dim: '', value: '', visitor: 'a' },
        ]),
      );
      assert.equal(seen.length, 1);
      assert.equal(await store.analytics.countEvents('default', 'st_k'), 1);
      assert.equal((await totals('st_k'))[0]?.counters.pageviews, 1);
      assert.equal(await store.transaction((tx) => tx.analytics.deleteSite('default', 'st_c')), false);
    });

    it('OAuth clients are listed per tenant, and revoked once, only by their tenant', async (store) => {
      await store.tenants.ensure({ id: 'other', name: 'Other', createdAt: 0 });
      const client = (id: string, tenant: string, createdAt: number) => ({
        id,
        tenant,
        name: id,
        secretHash: 'h',
        createdAt,
        revokedAt: null,
      });
      await store.transaction(async (tx) => {
        await tx.analytics.createOAuthClient(client('c2', 'default', 20));
        await tx.analytics.createOAuthClient(client('c1', 'default', 10));
        await tx.analytics.createOAuthClient(client('c3', 'other', 5));
      });
      assert.deepEqual(
        (await store.analytics.oauthClients('default')).map((c) => c.id),
        ['c1', 'c2'],
      );
      assert.equal(
        await store.transaction((tx) => tx.analytics.revokeOAuthClient('other', 'c1', 100)),
        false,
      );
      assert.equal((await store.analytics.oauthClient('c1'))?.revokedAt, null);
      assert.equal(
        await store.transaction((tx) => tx.analytics.revokeOAuthClient('default', 'c1', 100)),
        true,
      );
      assert.equal(
        await store.transaction((tx) => tx.analytics.revokeOAuthClient('default', 'c1', 200)),
        true,
      );
      assert.equal(
        (await store.analytics.oauthClient('c1'))?.revokedAt,
        100,
        'the first revocation time stays',
      );
      assert.deepEqual(
        (await store.analytics.oauthClients('default')).map((c) => [c.id, c.revokedAt]),
        [
          ['c1', 100],
          ['c2', null],
        ],
      );
      assert.equal(
        await store.transaction((tx) => tx.analytics.revokeOAuthClient('default', 'nope', 1)),
        false,
      );
    });
  });
}
