import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatsQuery, StatsResult } from '../src/analytics/query.ts';
import { CHROME_UA, settledZone } from './helpers/analytics.ts';
import { freshDatabase, sqlRows } from './helpers/postgres.ts';
import { spawnBeacon } from './helpers/process.ts';
import { eventually } from './helpers/server.ts';

const TOKEN = 'analytics-pg-e2e-admin-token-0123456789';
const json = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const MINUTE = 60_000;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Beacon = Awaited<ReturnType<typeof spawnBeacon>>;

const FIREFOX_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0';
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

/**
 * Each visitor (a user agent) sends its events in one request, with ages: the server dates them
 * receipt minus age, so visits, bounces and durations come out the same on both servers.
 */
function visitors(): { ua: string; events: Record<string, unknown>[] }[] {
  const out: { ua: string; events: Record<string, unknown>[] }[] = [];
  const agents = [CHROME_UA, FIREFOX_UA, IPHONE_UA];
  for (let v = 0; v < 12; v++) {
    // Same browser, another version: another visitor.
    const ua = agents[v % 3]!.replace(
      /(Chrome|Firefox|Version)\/(\d+)/,
      (_, b: string, n: string) => `${b}/${Number(n) + v}`,
    );
    const events: Record<string, unknown>[] = [];
    const pages = ['/', '/pricing', '/docs?utm_source=x', '/pricing'];
    // Two visits for every third visitor: events 50 minutes apart.
    const ages = v % 3 === 0 ? [55 * MINUTE, 52 * MINUTE, 2 * MINUTE, 0] : [(v + 3) * MINUTE, v * MINUTE];
    ages.slice(0, v % 4 === 1 ? 1 : ages.length).forEach((age, i) => {
      events.push({
        n: 'pageview',
        u: `https://shop.example${pages[i % pages.length]}${i === 0 && v % 2 ? '?utm_source=Newsletter&utm_campaign=fall' : ''}`,
        r: i === 0 && v % 3 === 1 ? 'https://www.google.com/' : undefined,
        a: age,
        i: `ev-${v}-${i}-pageview`,
      });
    });
    if (v % 4 === 2)
      events.push({
        n: 'Signup',
        u: 'https://shop.example/pricing',
        p: { plan: v % 8 === 2 ? 'pro' : 'free' },
        a: 0,
        i: `ev-${v}-signup`,
      });
    out.push({ ua, events });
  }
  return out;
}

async function collect(beacon: Beacon, site: string, ua: string, events: unknown[]): Promise<void> {
  const res = await fetch(`${beacon.url}/v1/collect`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': ua },
    body: JSON.stringify({ s: site, e: events }),
  });
  assert.equal(res.status, 202, await res.text());
}

async function stats(beacon: Beacon, site: string, q: StatsQuery): Promise<StatsResult> {
  const res = await fetch(`${beacon.url}/v1/sites/${site}/query`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify(q),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as StatsResult;
}

test('beacon start --store postgres://…: collected events give the same stats answers as on SQLite', async () => {
  const db = await freshDatabase();
  const zone = settledZone();
  const env = { BEACON_ADMIN_TOKEN: TOKEN, BEACON_ANALYTICS_ADDRESS_PER_SECOND: '0' };
  const started = await Promise.all(
    [[], ['--store', db.url]].map((args) => {
      const dir = mkdtempSync(join(tmpdir(), 'beacon-analytics-pg-e2e-'));
      dirs.push(dir);
      return spawnBeacon(dir, env, args);
    }),
  );
  const [sqlite, postgres] = started as [Beacon, Beacon];
  try {
    const sites = await Promise.all(
      started.map(async (beacon) => {
        const res = await fetch(`${beacon.url}/v1/sites`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ domain: 'shop.example', timezone: zone, saltRotation: 'monthly' }),
        });
        assert.equal(res.status, 201);
        return ((await res.json()) as { id: string }).id;
      }),
    );
    const work = visitors();
    const expected = work.reduce((n, v) => n + v.events.length, 0);
    for (const { ua, events } of work) {
      await Promise.all(started.map((beacon, i) => collect(beacon, sites[i]!, ua, events)));
    }
    // A resent batch (same event ids) is not counted again on either.
    await Promise.all(started.map((beacon, i) => collect(beacon, sites[i]!, work[0]!.ua, work[0]!.events)));

    // Until the sink has projected something, a totals query has no row.
    const total = (r: StatsResult) => (r.results[0]?.metrics ?? [0, 0]).reduce((a, b) => a + b, 0);
    for (const [i, beacon] of started.entries()) {
      await eventually(
        async () => {
          const r = await stats(beacon, sites[i]!, { metrics: ['pageviews', 'events'], dateRange: '7d' });
          return total(r) === expected ? true : undefined;
        },
        60_000,
        `${expected} events stored by ${i === 0 ? 'SQLite' : 'PostgreSQL'}`,
      );
    }

    const all = [
      'visitors',
      'visits',
      'pageviews',
      'events',
      'views_per_visit',
      'bounce_rate',
      'visit_duration',
    ];
    const queries: StatsQuery[] = [
      { metrics: all, dateRange: '7d' },
      { metrics: all, dateRange: '7d', interval: 'day' },
      { metrics: all, dateRange: 'day', interval: 'hour' },
      { metrics: all, dateRange: '7d', dimensions: ['visit:browser'] },
      { metrics: all, dateRange: '7d', dimensions: ['visit:source'] },
      { metrics: all, dateRange: '7d', dimensions: ['visit:utm_source'] },
      { metrics: ['visitors', 'pageviews'], dateRange: '7d', dimensions: ['event:page'] },
      { metrics: ['visits'], dateRange: '7d', dimensions: ['visit:exit_page'] },
      { metrics: ['visitors', 'events', 'conversion_rate'], dateRange: '7d', dimensions: ['event:name'] },
      { metrics: ['visitors', 'events'], dateRange: '7d', dimensions: ['event:props:plan'] },
      { metrics: all, dateRange: '7d', filters: [['is', 'event:page', ['/pricing']]] },
      {
        metrics: all,
        dateRange: '7d',
        dimensions: ['visit:device'],
        filters: [['contains', 'visit:entry_page', ['DOC']]],
      },
      { metrics: all, dateRange: '7d', dimensions: ['visit:os', 'event:page'] },
    ];
    for (const q of queries) {
      const [a, b] = await Promise.all(started.map((beacon, i) => stats(beacon, sites[i]!, q)));
      assert.deepEqual(b, a, JSON.stringify(q));
    }
    const totals = await stats(postgres, sites[1]!, {
      metrics: ['visitors', 'visits', 'pageviews', 'events'],
      dateRange: '7d',
    });
    assert.deepEqual(totals.results[0]!.metrics, [12, 15, 27, 3], 'the figures the workload implies');
    assert.equal(totals.meta.source, 'rollups');

    // In PostgreSQL, the events sit in local-day partitions with their tenant and site on each row.
    const placed = await sqlRows<{ partition: string; tenant: string; site: string }>(
      db.url,
      'SELECT DISTINCT tableoid::regclass::text AS partition, tenant, site FROM analytics_events ORDER BY 1',
    );
    assert.ok(placed.length >= 1);
    for (const p of placed) {
      assert.match(p.partition, /^analytics_events_p\d{8}$/);
      assert.deepEqual([p.tenant, p.site], ['default', sites[1]]);
    }
  } finally {
    for (const beacon of [sqlite, postgres]) beacon.child.kill('SIGTERM');
    assert.equal(await sqlite.exited, 0, sqlite.output());
    assert.equal(await postgres.exited, 0, postgres.output());
  }
});
