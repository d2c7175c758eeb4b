import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Site } from '../../src/analytics/model.ts';
import type { RawQuery, RollupQuery } from '../../src/analytics/store/repositories.ts';
import { EVENT_DIMS, EXIT_DIM, SESSION_DIMS, type CollectedEvent } from '../../src/analytics/event-rules.ts';
import { projectRecords, projectSiteEvents } from '../../src/analytics/projection.ts';
import type { LogRecord } from '../../src/log/record.ts';
import { runQuery, type StatsQuery } from '../../src/analytics/query.ts';
import { runFunnel } from '../../src/analytics/funnel.ts';
import { runJourneys } from '../../src/analytics/journeys.ts';
import { runRetention } from '../../src/analytics/retention.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import { withStorePair } from '../helpers/postgres.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Saturday 24 October 2026: the week crosses both Europe's (25 Oct) and America's (1 Nov) DST ends. */
const START = Date.UTC(2026, 9, 24, 6);
const NOW = Date.UTC(2026, 10, 20, 12);

/** A small deterministic generator, so a failure replays exactly. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const sites: Site[] = [
  {
    id: 'st_berlin',
    tenant: 'acme',
    domain: 'shop.example',
    allowedDomains: ['cdn.shop.example'],
    timezone: 'Europe/Berlin',
    respectDnt: false,
    saltRotation: 'daily',
    currency: 'USD',
    createdAt: 2,
  },
  {
    id: 'st_la',
    tenant: 'acme',
    domain: 'la.example',
    allowedDomains: [],
    timezone: 'America/Los_Angeles',
    respectDnt: true,
    saltRotation: 'daily',
    currency: 'USD',
    createdAt: 1,
  },
  {
    id: 'st_kolkata',
    tenant: 'other',
    domain: 'in.example',
    allowedDomains: [],
    timezone: 'Asia/Kolkata',
    respectDnt: false,
    saltRotation: 'daily',
    currency: 'USD',
    createdAt: 3,
  },
];

const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0',
  '',
];
const PAGES = ['/', '/pricing', '/about', '/Über', '/blog/a "quoted", post', '/tab\there', '/PRICING'];
const REFERRERS = [
  '',
  'https://www.google.com/search?q=x',
  'https://news.ycombinator.com/',
  'https://SHOP.example/',
];
const UTM = ['', '?utm_source=Newsletter&utm_medium=email&utm_campaign=fall', '?utm_source=twitter'];
const NAMES = ['pageview', 'pageview', 'pageview', 'Signup', 'purchase', 'download'];

/**
 * Visitors of three sites (two tenants, three zones) browsing over 12 days: visits that continue and
 * that time out, events out of order and late, custom events with properties, odd text; delivered in
 * batches of any size, with redeliveries within and across batches.
 */
