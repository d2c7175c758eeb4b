import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { Collector, type Sender } from '../../src/analytics/collector.ts';
import type { CollectedEvent } from '../../src/analytics/event-rules.ts';
import { runFunnel } from '../../src/analytics/funnel.ts';
import { ImportWorker } from '../../src/analytics/import-worker.ts';
import { runJourneys } from '../../src/analytics/journeys.ts';
import { CollectMetrics } from '../../src/analytics/metrics.ts';
import type { Definition, Import, Site } from '../../src/analytics/model.ts';
import { projectRecords, projectSiteEvents } from '../../src/analytics/projection.ts';
import { runQuery, type StatsQuery } from '../../src/analytics/query.ts';
import { runRetention } from '../../src/analytics/retention.ts';
import { SiteDirectory } from '../../src/analytics/site-directory.ts';
import type { Ingest, Signal } from '../../src/ingest/ingest.ts';
import type { LogRecord } from '../../src/log/record.ts';
import type { Metrics } from '../../src/observability/metrics.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import { pino } from 'pino';
import { sampleSite } from '../helpers/sites.ts';
import type { StoreContractTarget } from './store.contract.ts';

const SEC = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Monday 2 November 2026, in UTC (the site's zone). */
const D0 = Date.UTC(2026, 10, 2);
const NOW = D0 + 5 * DAY;
const RANGE = ['2026-11-02', '2026-11-03'];
const BUDGET = 100_000;
const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

const site = sampleSite({
  id: 'st_i',
  tenant: 'default',
  domain: 'shop.example',
  allowedDomains: [],
  currency: 'EUR',
});

let n = 0;
/** One event of `visitor` at `at`: a page view of `page`, or the custom event `name`. */
function ev(
  visitor: string,
  at: number,
  page: string,
  extra: Partial<CollectedEvent> & { referrer?: string } = {},
): CollectedEvent {
  return {
    key: `k${++n}`,
    ts: at,
    visitor,
    name: 'pageview',
    url: `https://shop.example${page}`,
    referrer: '',
    userAgent: UA,
    props: {},
    ...extra,
  };
}
const custom = (name: string, props: Record<string, string> = {}, milli?: number, currency = 'EUR') => ({
  name,
  props,
  ...(milli !== undefined && { revenue: { milli, currency } }),
});

/**
 * Eight visitors, A to H, each starting at their own hour of D0: the funnel / → /pricing → signup →
 * purchase, with drop-offs at every step, journeys through /pricing, and purchases with revenue in two
 * currencies. G comes back the next day; A and B come from Google.
 */
function history(): CollectedEvent[] {
  const at = (hour: number, seconds: number) => D0 + hour * HOUR + seconds * SEC;
  const google = { referrer: 'https://www.google.com/' };
  return [
    ev('A', at(10, 0), '/', google),
    ev('A', at(10, 60), '/pricing'),
    ev('A', at(10, 120), '/pricing', custom('signup', { plan: 'pro' })),
    ev('A', at(10, 300), '/checkout', custom('purchase', { plan: 'pro' }, 30_000)),
    ev('B', at(11, 0), '/', google),
    ev('B', at(11, 30), '/pricing'),
    ev('B', at(11, 90), '/pricing', custom('signup', { plan: 'free' })),
    ev('C', at(12, 0), '/'),
    ev('C', at(12, 120), '/pricing'),
    ev('D', at(13, 0), '/'),
    ev('E', at(14, 0), '/pricing'),
    ev('E', at(14, 60), '/'),
    ev('F', at(15, 0), '/about'),
    ev('G', at(16, 0), '/'),
    ev('G', at(16, 0) + DAY, '/pricing'),
    ev('H', at(17, 0), '/'),
    ev('H', at(17, 10), '/blog'),
    ev('H', at(17, 40), '/pricing'),
    ev('H', at(17, 100), '/docs'),
    ev('H', at(17, 130), '/docs/api'),
    ev('H', at(17, 200), '/blog'),
    ev('H', at(17, 260), '/checkout', custom('purchase', {}, 20_000)),
    ev('H', at(17, 270), '/checkout', custom('purchase', {}, 15_000, 'USD')),
  ];
}

const GOALS: [string, unknown][] = [
  ['Pricing', { page: '/pricing' }],
  ['Signup', { event: 'signup' }],
  ['Pro signup', { event: 'signup', props: [['is', 'plan', ['pro']]] }],
  ['Purchase', { event: 'purchase' }],
  ['Docs', { page: '/docs/**' }],
];

async function seed(store: BeaconStore): Promise<void> {
  await store.tenants.ensure({ id: 'default', name: 'Default', createdAt: 0 });
  await store.transaction(async (tx) => {
    await tx.analytics.createSite(site);
    for (const [i, [name, spec]] of GOALS.entries())
      await tx.analytics.putDefinition(definition('goal', `gl_${i}`, name, spec));
    await tx.analytics.putDefinition(
      definition('segment', 'sg_google', 'From Google', { filters: [['is', 'visit:source', ['Google']]] }),
    );
  });
  // Delivered in two batches, as a sink would: visits continue across them.
  const events = history();
  await store.transaction((tx) => projectSiteEvents(tx.analytics, site, events.slice(0, 10)));
  await store.transaction((tx) => projectSiteEvents(tx.analytics, site, events.slice(10)));
}

function definition(kind: Definition['kind'], id: string, name: string, spec: unknown): Definition {
  return { tenant: 'default', site: site.id, kind, id, name, spec, createdAt: 1, updatedAt: 1 };
}

const funnelSteps = [{ page: '/' }, { goal: 'Pricing' }, { goal: 'Signup' }, { event: 'purchase' }];

/**
 * Goals, funnels, journeys, retention, revenue, segments and imports over a store: run once per
 * backend (analytics-insights-sqlite.test.ts, analytics-insights-postgres.test.ts) with the same
 * exact answers.
 */
export function runInsightsContract(target: StoreContractTarget): void {
  const it = (name: string, fn: (store: BeaconStore) => Promise<void>): void =>
    void test(name, async () => {
      const store = await target.create();
      try {
        await seed(store);
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`Analytics insights: ${target.name}`, () => {
    it('a funnel within a visit: visitors, drop-offs and median times per step', async (store) => {
      const f = await runFunnel(store.analytics, site, { steps: funnelSteps, dateRange: RANGE }, NOW, BUDGET);
      assert.equal(f.visitors, 8);
      assert.equal(f.within, 'visit');
      assert.deepEqual(
        f.steps.map((s) => [
          s.label,
          s.visitors,
          s.conversionRate,
          s.dropoff,
          s.dropoffRate,
          s.medianSecondsToNext,
        ]),
        [
          ['Visit /', 7, 100, 0, 0, 50],
          ['Pricing', 4, 57.14, 3, 42.86, 60],
          ['Signup', 2, 28.57, 2, 50, 180],
          ['purchase', 1, 14.29, 1, 50, null],
        ],
      );
      assert.equal(f.meta.sample, null);
      assert.deepEqual(f.meta.dateRange, RANGE);
    });

    it('a funnel within days links a visitor’s visits; filters and segments choose the visits', async (store) => {
      const days = await runFunnel(
        store.analytics,
        site,
        { steps: funnelSteps, within: '2d', dateRange: RANGE },
        NOW,
        BUDGET,
      );
      assert.deepEqual(
        days.steps.map((s) => [s.visitors, s.medianSecondsToNext]),
        [
          [7, 60],
          [5, 60],
          [2, 180],
          [1, null],
        ],
      );
      for (const filters of [
        [['is', 'segment', ['sg_google']]],
        [['is', 'visit:source', ['Google']]],
      ] as const) {
        const google = await runFunnel(
          store.analytics,
          site,
          { steps: funnelSteps, dateRange: RANGE, filters },
          NOW,
          BUDGET,
        );
        assert.deepEqual(
          google.steps.map((s) => s.visitors),
          [2, 2, 2, 1],
        );
        assert.equal(google.visitors, 2);
      }
      const noPro = await runFunnel(
        store.analytics,
        site,
        { steps: funnelSteps, dateRange: RANGE, filters: [['is_not', 'event:goal', ['Pro signup']]] },
        NOW,
        BUDGET,
      );
      assert.deepEqual(
        noPro.steps.map((s) => s.visitors),
        [6, 3, 1, 0],
      );
      await assert.rejects(
        runFunnel(
          store.analytics,
          site,
          { steps: [{ goal: 'Nope' }, { page: '/' }], dateRange: RANGE },
          NOW,
          BUDGET,
        ),
        { code: 'GOAL_UNKNOWN' },
      );
      await assert.rejects(
        runFunnel(store.analytics, site, { steps: [{ page: '/' }], dateRange: RANGE }, NOW, BUDGET),
        { code: 'QUERY_INVALID' },
      );
      await assert.rejects(
        runFunnel(
          store.analytics,
          site,
          { steps: funnelSteps, dateRange: RANGE, filters: [['is', 'segment', ['sg_nope']]] },
          NOW,
          BUDGET,
        ),
        { code: 'SEGMENT_UNKNOWN' },
      );
    });

    it('journeys: the top paths out of and into a page, and their flow', async (store) => {
      const j = await runJourneys(
        store.analytics,
        site,
        { page: '/pricing', depth: 2, dateRange: RANGE },
        NOW,
        BUDGET,
      );
      assert.equal(j.visits, 6);
      assert.deepEqual(
        j.next.paths.map((p) => [p.pages, p.visits, p.share]),
        [
          [['(exit)'], 4, 66.67],
          [['/', '(exit)'], 1, 16.67],
          [['/docs', '/docs/api'], 1, 16.67],
        ],
      );
      assert.deepEqual(
        j.previous.paths.map((p) => [p.pages, p.visits, p.share]),
        [
          [['/', '(entrance)'], 3, 50],
          [['(entrance)'], 2, 33.33],
          [['/blog', '/'], 1, 16.67],
        ],
      );
      assert.deepEqual(j.next.flow.columns, [
        [
          { page: '(exit)', visits: 4 },
          { page: '/', visits: 1 },
          { page: '/docs', visits: 1 },
        ],
        [
          { page: '(exit)', visits: 1 },
          { page: '/docs/api', visits: 1 },
        ],
      ]);
      assert.deepEqual(j.next.flow.links, [
        { depth: 1, from: '/pricing', to: '(exit)', visits: 4 },
        { depth: 1, from: '/pricing', to: '/', visits: 1 },
        { depth: 1, from: '/pricing', to: '/docs', visits: 1 },
        { depth: 2, from: '/', to: '(exit)', visits: 1 },
        { depth: 2, from: '/docs', to: '/docs/api', visits: 1 },
      ]);
      const google = await runJourneys(
        store.analytics,
        site,
        { page: '/pricing', depth: 1, dateRange: RANGE, filters: [['is', 'segment', ['sg_google']]] },
        NOW,
        BUDGET,
      );
      assert.deepEqual(
        google.previous.paths.map((p) => [p.pages, p.visits]),
        [[['/'], 2]],
      );
    });

    it('goals: conversions, conversion rate, events and revenue per goal, as a breakdown', async (store) => {
      const q: StatsQuery = {
        metrics: [
          'conversions',
          'visitors',
          'events',
          'conversion_rate',
          'total_revenue',
          'average_revenue',
          'revenue_per_visitor',
        ],
        dimensions: ['event:goal'],
        dateRange: RANGE,
      };
      const r = await runQuery(store.analytics, site, q, NOW);
      assert.equal(r.meta.source, 'visits');
      assert.equal(r.meta.currency, 'EUR');
      assert.deepEqual(r.meta.otherCurrencies, { USD: 15 });
      assert.deepEqual(
        r.results.map((x) => [x.dimensions[0], ...x.metrics]),
        [
          ['Pricing', 6, 8, 6, 75, 0, 0, 0],
          ['Purchase', 2, 8, 3, 25, 50, 25, 6.25],
          ['Signup', 2, 8, 2, 25, 0, 0, 0],
          // /docs/** matches /docs/api, not /docs itself.
          ['Docs', 1, 8, 1, 12.5, 0, 0, 0],
          ['Pro signup', 1, 8, 1, 12.5, 0, 0, 0],
        ],
      );
    });

    it('revenue totals in the site’s currency or another, with the rest reported apart', async (store) => {
      const total = (currency?: string) =>
        runQuery(
          store.analytics,
          site,
          {
            metrics: ['total_revenue', 'average_revenue', 'conversions'],
            filters: [['is', 'event:goal', ['Purchase']]],
            dateRange: RANGE,
            ...(currency && { currency }),
          },
          NOW,
        );
      const eur = await total();
      assert.deepEqual(eur.results, [{ dimensions: [], metrics: [50, 25, 2] }]);
      assert.deepEqual(eur.meta.otherCurrencies, { USD: 15 });
      const usd = await total('USD');
      assert.deepEqual(usd.results, [{ dimensions: [], metrics: [15, 15, 2] }]);
      assert.deepEqual(usd.meta.otherCurrencies, { EUR: 50 });
      const bySource = await runQuery(
        store.analytics,
        site,
        {
          metrics: ['visitors', 'conversions', 'conversion_rate', 'total_revenue'],
          dimensions: ['visit:source'],
          filters: [['is', 'event:goal', ['Purchase', 'Signup']]],
          dateRange: RANGE,
        },
        NOW,
      );
      assert.deepEqual(
        bySource.results.map((x) => [x.dimensions[0], ...x.metrics]),
        [
          ['Direct / None', 6, 1, 16.67, 20],
          ['Google', 2, 2, 100, 30],
        ],
      );
      await assert.rejects(
        runQuery(store.analytics, site, { metrics: ['conversions'], dateRange: RANGE }, NOW),
        { code: 'QUERY_INVALID', message: /event:goal/ },
      );
      await assert.rejects(
        runQuery(
          store.analytics,
          site,
          { metrics: ['conversions'], filters: [['is', 'event:goal', ['Nope']]], dateRange: RANGE },
          NOW,
        ),
        { code: 'GOAL_UNKNOWN' },
      );
    });

    it('segments stand for their filters in the stats query too', async (store) => {
      const bySegment = await runQuery(
        store.analytics,
        site,
        { metrics: ['visitors', 'pageviews'], filters: [['is', 'segment', ['sg_google']]], dateRange: RANGE },
        NOW,
      );
      const byFilter = await runQuery(
        store.analytics,
        site,
        {
          metrics: ['visitors', 'pageviews'],
          filters: [['is', 'visit:source', ['Google']]],
          dateRange: RANGE,
        },
        NOW,
      );
      assert.deepEqual(bySegment.results, byFilter.results);
      assert.deepEqual(bySegment.results, [{ dimensions: [], metrics: [2, 4] }]);
    });

    it('past the visit budget a sample of visitors is read, said so, and scaled up', async (store) => {
      const f = await runFunnel(store.analytics, site, { steps: funnelSteps, dateRange: RANGE }, NOW, 2);
      assert.ok(f.meta.sample, 'sampled');
      assert.ok(f.meta.sample.fraction > 0 && f.meta.sample.fraction < 1);
      for (const s of f.steps) assert.ok(Number.isInteger(s.visitors));
    });

    it('retention cohorts: daily salts see nobody return; monthly salts see returns within the month', async (store) => {
      const expected = {
        monthly: [
          ['2026-11-02', 2, [2, 1, 1], [100, 50, 50]],
          ['2026-11-03', 1, [1, 0], [100, 0]],
          ['2026-11-04', 0, [0], [0]],
        ],
        daily: [
          ['2026-11-02', 2, [2, 0, 0], [100, 0, 0]],
          ['2026-11-03', 2, [2, 0], [100, 0]],
          ['2026-11-04', 1, [1], [100]],
        ],
      };
      for (const rotation of ['daily', 'monthly'] as const) {
        const s = sampleSite({
          id: `st_${rotation}`,
          tenant: 'default',
          domain: 'r.example',
          allowedDomains: [],
          saltRotation: rotation,
        });
        await store.transaction((tx) => tx.analytics.createSite(s));
        // Three people, by address: one comes on three days running, one on the first, one on the second.
        await collectAt(store, s, [
          [D0 + 9 * HOUR, '203.0.113.1'],
          [D0 + 10 * HOUR, '203.0.113.2'],
          [D0 + DAY + 9 * HOUR, '203.0.113.1'],
          [D0 + DAY + 11 * HOUR, '203.0.113.3'],
          [D0 + 2 * DAY + 9 * HOUR, '203.0.113.1'],
        ]);
        const r = await runRetention(
          store.analytics,
          s,
          { period: 'day', dateRange: ['2026-11-02', '2026-11-04'] },
          NOW,
          BUDGET,
        );
        assert.equal(r.meta.saltRotation, rotation);
        assert.deepEqual(
          r.cohorts.map((c) => [c.start, c.visitors, c.returning, c.shares]),
          expected[rotation],
          rotation,
        );
      }
    });

    it('a Plausible CSV export imports once: a rerun after a crash and a second upload double nothing', async (store) => {
      const files = fixtureFiles('plausible');
      const worker = new ImportWorker({ store, pollMs: 60_000, logger: pino({ level: 'silent' }) });
      const imported = importRecord('im_p', 'plausible');
      await store.transaction((tx) => tx.analytics.createImport(imported, files));
      // A first run that died after writing some cells: its lease ran out, and it is taken up again.
      await store.transaction(async (tx) => {
        await tx.analytics.claimImport(Date.now(), Date.now() - 1);
        await tx.analytics.writeImported('default', site.id, 'im_p', [
          {
            day: Date.UTC(2026, 9, 1),
            dim: '',
            value: '',
            counters: { visitors: 10, visits: 12, pageviews: 25, events: 0, bounces: 4, duration: 600_000 },
          },
        ]);
      });
      await worker.runQueued();
      const done = await store.analytics.findImport('default', site.id, 'im_p');
      assert.equal(done?.status, 'completed');
      assert.deepEqual(
        [done?.firstDay, done?.lastDay, done?.skippedDays],
        [Date.UTC(2026, 9, 1), Date.UTC(2026, 9, 2), 0],
      );
      assert.match(done?.error ?? '', /imported_locations.*no location dimension/);
      const range = ['2026-10-01', '2026-10-02'];
      const ask = (q: Omit<StatsQuery, 'dateRange'>) =>
        runQuery(store.analytics, site, { ...q, dateRange: range }, NOW);
      const check = async () => {
        const totals = await ask({
          metrics: ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration'],
        });
        assert.deepEqual(totals.results, [{ dimensions: [], metrics: [18, 21, 45, 33, 50] }]);
        assert.equal(totals.meta.imported, true);
        const rows = async (dim: string, metrics = ['visitors']) =>
          (await ask({ metrics, dimensions: [dim] })).results.map((r) => [r.dimensions[0], ...r.metrics]);
        assert.deepEqual(await rows('visit:source'), [
          ['Google', 11],
          ['Direct / None', 4],
          ['Newsletter', 3],
        ]);
        assert.deepEqual(await rows('event:page', ['visitors', 'pageviews']), [
          ['/', 13, 23],
          ['/pricing', 4, 13],
          ['/blog/a "quoted", post', 3, 9],
        ]);
        assert.deepEqual(
          await rows('visit:browser'),
          [
            ['Chrome', 6],
            ['Safari', 8],
            ['Firefox', 4],
          ].sort((a, b) => (b[1] as number) - (a[1] as number)),
        );
        assert.deepEqual(await rows('visit:os'), [
          ['iOS', 8],
          ['macOS', 6],
          ['Linux', 4],
        ]);
        assert.deepEqual(await rows('visit:device'), [
          ['desktop', 14],
          ['mobile', 4],
        ]);
        assert.deepEqual(await rows('event:name', ['visitors', 'events']), [
          ['Signup', 3, 3],
          ['Outbound Link: Click', 1, 1],
        ]);
        assert.deepEqual(await rows('visit:exit_page', ['visits']), [
          ['/', 14],
          ['/pricing', 7],
        ]);
        const without = await ask({ metrics: ['visitors'], imports: false });
        assert.deepEqual(without.results, [], 'nothing was collected: without imports there is nothing');
      };
      await check();
      // The same cells written again (a second run over the same export) replace, never add.
      await worker.runQueued();
      await check();
      // Deleting the import takes its figures away, and only its figures.
      await store.transaction((tx) => tx.analytics.deleteImport('default', site.id, 'im_p'));
      assert.deepEqual((await ask({ metrics: ['visitors'] })).results, []);
    });

    it('an Umami data export imports by Beacon’s visit rules, leaving out days Beacon collected', async (store) => {
      // Beacon collected on 6 October: that day of the export is left out.
      await store.transaction((tx) =>
        projectSiteEvents(tx.analytics, site, [ev('native', Date.UTC(2026, 9, 6, 12), '/native')]),
      );
      const worker = new ImportWorker({ store, pollMs: 60_000, logger: pino({ level: 'silent' }) });
      await store.transaction((tx) =>
        tx.analytics.createImport(importRecord('im_u', 'umami'), fixtureFiles('umami')),
      );
      await worker.runQueued();
      const done = await store.analytics.findImport('default', site.id, 'im_u');
      assert.equal(done?.status, 'completed', done?.error ?? '');
      assert.deepEqual(
        [done?.firstDay, done?.lastDay, done?.skippedDays],
        [Date.UTC(2026, 9, 5), Date.UTC(2026, 9, 5), 1],
      );
      const ask = (q: Omit<StatsQuery, 'dateRange'>) =>
        runQuery(store.analytics, site, { ...q, dateRange: ['2026-10-05', '2026-10-05'] }, NOW);
      const totals = await ask({
        metrics: ['visitors', 'visits', 'pageviews', 'events', 'bounce_rate', 'visit_duration'],
      });
      assert.deepEqual(totals.results, [{ dimensions: [], metrics: [2, 2, 3, 1, 50, 90] }]);
      const rows = async (dim: string) =>
        (await ask({ metrics: ['visitors', 'visits'], dimensions: [dim] })).results.map((r) => [
          r.dimensions[0],
          ...r.metrics,
        ]);
      assert.deepEqual(await rows('visit:source'), [
        ['Google', 1, 1],
        ['newsletter', 1, 1],
      ]);
      assert.deepEqual(await rows('visit:device'), [
        ['desktop', 1, 1],
        ['mobile', 1, 1],
      ]);
      assert.deepEqual(await rows('visit:os'), [
        ['Windows', 1, 1],
        ['macOS', 1, 1],
      ]);
      assert.deepEqual(await rows('visit:entry_page'), [
        ['/', 1, 1],
        ['/blog', 1, 1],
      ]);
      const pages = await ask({ metrics: ['visitors', 'pageviews'], dimensions: ['event:page'] });
      assert.deepEqual(
        pages.results.map((r) => [r.dimensions[0], ...r.metrics]),
        [
          ['/', 1, 1],
          ['/blog', 1, 1],
          ['/pricing', 1, 1],
        ],
      );
    });
  });
}

function importRecord(id: string, source: Import['source']): Import {
  return {
    tenant: 'default',
    site: site.id,
    id,
    source,
    contentHash: id,
    status: 'queued',
    done: 0,
    total: 0,
    firstDay: null,
    lastDay: null,
    skippedDays: 0,
    error: null,
    createdAt: 1,
    finishedAt: null,
  };
}

/** The files of a fixture export, as an upload carries them. */
export function fixtureFiles(tool: 'plausible' | 'umami'): { name: string; content: string }[] {
  const dir = new URL(`../fixtures/imports/${tool}/`, import.meta.url);
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, content: readFileSync(new URL(name, dir), 'utf8') }));
}

