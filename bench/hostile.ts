/**
 * Hostile and heavy requests against a live server: each route's worst case is sent over and over
 * (two at a time) while `/healthz` is asked every 10 ms, and the table reports how long the worst
 * case took and how long `/healthz` had to wait beside it, against `/healthz` alone in the same run.
 * A request that held the event loop shows as a `/healthz` maximum of about its own duration.
 *
 *   node bench/hostile.ts [--quick]
 */
import { ms } from './lib/format.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { Histogram, type LatencySummary } from './lib/percentiles.ts';
import { note, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { BENCH_TOKEN, startServer, type BenchServer } from './lib/server.ts';

const TITLE = 'Hostile';
const HEALTH_EVERY_MS = 10;
/** A request that has not answered by then is abandoned and reported as such. */
const REQUEST_TIMEOUT_MS = 60_000;
/** The most `/healthz` may wait beside any one request: anything longer held the event loop. */
const HEALTH_MAX_TARGET_MS = 250;

interface Case {
  readonly name: string;
  readonly request: () => Promise<Response>;
}

/** Samples `/healthz` latency until `stop` resolves. */
async function sampleHealth(url: string, stop: Promise<void>): Promise<Histogram> {
  const latency = new Histogram(0.1);
  let stopped = false;
  void stop.then(() => (stopped = true));
  while (!stopped) {
    const started = performance.now();
    await fetch(`${url}/healthz`).then((r) => r.arrayBuffer());
    latency.record(performance.now() - started);
    await new Promise((r) => setTimeout(r, HEALTH_EVERY_MS));
  }
  return latency;
}

/** Runs `kase` two at a time for `seconds`, sampling `/healthz` beside it. */
async function measure(
  server: BenchServer,
  kase: Case,
  seconds: number,
): Promise<{ request: LatencySummary; health: LatencySummary; statuses: Set<string> }> {
  const request = new Histogram(0.1);
  const statuses = new Set<string>();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const health = sampleHealth(server.url, done);
  const until = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      try {
        const response = await kase.request();
        await response.arrayBuffer();
        statuses.add(String(response.status));
      } catch (err) {
        statuses.add((err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message);
      }
      request.record(performance.now() - started);
    }
  };
  await Promise.all([worker(), worker()]);
  finish();
  return { request: request.summary(), health: (await health).summary(), statuses };
}

