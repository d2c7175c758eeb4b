/**
 * Web analytics. (a) The agent's gzipped size. (b) Dashboards over long history: generates 10 million
 * page views and events over 90 days (1 million with --quick) through the projection's own code, straight
 * into a store, then times the dashboard a browser loads (totals, chart and four top lists, six queries
 * at once) for 7, 30 and 90 days. (c) Visit-level analyses over the same history: a 4-step funnel,
 * journeys from a page, 12 weeks of weekly retention and a goal breakdown, each read as a bounded
 * sample of visits. (d) `POST /v1/collect` events/s, one event per request and ten. (e) Freshness:
 * from a collect's 202 to the event counted in the stats API.
 *
 *   node bench/analytics.ts [--quick] [--only collect,dashboards,insights,freshness] [--profile DIR]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { SessionRow, Site } from '../src/analytics/model.ts';
import { projectEvents, type CollectedEvent } from '../src/analytics/event-rules.ts';
import { DAY, formatLocal, fromLocal, startOfDay, toLocal } from '../src/analytics/time-zone.ts';
import { visitorId } from '../src/analytics/visitor.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { count, ms } from './lib/format.ts';
import { interleave, runLoad, type LoadSummary } from './lib/load.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { Histogram } from './lib/percentiles.ts';
import { Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { startServer, type BenchServer } from './lib/server.ts';

const TITLE = 'Analytics';
const ZONE = 'Europe/Berlin';
const SITE = 'st_bench';
const HISTORY_DAYS = 90;
const UA = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
];
const REFERRERS = [
  '',
  '',
  '',
  'https://www.google.com/',
  'https://www.bing.com/',
  'https://t.co/x',
  'https://news.ycombinator.com/',
];
const BROWSER_UA = UA[0]!;

/** A small deterministic generator (mulberry32), so every run generates the same history. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Writes `total` events' worth of rollups and visits for one site over 90 days ending today. Events go
 * through the same session and rollup code as the sink (projectEvents), with "seen" sets in memory
 * rather than in the store, which is what makes 10 million take minutes instead of an hour. Raw event
 * rows are not written: the dashboards read only rollups, the visit-level analyses only visits. The
 * site has monthly salts and visitors come back within a month, so retention has something to find.
 */
