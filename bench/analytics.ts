/**
 * Web analytics. (a) The agent's gzipped size. (b) Dashboards over long history: generates 10 million
 * page views and events over 90 days (1 million with --quick) through the projection's own code, straight
 * into a store, then times the dashboard a browser loads (totals, chart and four top lists, six queries
 * at once) for 7, 30 and 90 days. (c) `POST /v1/collect` events/s, one event per request and ten. (d)
 * Freshness: from a collect's 202 to the event counted in the stats API.
 *
 *   node bench/analytics.ts [--quick] [--only collect,dashboards,freshness] [--profile DIR]
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { SessionRow, Site } from '../src/analytics/model.ts';
import { projectEvents, type CollectedEvent } from '../src/analytics/event-rules.ts';
import { DAY, fromLocal, startOfDay, toLocal } from '../src/analytics/time-zone.ts';
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
 * Writes `total` events' worth of rollups for one site over 90 days ending today. Events go through the
 * same session and rollup code as the sink (projectEvents), with sessions and "seen" sets in memory
 * rather than in the store, which is what makes 10 million take a minute instead of an hour. Raw event
 * rows are not written: the dashboards read only rollups.
 */
async function generateHistory(dataDir: string, total: number): Promise<number> {
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
      saltRotation: 'daily',
      currency: 'USD',
      createdAt: Date.now(),
    };
    await store.transaction((tx) => tx.analytics.createSite(site));
    const rand = random(42);
    const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
    // Page popularity falls off like a power law, as on real sites.
    const page = () => `/docs/${Math.floor(200 * rand() ** 3)}`;
    const perDay = Math.ceil(total / HISTORY_DAYS);
    const today = startOfDay(toLocal(Date.now(), ZONE));
    const progress = new Progress(`generating ${count(total)} events`, total);
    let made = 0;
    for (let d = 0; d < HISTORY_DAYS; d++) {
      const dayStart = fromLocal(today - (HISTORY_DAYS - 1 - d) * DAY, ZONE);
      const events: CollectedEvent[] = [];
      const visitorsToday = Math.ceil(perDay / 4);
      while (events.length < perDay && made + events.length < total) {
        const visitor = `v${d}-${Math.floor(rand() * visitorsToday)}`;
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
            });
          }
          ts += Math.floor(rand() * 300_000);
        }
      }
      // Visitor ids are per day (daily salt), so no session carries over midnight.
      const batch = projectEvents(site, events, new Map<string, SessionRow>());
      batch.rollups.countAllVisitors();
      await store.transaction((tx) => tx.analytics.addRollups('default', SITE, batch.rollups.deltas()));
      made += events.length;
      progress.update(made);
    }
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
  // `--only collect` (or dashboards, freshness) runs just those parts; only dashboards need history.
  const parts = new Set(['dashboards', 'collect', 'freshness'].filter((p) => options.only.includes(p)));
  const run = (part: string) => parts.size === 0 || parts.has(part);
  const total = options.quick ? 1_000_000 : 10_000_000;
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-bench-analytics-'));
  if (run('dashboards')) {
    step(`${TITLE}: generating ${count(total)} events of history over ${HISTORY_DAYS} days`);
    figures.push({
      name: `history generation (${count(total)} events)`,
      value: await generateHistory(dataDir, total),
      unit: 'events/s',
    });
  }
  step(`${TITLE}: starting a Beacon${run('dashboards') ? ' on that history' : ''}`);
  const server = await startServer({
    profileDir: options.profileDir,
    flags: { dataDir, 'analytics.addressPerSecond': 0, 'analytics.sitePerSecond': 0 },
  });
  try {
    if (run('dashboards')) figures.push(...(await dashboards(server, options.quick ? 10 : 50)));
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