const json = (body: string, path: string, server: BenchServer, type = 'application/json') =>
  fetch(server.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_TOKEN}`, 'content-type': type },
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
const get = (path: string, server: BenchServer) =>
  fetch(server.url + path, {
    headers: { authorization: `Bearer ${BENCH_TOKEN}` },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });

/** Creates what the cases read: large messages, a target, a space with a sensor, a site. */
async function seed(server: BenchServer): Promise<{ site: string }> {
  step('seeding: 200 messages of 60 KB, a target, a space with a placed sensor and events, a site');
  const big = JSON.stringify({ pad: 'x'.repeat(60_000) });
  for (let i = 0; i < 4; i++) {
    await server.request('/v1/messages/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `[${Array.from({ length: 50 }, () => big).join(',')}]`,
      expect: 202,
    });
  }
  const post = (path: string, body: unknown) =>
    server.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      expect: 201,
    });
  await post('/v1/targets', { id: 'web', url: 'http://127.0.0.1:9/', intervalSeconds: 60 });
  await post('/v1/spaces', { id: 'hall', name: 'Hall' });
  await post('/v1/sensors', { id: 'door', name: 'Door' });
  await post('/v1/doorways', { id: 'main', name: 'Main', a: 'hall', b: null });
  await post('/v1/placements', {
    sensor: 'door',
    doorway: 'main',
    positive: 'a',
    from: '2020-01-01T00:00:00.000Z',
  });
  const now = Date.now();
  await server.request('/v1/sensor-events', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      Array.from({ length: 500 }, (_, i) => ({
        sensor: 'door',
        direction: i % 3 === 0 ? -1 : 1,
        ts: new Date(now - i * 60_000).toISOString(),
      })),
    ),
    expect: 202,
  });
  const site = await server.request<{ id: string }>('/v1/sites', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ domain: 'shop.example' }),
    expect: 201,
  });
  await server.waitForSink('sink storing the seed');
  return { site: site.id };
}

export async function runHostile(options: BenchOptions): Promise<BenchReport> {
  const seconds = options.quick ? 2 : 8;
  step(`${TITLE}: starting a Beacon in a child process (occupancy.resetTime 04:00)`);
  const server = await startServer({ flags: { 'occupancy.resetTime': '04:00' } });
  try {
    const { site } = await seed(server);
    const deep = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);
    const batch = `[${Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i, pad: 'y'.repeat(4_000) })).join(',')}]`;
    const minutes = 10_000;
    const summaryFrom = new Date(Date.now() - minutes * 60_000).toISOString();
    const cases: Case[] = [
      { name: 'deep JSON (5,000 levels)', request: () => json(deep, '/v1/messages', server) },
      {
        name: 'batch of 1,000 × 4 KB (the 4 MiB limit)',
        request: () => json(batch, '/v1/messages/batch', server),
      },
      { name: 'messages page, limit 1,000 of 60 KB', request: () => get('/v1/messages?limit=1000', server) },
      {
        name: 'target summary, 10,000 minute buckets',
        request: () => get(`/v1/targets/web/summary?bucket=minute&from=${summaryFrom}`, server),
      },
      {
        name: 'space counts, 1526 to 2026 in 5 buckets',
        request: () =>
          get(
            '/v1/spaces/hall/counts?from=1526-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=876000h',
            server,
          ),
      },
      {
        name: 'space count at year 9999',
        request: () => get('/v1/spaces/hall/count?at=9999-12-31T00:00:00Z', server),
      },
      {
        name: 'site query, 10 years by hour',
        request: () =>
          json(
            JSON.stringify({
              metrics: ['visitors', 'pageviews'],
              dateRange: ['2016-01-01', '2026-01-01'],
              interval: 'hour',
            }),
            `/v1/sites/${site}/query`,
            server,
          ),
      },
      { name: 'OpenAPI document', request: () => get('/openapi.json', server) },
    ];

    step(`baseline: /healthz alone for ${seconds} s`);
    let finish!: () => void;
    const stop = new Promise<void>((r) => (finish = r));
    const baselineRun = sampleHealth(server.url, stop);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    finish();
    const baseline = (await baselineRun).summary();
    note(`/healthz alone: p50 ${ms(baseline.p50)}, p99 ${ms(baseline.p99)}, max ${ms(baseline.max)}`);

    const figures: Figure[] = [
      { name: '/healthz alone, p99', value: baseline.p99, unit: 'ms' },
      { name: '/healthz alone, max', value: baseline.max, unit: 'ms' },
    ];
    for (const [i, kase] of cases.entries()) {
      step(`case ${i + 1} of ${cases.length}: ${kase.name}, two at a time for ${seconds} s`);
      const { request, health, statuses } = await measure(server, kase, seconds);
      note(
        `answers ${[...statuses].join(', ')}; request p50 ${ms(request.p50)}, max ${ms(request.max)}; ` +
          `/healthz beside it p99 ${ms(health.p99)}, max ${ms(health.max)}`,
      );
      figures.push(
        { name: `${kase.name}: request p50 (${[...statuses].join('/')})`, value: request.p50, unit: 'ms' },
        { name: `${kase.name}: /healthz p99 beside it`, value: health.p99, unit: 'ms' },
        {
          name: `${kase.name}: /healthz max beside it`,
          value: health.max,
          unit: 'ms',
          target: { op: '<=', value: HEALTH_MAX_TARGET_MS },
        },
      );
    }
    printTable(TITLE, figures);
    return { title: TITLE, figures };
  } finally {
    step(`${TITLE}: stopping the server`);
    await server.close();
  }
}

if (import.meta.main) await runHostile(parseBenchOptions());