export async function generateHistory(dataDir: string, total: number): Promise<number> {
  const store = sqliteStore({ dataDir });
  await store.open();
  const started = performance.now();
  try {
    await store.tenants.ensure({ id: 'default', name: 'Default', createdAt: Date.now() });
    const site: Site = {
      id: SITE,
      tenant: 'default',
      domain: 'bench.example',
      allowedDomains: [],
      timezone: ZONE,
      respectDnt: false,
      saltRotation: 'monthly',
      currency: 'USD',
      createdAt: Date.now(),
    };
    await store.transaction(async (tx) => {
      await tx.analytics.createSite(site);
      for (const [id, name, spec] of GOALS)
        await tx.analytics.putDefinition({
          tenant: 'default',
          site: SITE,
          kind: 'goal',
          id,
          name,
          spec,
          createdAt: Date.now(),
          updatedAt: Date.now(),
        });
    });
    const rand = random(42);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
    // Page popularity falls off like a power law, as on real sites.
    const page = () => `/docs/${Math.floor(200 * rand() ** 3)}`;
    const perDay = Math.ceil(total / HISTORY_DAYS);
    const today = startOfDay(toLocal(Date.now(), ZONE));
    const progress = new Progress(`generating ${count(total)} events`, total);
    let made = 0;
    // Visits continue across midnight within a month (monthly salts); a new month starts afresh. Each
    // visit is written once, in its latest state, when its month is done.
    let prior = new Map<string, SessionRow>();
    const visits = new Map<string, SessionRow>();
    const writeVisits = async () => {
      const all = [...visits.values()];
      visits.clear();
      for (let i = 0; i < all.length; i += 20_000)
        await store.transaction((tx) => tx.analytics.upsertSessions(all.slice(i, i + 20_000)));
    };
    let month = -1;
    for (let d = 0; d < HISTORY_DAYS; d++) {
      const dayLocal = today - (HISTORY_DAYS - 1 - d) * DAY;
      const dayStart = fromLocal(dayLocal, ZONE);
      const events: CollectedEvent[] = [];
      const visitorsToday = Math.ceil(perDay / 4);
      const thisMonth = new Date(dayStart).getUTCMonth();
      if (thisMonth !== month) {
        month = thisMonth;
        prior = new Map();
        await writeVisits();
      }
      while (events.length < perDay && made + events.length < total) {
        // Visitor ids as the collector makes them (a hash), drawn from the month's pool with a skew, so
        // some come back on many days and most on few.
        const visitor = visitorId(`m${month}`, SITE, String(Math.floor(visitorsToday * 6 * rand() ** 2)), '');
        let ts = dayStart + Math.floor(rand() * (DAY - 3_600_000));
        const utm = rand() < 0.1 ? `?utm_source=newsletter&utm_campaign=c${Math.floor(rand() * 20)}` : '';
        const referrer = pick(REFERRERS);
        const userAgent = pick(UA);
        const views = 1 + Math.floor(-Math.log(1 - rand()) * 2);
        for (let v = 0; v < views; v++) {
          events.push({
            key: `g${made + events.length}`,
            ts,
            visitor,
            name: 'pageview',
            url: `https://bench.example${page()}${v === 0 ? utm : ''}`,
            referrer: v === 0 ? referrer : '',
            userAgent,
            props: {},
          });
          if (rand() < 0.08) {
            events.push({
              key: `g${made + events.length}`,
              ts: ts + 1000,
              visitor,
              name: pick(['signup', 'download', 'purchase']),
              url: `https://bench.example/pricing`,
              referrer: '',
              userAgent,
              props: { plan: pick(['free', 'pro', 'team']) },
              revenue:
                rand() < 0.3 ? { milli: 1000 * (5 + Math.floor(rand() * 95)), currency: 'USD' } : undefined,
            });
          }
          ts += Math.floor(rand() * 300_000);
        }
      }
      const batch = projectEvents(site, events, prior);
      batch.rollups.countAllVisitors();
      await store.transaction((tx) => tx.analytics.addRollups('default', SITE, batch.rollups.deltas()));
      for (const visit of batch.sessions) visits.set(visit.id, visit);
      made += events.length;
      progress.update(made);
    }
    await writeVisits();
    progress.finish(made);
    return made / ((performance.now() - started) / 1000);
  } finally {
    await store.close();
  }
}

const DASHBOARD = (dateRange: string) => [
  {
    metrics: ['visitors', 'visits', 'pageviews', 'views_per_visit', 'bounce_rate', 'visit_duration'],
    dateRange,
  },
  { metrics: ['visitors', 'pageviews'], dateRange, interval: 'day' },
  ...['event:page', 'visit:source', 'visit:device', 'event:name'].map((d) => ({
    metrics: ['visitors', 'pageviews'],
    dimensions: [d],
    dateRange,
    limit: 10,
  })),
];

/** Times whole dashboard loads (six queries at once, as the browser sends them), one load at a time. */
async function dashboards(server: BenchServer, loads: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const range of ['7d', '30d', '90d']) {
    const queries = DASHBOARD(range);
    const load = () =>
      Promise.all(
        queries.map((q) =>
          server.request<{ meta: { source: string } }>(`/v1/sites/${SITE}/query`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(q),
          }),
        ),
      );
    const first = await load();
    if (first.some((r) => r.meta.source !== 'rollups'))
      throw new Error('a dashboard query did not read rollups');
    for (let i = 0; i < 3; i++) await load();
    const latency = new Histogram(0.1);
    const progress = new Progress(`${range} dashboard loads`, loads);
    for (let i = 0; i < loads; i++) {
      const t = performance.now();
      await load();
      latency.record(performance.now() - t);
      progress.update(i + 1);
    }
    progress.finish(loads, `p50 ${ms(latency.percentile(50))}, p95 ${ms(latency.percentile(95))}`);
    figures.push(
      { name: `${range} dashboard (6 queries) p50`, value: latency.percentile(50), unit: 'ms' },
      {
        name: `${range} dashboard (6 queries) p95`,
        value: latency.percentile(95),
        unit: 'ms',
        target: { op: '<=', value: 500 },
      },
    );
  }
  return figures;
}

/** The bench site's goals, for the funnel and the goal breakdown. */
const GOALS: [string, string, unknown][] = [
  ['gl_docs', 'Docs', { page: '/docs/**' }],
  ['gl_signup', 'Signup', { event: 'signup' }],
  ['gl_purchase', 'Purchase', { event: 'purchase' }],
  ['gl_pro', 'Pro download', { event: 'download', props: [['is', 'plan', ['pro']]] }],
];