/**
 * Collects a page view of `site` at each (time, client address) through the real collection rules,
 * so visitor ids come from the site's salt rotation, then projects the records as the sink does.
 */
async function collectAt(store: BeaconStore, s: Site, visits: [number, string][]): Promise<void> {
  const realNow = Date.now;
  const signals: Signal[] = [];
  const collector = new Collector({
    sites: new SiteDirectory(store.analytics),
    ingest: {
      accept: (_stream: string, batch: Signal[]) => Promise.resolve(void signals.push(...batch)),
    } as unknown as Ingest,
    secret: 'retention-secret',
    metrics: new CollectMetrics({ registry: new Registry() } as unknown as Metrics),
    limits: { sitePerSecond: 0, siteBurst: 1, addressPerSecond: 0, addressBurst: 1 },
  });
  try {
    for (const [at, address] of visits) {
      Date.now = () => at;
      const sender: Sender = {
        address,
        userAgent: UA,
        origin: undefined,
        optedOut: false,
        transport: 'http',
      };
      await collector.collect(
        {
          site: s.id,
          events: [
            {
              name: 'pageview',
              url: 'https://r.example/',
              referrer: '',
              props: {},
              ageMs: 0,
              id: undefined,
              revenue: undefined,
            },
          ],
        },
        sender,
      );
    }
  } finally {
    Date.now = realNow;
  }
  const records: LogRecord[] = signals.map((sig, i) => ({
    stream: 'pageviews',
    tenant: sig.tenant,
    key: `${s.id}-${i}`,
    entity: sig.entity ?? s.id,
    id: `id-${i}`,
    ts: sig.ts!,
    receivedAt: sig.ts!,
    body: sig.body,
    partition: 0,
    offset: i,
  }));
  await store.transaction((tx) => projectRecords(tx, records));
}