function workload(): { batches: LogRecord[][]; events: { site: Site; event: CollectedEvent }[] } {
  const next = random(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const all: { site: Site; event: CollectedEvent }[] = [];
  let n = 0;
  for (let v = 0; v < 90; v++) {
    const site = pick(sites);
    const ua = pick(AGENTS);
    let ts = START + Math.floor(next() * 12 * DAY);
    const visits = 1 + Math.floor(next() * 4);
    for (let visit = 0; visit < visits; visit++) {
      const referrer = pick(REFERRERS);
      const utm = pick(UTM);
      const length = 1 + Math.floor(next() * 6);
      for (let e = 0; e < length; e++) {
        const name = pick(NAMES);
        const props: Record<string, string> = {};
        if (name !== 'pageview') {
          if (next() < 0.7) props.plan = pick(['pro', 'Pro', 'free', 'team "x"']);
          if (next() < 0.3) props.size = String(Math.floor(next() * 3));
        }
        const host = next() < 0.1 ? `cdn.${site.domain}` : site.domain;
        all.push({
          site,
          event: {
            key: `k${n++}-${v}`,
            // A few events arrive with a time before their visit's previous one.
            ts: ts - (next() < 0.1 ? Math.floor(next() * 10 * MINUTE) : 0),
            visitor: `visitor-${v}`,
            name,
            url: `https://${host}${pick(PAGES)}${e === 0 ? utm : ''}`,
            referrer: e === 0 ? referrer : `https://${site.domain}/`,
            userAgent: ua,
            props,
          },
        });
        ts += Math.floor(next() * 20 * MINUTE);
      }
      ts += 31 * MINUTE + Math.floor(next() * 3 * DAY);
    }
  }
  // Delivered roughly in time order with some late ones, in batches of 1 to 150 records of any site,
  // as the sink reads them; receipt times only grow.
  all.sort((a, b) => a.event.ts + (next() < 0.05 ? DAY : 0) - b.event.ts);
  let received = 0;
  const records = all.map(({ site, event }, offset): LogRecord => {
    received = Math.max(received + 1, event.ts + Math.floor(next() * MINUTE));
    return {
      stream: 'pageviews',
      tenant: site.tenant,
      key: event.key,
      entity: site.id,
      id: `id-${offset}`,
      ts: event.ts,
      receivedAt: received,
      body: {
        site: site.id,
        visitor: event.visitor,
        name: event.name,
        url: event.url,
        referrer: event.referrer,
        ua: event.userAgent,
        props: event.props,
      },
      partition: 0,
      offset,
    };
  });
  const batches: LogRecord[][] = [];
  for (let i = 0; i < records.length;) {
    const size = 1 + Math.floor(next() * 150);
    const batch = records.slice(i, i + size);
    i += size;
    // Redeliveries: records of earlier batches, and of this one, again.
    for (let r = 0; r < 3; r++) if (next() < 0.3) batch.push(records[Math.floor(next() * i)]!);
    batches.push(batch);
  }
  return { batches, events: all };
}

/** Stats queries as the API takes them, over the whole period, so both the rollup and raw paths run. */
function statsQueries(): StatsQuery[] {
  const range = ['2026-10-23', '2026-11-06'];
  const all = [
    'visitors',
    'visits',
    'pageviews',
    'events',
    'views_per_visit',
    'bounce_rate',
    'visit_duration',
  ];
  const dims = [...SESSION_DIMS, ...EVENT_DIMS, EXIT_DIM, 'event:props:plan', 'event:props:size'];
  const queries: StatsQuery[] = [];
  for (const interval of [undefined, 'hour', 'day', 'week', 'month']) {
    queries.push({ metrics: all, dateRange: range, interval });
  }
  queries.push({ metrics: all, dateRange: ['2026-10-25', '2026-10-26'], interval: 'minute' });
  for (const d of dims) {
    queries.push({
      metrics: ['visitors', 'pageviews', 'events'],
      dimensions: [d],
      dateRange: range,
      limit: 1000,
    });
    queries.push({ metrics: all, dimensions: [d], dateRange: range, interval: 'day', limit: 1000 });
  }
  queries.push({ metrics: ['visits'], dimensions: [EXIT_DIM], dateRange: range });
  queries.push({ metrics: all, dimensions: ['visit:source'], dateRange: range });
  queries.push({
    metrics: ['visitors', 'events', 'conversion_rate'],
    dimensions: ['event:name'],
    dateRange: range,
    interval: 'week',
  });
  queries.push({
    metrics: all,
    dimensions: ['visit:browser', 'event:page'],
    dateRange: range,
    limit: 1000,
  });
  const filters: NonNullable<StatsQuery['filters']>[] = [
    [['is', 'event:page', ['/', '/pricing']]],
    [['is_not', 'visit:source', ['Google']]],
    [['is_not', 'event:props:plan', ['pro']]],
    // SQLite's LIKE folds ASCII letters only: 'PRIC' matches /pricing, 'über' does not match /Über.
    [['contains', 'event:page', ['PRIC', 'über']]],
    [['contains', 'event:name', ['sign', '%', '_']]],
    [['contains', 'event:props:plan', ['"X']]],
    [
      ['is', 'visit:device', ['Desktop', 'Mobile']],
      ['contains', 'visit:entry_page', ['/']],
    ],
  ];
  for (const f of filters) {
    queries.push({ metrics: all, filters: f, dateRange: range });
    queries.push({ metrics: all, filters: f, dateRange: range, interval: 'day', dimensions: ['event:page'] });
    queries.push({
      metrics: ['visitors', 'events'],
      filters: f,
      dateRange: range,
      dimensions: ['event:props:plan'],
    });
  }
  return queries;
}

/** The store API's own queries, compared row for row, in order. */
function storeQueries(site: Site): (RollupQuery | RawQuery)[] {
  const base = {
    tenant: site.tenant,
    site: site.id,
    from: Date.UTC(2026, 9, 20),
    to: Date.UTC(2026, 10, 10),
  };
  const out: (RollupQuery | RawQuery)[] = [];
  for (const interval of [undefined, 'hour', 'day', 'week', 'month'] as const) {
    out.push({ ...base, grain: 'day', interval }, { ...base, grain: 'hour', interval });
    for (const dim of [...SESSION_DIMS, ...EVENT_DIMS, EXIT_DIM, 'event:props:plan'])
      out.push({ ...base, grain: 'day', dim, interval: interval === 'hour' ? undefined : interval });
  }
  for (const interval of [undefined, 'minute', 'hour', 'day', 'week', 'month'] as const) {
    out.push({ ...base, dims: [], interval, filters: [] });
    out.push({ ...base, dims: ['event:props:plan', 'visit:os'], interval, filters: [] });
    out.push({
      ...base,
      dims: ['event:page'],
      interval,
      filters: [{ op: 'contains', dim: 'event:page', values: ['A', '"'] }],
    });
  }
  return out;
}

const ask = (store: BeaconStore, q: RollupQuery | RawQuery) =>
  'grain' in q ? store.analytics.sumRollups(q) : store.analytics.aggregateRaw(q);

test('SQLite and PostgreSQL project the same events into the same analytics answers', async () => {
  await withStorePair(async ({ sqlite, postgres }) => {
    const stores = [sqlite, postgres];
    for (const store of stores) {
      for (const tenant of ['acme', 'other'])
        await store.tenants.ensure({ id: tenant, name: tenant, createdAt: 0 });
      await store.transaction(async (tx) => {
        for (const site of sites) await tx.analytics.createSite(site);
      });
    }
    let total = 0;
    const { batches, events } = workload();
    for (const batch of batches) {
      const [a, b] = await Promise.all(stores.map((s) => s.transaction((tx) => projectRecords(tx, batch))));
      assert.equal(b, a, 'the same events are new on both');
      total += a!;
    }
    assert.ok(total > 500, `a workload worth comparing (${total} events)`);

    // A reprocess-style rebuild of one local day, from that day's events: clear it, project again.
    const berlin = sites[0]!;
    const day = Date.UTC(2026, 9, 25);
    const rebuilt = events.filter((e) => e.site === berlin).map((e) => e.event);
    for (const store of stores) {
      await store.transaction(async (tx) => {
        await tx.analytics.clearRange(berlin.tenant, berlin.id, day, day + DAY);
        await projectSiteEvents(tx.analytics, berlin, rebuilt);
      });
    }

    for (const site of sites) {
      assert.deepEqual(await postgres.analytics.site(site.id), await sqlite.analytics.site(site.id));
      assert.equal(
        await postgres.analytics.countEvents(site.tenant, site.id),
        await sqlite.analytics.countEvents(site.tenant, site.id),
      );
      const visitors = Array.from({ length: 95 }, (_, v) => `visitor-${v}`);
      assert.deepEqual(
        await postgres.analytics.latestSessions(site.tenant, site.id, visitors),
        await sqlite.analytics.latestSessions(site.tenant, site.id, visitors),
      );
      for (const q of storeQueries(site)) {
        assert.deepEqual(await ask(postgres, q), await ask(sqlite, q), `${site.id} ${JSON.stringify(q)}`);
      }
      let nonEmpty = 0;
      for (const q of statsQueries()) {
        const [a, b] = await Promise.all([
          runQuery(sqlite.analytics, site, q, NOW),
          runQuery(postgres.analytics, site, q, NOW),
        ]);
        assert.deepEqual(b, a, `${site.id} ${JSON.stringify(q)}`);
        if (a.results.some((r) => r.metrics.some((m) => m > 0))) nonEmpty++;
      }
      assert.ok(nonEmpty > 40, `${site.id}: most queries have an answer to compare (${nonEmpty})`);
    }
    // Goals, a segment, and every visit-level analysis: the same answers from both stores' visits.
    for (const store of stores) {
      await store.transaction(async (tx) => {
        for (const site of sites) {
          const def = (kind: 'goal' | 'segment', id: string, name: string, spec: unknown) =>
            tx.analytics.putDefinition({
              tenant: site.tenant,
              site: site.id,
              kind,
              id,
              name,
              spec,
              createdAt: 1,
              updatedAt: 1,
            });
          await def('goal', 'g1', 'Pricing', { page: '/pricing' });
          await def('goal', 'g2', 'Signup', { event: 'Signup' });
          await def('goal', 'g3', 'Pro purchase', {
            event: 'purchase',
            props: [['contains', 'plan', ['pro']]],
          });
          await def('goal', 'g4', 'Any page', { page: '/**' });
          await def('segment', 's1', 'Not Google', { filters: [['is_not', 'visit:source', ['Google']]] });
        }
      });
    }
    const range = ['2026-10-23', '2026-11-06'];
    for (const site of sites) {
      for (const budget of [100_000, 40]) {
        const both = <T>(run: (store: BeaconStore) => Promise<T>) =>
          Promise.all([run(sqlite), run(postgres)]);
        for (const q of [
          {
            metrics: ['visitors', 'conversions', 'events', 'conversion_rate'],
            dimensions: ['event:goal'],
            dateRange: range,
          },
          {
            metrics: ['conversions', 'conversion_rate'],
            dimensions: ['visit:browser'],
            filters: [['is', 'event:goal', ['Pricing', 'Signup']]],
            dateRange: range,
            interval: 'week',
          },
          {
            metrics: ['conversions'],
            dimensions: ['event:goal'],
            filters: [['is', 'segment', ['s1']]],
            dateRange: range,
          },
        ] satisfies StatsQuery[]) {
          const [a, b] = await both((s) => runQuery(s.analytics, site, q, NOW, { visitBudget: budget }));
          assert.deepEqual(b, a, `${site.id} ${JSON.stringify(q)}`);
        }
        for (const within of ['visit', '7d']) {
          const [a, b] = await both((s) =>
            runFunnel(
              s.analytics,
              site,
              {
                steps: [{ goal: 'Any page' }, { goal: 'Pricing' }, { event: 'Signup' }],
                within,
                dateRange: range,
              },
              NOW,
              budget,
            ),
          );
          assert.deepEqual(b, a, `${site.id} funnel ${within}`);
        }
        for (const page of ['/', '/pricing']) {
          const [a, b] = await both((s) =>
            runJourneys(
              s.analytics,
              site,
              { page, depth: 3, dateRange: range, filters: [['is', 'segment', ['s1']]] },
              NOW,
              budget,
            ),
          );
          assert.deepEqual(b, a, `${site.id} journeys ${page}`);
        }
        for (const period of ['day', 'week']) {
          const [a, b] = await both((s) =>
            runRetention(s.analytics, site, { period, dateRange: range }, NOW, budget),
          );
          assert.deepEqual(b, a, `${site.id} retention ${period}`);
        }
      }
    }

    for (const tenant of ['acme', 'other', 'nobody']) {
      assert.deepEqual(await postgres.analytics.sites(tenant), await sqlite.analytics.sites(tenant));
    }
  });
});