/** The visit-level analyses timed: a 4-step funnel, journeys from the most visited page, retention, goals. */
const INSIGHTS = (twelveWeeks: [string, string]): [string, string, unknown][] => [
  [
    '4-step funnel, 90 days',
    'funnel',
    {
      steps: [{ page: '/docs/0' }, { goal: 'Docs' }, { goal: 'Signup' }, { goal: 'Purchase' }],
      dateRange: '90d',
    },
  ],
  ['journeys from a page, 3 deep, 90 days', 'journeys', { page: '/docs/0', depth: 3, dateRange: '90d' }],
  ['12-week retention, weekly cohorts', 'retention', { period: 'week', dateRange: twelveWeeks }],
  [
    'goal breakdown with revenue, 90 days',
    'query',
    {
      metrics: ['conversions', 'conversion_rate', 'total_revenue'],
      dimensions: ['event:goal'],
      dateRange: '90d',
    },
  ],
];

/** Times each visit-level analysis over the whole history, one request at a time. */
async function insights(server: BenchServer, loads: number): Promise<Figure[]> {
  const figures: Figure[] = [];
  const today = startOfDay(toLocal(Date.now(), ZONE));
  const twelveWeeks: [string, string] = [formatLocal(today - 83 * DAY, false), formatLocal(today, false)];
  for (const [name, route, body] of INSIGHTS(twelveWeeks)) {
    const ask = () =>
      server.request<{ meta: { sample: { fraction: number } | null } }>(`/v1/sites/${SITE}/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const first = await ask();
    const read = first.meta.sample
      ? `${Math.round(first.meta.sample.fraction * 100)}% of visitors read`
      : 'every visit read';
    for (let i = 0; i < 2; i++) await ask();
    const latency = new Histogram(0.1);
    const progress = new Progress(name, loads);
    for (let i = 0; i < loads; i++) {
      const t = performance.now();
      await ask();
      latency.record(performance.now() - t);
      progress.update(i + 1);
    }
    progress.finish(loads, `p50 ${ms(latency.percentile(50))}, p95 ${ms(latency.percentile(95))} (${read})`);
    figures.push(
      { name: `${name} p50`, value: latency.percentile(50), unit: 'ms' },
      { name: `${name} p95`, value: latency.percentile(95), unit: 'ms', target: { op: '<=', value: 500 } },
    );
  }
  return figures;
}

const event = (n: number) => ({
  n: 'pageview',
  u: `https://collect.example/p/${n}`,
  r: 'https://www.google.com/',
});

/**
 * Collect throughput beside two baselines on the same server, interleaved (A B C D D C B A): the no-op
 * route (HTTP, auth and JSON parsing, no append) and durable single messages (the same group-commit
 * append a collect makes). On a shared machine the ratios are what compare between runs.
 */
async function collect(server: BenchServer, seconds: number): Promise<{ figures: Figure[]; site: string }> {
  const { id: site } = await server.request<{ id: string }>('/v1/sites', {
    method: 'POST',
    expect: 201,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ domain: 'collect.example' }),
  });
  const spec = {
    path: '/v1/collect',
    contentType: 'text/plain',
    connections: 50,
    seconds,
    headers: { 'user-agent': BROWSER_UA },
  };
  const baseline = { ...spec, contentType: 'application/json', body: JSON.stringify(event(1)) };
  const specs = [
    { ...baseline, label: 'no-op baseline', path: '/bench/noop' },
    { ...baseline, label: 'durable single message', path: '/v1/messages' },
    { ...spec, label: 'collect: 1 event per request', body: JSON.stringify({ s: site, e: [event(1)] }) },
    {
      ...spec,
      label: 'collect: 10 events per request',
      body: JSON.stringify({ s: site, e: Array.from({ length: 10 }, (_, i) => event(i)) }),
    },
  ];
  step('warming up');
  for (const s of specs) await runLoad(server, { ...s, seconds: 1 });
  const [noop, messages, one, ten] = (await interleave(server, specs)) as [
    LoadSummary,
    LoadSummary,
    LoadSummary,
    LoadSummary,
  ];
  return {
    site,
    figures: [
      { name: 'no-op baseline', value: noop.okPerSecond, unit: 'req/s' },
      { name: 'durable single message', value: messages.okPerSecond, unit: 'req/s' },
      { name: 'collect, 1 event/request', value: one.okPerSecond, unit: 'events/s' },
      { name: 'collect, 1 event/request p99', value: one.p99, unit: 'ms' },
      { name: 'collect, 10 events/request', value: ten.okPerSecond * 10, unit: 'events/s' },
      { name: 'collect 1/request / no-op', value: one.okPerSecond / noop.okPerSecond, unit: 'ratio' },
      {
        name: 'collect 1/request / durable message',
        value: one.okPerSecond / messages.okPerSecond,
        unit: 'ratio',
      },
      {
        name: 'collect 10/request requests / no-op',
        value: ten.okPerSecond / noop.okPerSecond,
        unit: 'ratio',
      },
    ],
  };
}

