import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Site } from '../src/analytics/model.ts';
import type { CollectedEvent } from '../src/analytics/event-rules.ts';
import { projectSiteEvents } from '../src/analytics/projection.ts';
import { toLocal } from '../src/analytics/time-zone.ts';
import { postgresStore, type BeaconPostgresStore } from '../src/roles/store-postgres.ts';
import { freshDatabase, sqlRows, type TestDatabase } from './helpers/postgres.ts';

const DAY = 86_400_000;

async function database(): Promise<TestDatabase> {
  const db = await freshDatabase();
  return db;
}

const site: Site = {
  id: 'st_pg',
  tenant: 't1',
  domain: 'pg.example',
  allowedDomains: [],
  timezone: 'Pacific/Kiritimati', // UTC+14: local days run well ahead of UTC's
  respectDnt: false,
  saltRotation: 'daily',
  currency: 'USD',
  createdAt: 0,
};

const events = (n: number, at: number, prefix = 'k'): CollectedEvent[] =>
  Array.from({ length: n }, (_, i): CollectedEvent => ({
    key: `${prefix}${i}`,
    ts: at + i * 1000,
    visitor: `v${i % 7}`,
    name: i % 5 === 0 ? 'signup' : 'pageview',
    url: `https://pg.example/p${i % 3}`,
    referrer: '',
    userAgent: '',
    props: i % 5 === 0 ? { plan: 'pro' } : {},
  }));

async function openStore(
  url: string,
  options: { retentionDays?: number } = {},
): Promise<BeaconPostgresStore> {
  const store = postgresStore({ url, maintenanceIntervalMs: 0, ...options });
  await store.open();
  return store;
}

async function setUp(store: BeaconPostgresStore): Promise<void> {
  await store.tenants.ensure({ id: 't1', name: 'T1', createdAt: 0 });
  await store.transaction((tx) => tx.analytics.createSite(site));
}

async function pageviewTotal(store: BeaconPostgresStore, from: number, to: number): Promise<number[]> {
  const rows = await store.analytics.sumRollups({ tenant: 't1', site: 'st_pg', grain: 'day', from, to });
  return [rows[0]?.counters.pageviews ?? 0, rows[0]?.counters.events ?? 0, rows[0]?.counters.visitors ?? 0];
}

const partitionsOf = async (url: string, table: string) =>
  (
    await sqlRows<{ name: string }>(
      url,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = '${table}'::regclass ORDER BY 1`,
    )
  ).map((r) => r.name);

const localDayName = (table: string, localMs: number) =>
  `${table}_p${new Date(Math.floor(localMs / DAY) * DAY).toISOString().slice(0, 10).replaceAll('-', '')}`;

describe('PostgreSQL analytics store', () => {
  test('two stores projecting the same events at once count each event once: the key claim decides', async () => {
    const db = await database();
    const a = await openStore(db.url);
    const b = await openStore(db.url);
    try {
      await setUp(a);
      const now = Date.now();
      const batch = events(40, now - 3_600_000);
      let releaseA!: () => void;
      const holdA = new Promise<void>((resolve) => (releaseA = resolve));
      let aProjected!: () => void;
      const aDone = new Promise<void>((resolve) => (aProjected = resolve));
      // A projects and holds its transaction open; B starts the same batch meanwhile and must wait
      // for A's claims, then find every key taken.
      const first = a.transaction(async (tx) => {
        const n = await projectSiteEvents(tx.analytics, site, batch);
        aProjected();
        await holdA;
        return n;
      });
      await aDone;
      let bFinished = false;
      const second = b
        .transaction((tx) => projectSiteEvents(tx.analytics, site, batch))
        .finally(() => (bFinished = true));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(bFinished, false, 'B waits on the keys A claimed');
      releaseA();
      assert.equal(await first, 40);
      assert.equal(await second, 0);
      const day = Math.floor(toLocal(now - 3_600_000, site.timezone) / DAY) * DAY;
      assert.deepEqual(await pageviewTotal(a, day - DAY, day + 2 * DAY), [32, 8, 7]);
      assert.equal(await a.analytics.countEvents('t1', 'st_pg'), 40);

      // A rolled-back projection leaves its claims behind nowhere: the events are new to the next one.
      await assert.rejects(
        b.transaction(async (tx) => {
          await projectSiteEvents(tx.analytics, site, events(3, now, 'rb'));
          throw new Error('sink crashed');
        }),
        /sink crashed/,
      );
      // Keys asked about but never inserted are released at commit.
      await b.transaction(async (tx) => {
        assert.deepEqual([...(await tx.analytics.existingKeys('t1', ['k1', 'unused']))], ['k1']);
      });
      assert.equal(
        await b.transaction((tx) => projectSiteEvents(tx.analytics, site, events(3, now, 'rb'))),
        3,
      );
      assert.equal(
        await b.transaction((tx) =>
          projectSiteEvents(tx.analytics, site, [{ ...events(1, now, 'x')[0]!, key: 'unused' }]),
        ),
        1,
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('events and seen marks live in local-day partitions, made on demand; retention drops them with their keys', async () => {
    const db = await database();
    const now = Date.now();
    const store = await openStore(db.url);
    const old = now - 10 * DAY;
    const recent = now - 3 * DAY;
    const oldLocal = toLocal(old, site.timezone);
    try {
      await setUp(store);
      assert.equal(
        await store.transaction((tx) => projectSiteEvents(tx.analytics, site, events(5, old, 'old'))),
        5,
      );
      assert.equal(
        await store.transaction((tx) => projectSiteEvents(tx.analytics, site, events(5, recent, 'new'))),
        5,
      );
      for (const table of ['analytics_events', 'analytics_seen']) {
        const names = await partitionsOf(db.url, table);
        assert.ok(names.includes(localDayName(table, oldLocal)), `${table}: ${names.join(' ')}`);
        // Ready ahead for today in every zone: UTC's yesterday to a week on.
        assert.ok(names.includes(localDayName(table, now - DAY)));
        assert.ok(names.includes(localDayName(table, now + 7 * DAY)));
      }
    } finally {
      await store.close();
    }

    const retaining = await openStore(db.url, { retentionDays: 7 });
    try {
      for (const table of ['analytics_events', 'analytics_seen']) {
        assert.ok(!(await partitionsOf(db.url, table)).includes(localDayName(table, oldLocal)));
      }
      assert.equal(await retaining.analytics.countEvents('t1', 'st_pg'), 5);
      // Rollups outlive the raw events: the old day's figures are still there.
      const oldDay = Math.floor(oldLocal / DAY) * DAY;
      assert.deepEqual(await pageviewTotal(retaining, oldDay, oldDay + DAY), [4, 1, 5]);
      // Inside retention a replay is still a duplicate.
      assert.equal(
        await retaining.transaction((tx) => projectSiteEvents(tx.analytics, site, events(5, recent, 'new'))),
        0,
      );
      const [keys] = await sqlRows<{ n: string }>(db.url, 'SELECT count(*) AS n FROM analytics_event_keys');
      assert.equal(Number(keys!.n), 5, 'the dropped events took their keys with them');
      const report = await retaining.maintain(now + 7 * DAY);
      assert.ok(
        report.wings.analytics!.dropped.includes(
          localDayName('analytics_events', toLocal(recent, site.timezone)),
        ),
      );
      assert.equal(report.wings.analytics!.keysDeleted, 5);
      assert.equal(await retaining.analytics.countEvents('t1', 'st_pg'), 0);
    } finally {
      await retaining.close();
    }
  });
});