/** From a collect's 202 to the event counted by the stats API, polled every 10 ms; after the sink caught up. */
async function freshness(server: BenchServer, site: string, probes: number): Promise<Figure[]> {
  const pageviews = async () =>
    (
      await server.request<{ results: { metrics: number[] }[] }>(`/v1/sites/${site}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ metrics: ['pageviews'], dateRange: 'day' }),
      })
    ).results[0]!.metrics[0]!;
  const progress = new Progress('waiting for the sink to project the collect load');
  let last = -1;
  for (;;) {
    const now = await pageviews();
    if (now === last) break;
    last = now;
    progress.update(now);
    await new Promise((r) => setTimeout(r, 2000));
  }
  progress.finish(last, 'settled');
  const latency = new Histogram(1);
  for (let i = 0; i < probes; i++) {
    const before = await pageviews();
    const t = performance.now();
    const res = await fetch(server.url + '/v1/collect', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': BROWSER_UA },
      body: JSON.stringify({ s: site, e: [event(i)] }),
    });
    if (res.status !== 202) throw new Error(`collect answered ${res.status}`);
    while ((await pageviews()) === before) await new Promise((r) => setTimeout(r, 10));
    latency.record(performance.now() - t);
  }
  return [
    { name: 'freshness (202 → in stats) p50', value: latency.percentile(50), unit: 'ms' },
    {
      name: 'freshness (202 → in stats) max',
      value: latency.percentile(100),
      unit: 'ms',
      target: { op: '<=', value: 60_000 },
    },
  ];
}

export async function runAnalytics(options: BenchOptions): Promise<BenchReport> {
  const figures: Figure[] = [];
  for (const file of ['agent.js', 'agent.mjs']) {
    const code = readFileSync(new URL(`../agent/dist/${file}`, import.meta.url));
    figures.push({
      name: `agent ${file} gzipped`,
      value: gzipSync(code, { level: 9 }).length,
      unit: 'bytes',
      target: { op: '<=', value: 1536 },
    });
  }
  // `--only collect` (or dashboards, insights, freshness) runs just those parts; dashboards and insights
  // need history.
  const parts = new Set(
    ['dashboards', 'insights', 'collect', 'freshness'].filter((p) => options.only.includes(p)),
  );
  const run = (part: string) => parts.size === 0 || parts.has(part);
  const total = options.quick ? 1_000_000 : 10_000_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-bench-analytics-'));
  const history = run('dashboards') || run('insights');
  if (history) {
    step(`${TITLE}: generating ${count(total)} events of history over ${HISTORY_DAYS} days`);
    figures.push({
      name: `history generation (${count(total)} events)`,
      value: await generateHistory(dataDir, total),
      unit: 'events/s',
    });
  }
  step(`${TITLE}: starting a Beacon${history ? ' on that history' : ''}`);
  const server = await startServer({
    profileDir: options.profileDir,
    flags: { dataDir, 'analytics.addressPerSecond': 0, 'analytics.sitePerSecond': 0 },
  });
  try {
    if (run('dashboards')) figures.push(...(await dashboards(server, options.quick ? 10 : 50)));
    if (run('insights')) figures.push(...(await insights(server, options.quick ? 5 : 20)));
    if (run('collect') || run('freshness')) {
      const { figures: collected, site } = await collect(server, options.quick ? 4 : 10);
      if (run('collect')) figures.push(...collected);
      if (run('freshness')) figures.push(...(await freshness(server, site, options.quick ? 5 : 20)));
    }
    printTable(TITLE, figures);
    return { title: TITLE, figures };
  } finally {
    step(`${TITLE}: stopping the server`);
    await server.close();
  }
}

if (import.meta.main) await runAnalytics(parseBenchOptions());
