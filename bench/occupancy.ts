/**
 * Occupancy at scale: 1,000 sensors on the doorways of 100 rooms (10 floors, 1 building), and 10
 * million crossings over 10 days, posted in batches of 1,000 through `POST /v1/sensor-events`, into
 * a Beacon on SQLite and then one on PostgreSQL. For each it reports:
 *   - ingest events/s (accepted: every 202 in; accepted and counted: the sink caught up too;
 *     target ≥ 35,000/s on SQLite, ≥ 20,000/s on PostgreSQL);
 *   - `GET /v1/spaces/:id/count?at=T` latency over random spaces and times (target p99 ≤ 5 ms);
 *   - the space page's chart query over a month (`GET /v1/spaces/:id/counts`, 1 h buckets) p95;
 *   - how long one day-late event takes to reconcile: from its POST until count?at=T shows it;
 * each with the 1-minute load average when it was measured (the machine may be shared).
 *
 * A shorter run (--quick: 100,000 events) is a slice of the full one, as dense: the same events a
 * minute over fewer days. `--sink-thread` runs the server's sinks on their own thread (`sink.thread`).
 *
 *   node bench/occupancy.ts [--quick] [--events N] [--store sqlite|postgres|both] [--sink-thread] [--keep] [--profile DIR]
 *
 * `--keep` leaves the PostgreSQL database in place and prints its name, for EXPLAIN by hand.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { count } from './lib/format.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { Histogram } from './lib/percentiles.ts';
import { note, Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { startServer, type BenchServer } from './lib/server.ts';
import { random } from '../test/helpers/random.ts';

const TITLE = 'Occupancy';
const SENSORS = 1000;
const FLOORS = 10;
const ROOMS_PER_FLOOR = 10;
const BATCH = 1000;
const CONNECTIONS = 4;
const DAYS = 10;
/** The full run's events, over DAYS days. */
const FULL_EVENTS = 10_000_000;
const QUERIES = 5000;
/** prom-client's eventLoopMonitoringPrecision (its default, which Beacon keeps). */
const LAG_SAMPLING_MS = 10;
const CHARTS = 200;
const LATE_EVENTS = 20;
const PG_SERVER = 'postgres://beacon@127.0.0.1:15432';

type Backend = 'sqlite' | 'postgres';
/** The store flag of each backend, and how to remove what it made. */
interface StoreUnderTest {
  readonly flags: Record<string, unknown>;
  remove(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** SQLite in the server's data directory, or a fresh database on the test PostgreSQL (kept with `keep`). */
async function storeOf(backend: Backend, keep: boolean): Promise<StoreUnderTest> {
  if (backend === 'sqlite') return { flags: {}, remove: () => Promise.resolve() };
  const name = `beacon_bench_occ_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  return {
    flags: { store: `${PG_SERVER}/${name}` },
    remove: () => {
      if (!keep) return admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      note(`kept the database ${PG_SERVER}/${name}`);
      return Promise.resolve();
    },
  };
}

/** The 1-minute load average now. */
const load = () => loadavg()[0]!;

const SPACES = [
  'building',
  ...Array.from({ length: FLOORS }, (_, f) => `floor-${f}`),
  ...Array.from({ length: FLOORS * ROOMS_PER_FLOOR }, (_, r) => room(r)),
];

interface Event {
  sensor: string;
  ts: string;
  direction: 1 | -1;
}

function room(i: number): string {
  return `room-${Math.floor(i / ROOMS_PER_FLOOR)}-${i % ROOMS_PER_FLOOR}`;
}
const sensorId = (i: number) => `sensor-${i}`;

/** Building › floors › rooms; each sensor watches its own doorway from a room to the outside. */
async function createModel(server: BenchServer, from: number): Promise<void> {
  const post = (path: string, body: unknown) =>
    server.request(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      expect: 201,
    });
  await post('/v1/spaces', { id: 'building', name: 'Building' });
  for (let f = 0; f < FLOORS; f++)
    await post('/v1/spaces', { id: `floor-${f}`, name: `Floor ${f}`, parent: 'building' });
  for (let r = 0; r < FLOORS * ROOMS_PER_FLOOR; r++) {
    await post('/v1/spaces', {
      id: room(r),
      name: room(r),
      parent: `floor-${Math.floor(r / ROOMS_PER_FLOOR)}`,
    });
  }
  const progress = new Progress('model: sensors, doorways, placements', SENSORS);
  for (let i = 0; i < SENSORS; i++) {
    const r = i % (FLOORS * ROOMS_PER_FLOOR);
    await post('/v1/sensors', { id: sensorId(i), name: sensorId(i) });
    await post('/v1/doorways', { id: `door-${i}`, name: `door ${i}`, a: room(r), b: null });
    await post('/v1/placements', {
      sensor: sensorId(i),
      doorway: `door-${i}`,
      positive: 'a',
      from: new Date(from).toISOString(),
    });
    progress.update(i + 1);
  }
  progress.finish(SENSORS);
}

/** Batch `b` of the stream: events in time order, each sensor in turn, entries slightly ahead of exits. */
function batchBody(b: number, total: number, from: number, span: number, rnd: () => number): string {
  const events: Event[] = [];
  const first = b * BATCH;
  for (let i = first; i < Math.min(total, first + BATCH); i++) {
    events.push({
      sensor: sensorId(i % SENSORS),
      ts: new Date(from + Math.floor((i / total) * span)).toISOString(),
      direction: rnd() < 0.505 ? 1 : -1,
    });
  }
  return JSON.stringify(events);
}

async function ingest(
  server: BenchServer,
  total: number,
  from: number,
  span: number,
  label: string,
): Promise<Figure[]> {
  const batches = Math.ceil(total / BATCH);
  const rnd = random(4);
  const progress = new Progress('posting events', total);
  let next = 0;
  let posted = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      for (;;) {
        const b = next++;
        if (b >= batches) return;
        const body = batchBody(b, total, from, span, rnd);
        const answer = await server.request<{ accepted: number }>('/v1/sensor-events', {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          expect: 202,
        });
        posted += answer.accepted;
        progress.update(posted);
      }
    }),
  );
  const acceptedSeconds = (performance.now() - started) / 1000;
  const acceptedLoad = load();
  progress.finish(posted);
  await server.waitForSink('projecting counts');
  const storedSeconds = (performance.now() - started) / 1000;
  note(
    `${count(posted)} events accepted in ${acceptedSeconds.toFixed(1)} s, counted in ${storedSeconds.toFixed(1)} s`,
  );
  return [
    {
      name: `${label}: ingest accepted (202)`,
      value: posted / acceptedSeconds,
      unit: 'events/s',
      load: acceptedLoad,
    },
    {
      name: `${label}: ingest accepted and counted`,
      value: posted / storedSeconds,
      unit: 'events/s',
      target: { op: '>=', value: label.startsWith('SQLite') ? 35_000 : 20_000 },
      load: load(),
    },
  ];
}

async function countAtLatency(
  server: BenchServer,
  from: number,
  span: number,
  label: string,
): Promise<Figure[]> {
  const spaces = SPACES;
  const rnd = random(7);
  const histogram = new Histogram(0.01);
  const progress = new Progress('count?at=T queries', QUERIES);
  // The server's event-loop delay over the counts (prom-client's histogram restarts at each scrape).
  await eventLoopDelay(server);
  for (let i = 0; i < QUERIES; i++) {
    const space = spaces[Math.floor(rnd() * spaces.length)]!;
    const at = new Date(from + Math.floor(rnd() * span)).toISOString();
    const t0 = performance.now();
    await server.request(`/v1/spaces/${space}/count?at=${at}`);
    histogram.record(performance.now() - t0);
    progress.update(i + 1);
  }
  progress.finish(QUERIES);
  const delay = await eventLoopDelay(server);
  note(
    `${label}: the server's event loop over the counts was delayed (beyond the 10 ms sampling timer) p50 ${delay.p50.toFixed(2)} ms, p99 ${delay.p99.toFixed(2)} ms, max ${delay.max.toFixed(1)} ms`,
  );
  const s = histogram.summary();
  const now = load();
  return [
    { name: `${label}: count?at=T p50`, value: s.p50, unit: 'ms', load: now },
    { name: `${label}: count?at=T p99`, value: s.p99, unit: 'ms', target: { op: '<=', value: 5 }, load: now },
  ];
}

/**
 * The server's event-loop delay since the last scrape, from its /metrics (prom-client's defaults,
 * restarted at each scrape). prom-client samples with a 10 ms timer and reports the time between its
 * ticks, so an idle loop reads 10 ms: the figures here are beyond that.
 */
async function eventLoopDelay(server: BenchServer): Promise<{ p50: number; p99: number; max: number }> {
  const response = await fetch(`${server.url}/metrics`);
  const text = await response.text();
  const value = (name: string) => {
    const line = new RegExp(`^beacon_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
    if (!line) throw new Error(`/metrics has no beacon_nodejs_eventloop_lag_${name}_seconds`);
    return Math.max(0, Number(line[1]) * 1000 - LAG_SAMPLING_MS);
  };
  return { p50: value('p50'), p99: value('p99'), max: value('max') };
}

/**
 * The space page's month chart: 30 days of 1-hour buckets ending at the history's end, for random
 * spaces (the building's is the heaviest: every crossing moves it).
 */
async function chartLatency(server: BenchServer, to: number, label: string): Promise<Figure[]> {
  const rnd = random(11);
  const histogram = new Histogram(0.01);
  const progress = new Progress('month chart queries', CHARTS);
  const end = Math.ceil(to / 3_600_000) * 3_600_000;
  const query = `from=${new Date(end - 30 * 86_400_000).toISOString()}&to=${new Date(end).toISOString()}&interval=1h`;
  for (let i = 0; i < CHARTS; i++) {
    const space = i % 10 === 0 ? 'building' : SPACES[Math.floor(rnd() * SPACES.length)]!;
    const t0 = performance.now();
    await server.request(`/v1/spaces/${space}/counts?${query}`);
    histogram.record(performance.now() - t0);
    progress.update(i + 1);
  }
  progress.finish(CHARTS);
  const s = histogram.summary();
  return [{ name: `${label}: month chart (1 h buckets) p95`, value: s.p95, unit: 'ms', load: load() }];
}

/** Posts one crossing dated a day back into the middle of history and waits until count?at=T includes it. */
async function lateEvent(server: BenchServer, to: number, label: string): Promise<Figure[]> {
  const histogram = new Histogram(0.01);
  for (let i = 0; i < LATE_EVENTS; i++) {
    const ts = to - 86_400_000 + i * 1000 + 17;
    const at = new Date(ts).toISOString();
    const space = room(i);
    const path = `/v1/spaces/${space}/count?at=${at}`;
    const before = (await server.request<{ raw: number }>(path)).raw;
    const t0 = performance.now();
    await server.request('/v1/sensor-events', {
      method: 'POST',
      body: JSON.stringify([{ sensor: sensorId(i), ts: at, direction: 1, id: `late-${i}` }]),
      headers: { 'content-type': 'application/json' },
      expect: 202,
    });
    while ((await server.request<{ raw: number }>(path)).raw !== before + 1) {
      await new Promise((r) => setImmediate(r));
    }
    histogram.record(performance.now() - t0);
  }
  const s = histogram.summary();
  note(
    `day-late event reconciled: p50 ${s.p50.toFixed(1)} ms, max ${s.max.toFixed(1)} ms over ${LATE_EVENTS}`,
  );
  const now = load();
  return [
    { name: `${label}: day-late event reconciled (p50)`, value: s.p50, unit: 'ms', load: now },
    { name: `${label}: day-late event reconciled (max)`, value: s.max, unit: 'ms', load: now },
  ];
}

/** One Beacon on `backend`: the model, the stream, then the queries. */
async function runOn(
  backend: Backend,
  options: BenchOptions,
  total: number,
  sinkThread: boolean,
  keep: boolean,
): Promise<Figure[]> {
  const label = `${backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'}${sinkThread ? ' (sink thread)' : ''}`;
  // A shorter run is a slice of the full one, as dense (about 700 events a minute): spread over all
  // ten days, 100,000 events would each touch a minute of their own, and every batch would rewrite a
  // hundred times the minute, hour and day rows the full run's batches do.
  const span = Math.ceil((DAYS * 86_400_000 * Math.min(total, FULL_EVENTS)) / FULL_EVENTS);
  // History ends a day ago, so the day-late events land inside it.
  const to = Date.now() - 86_400_000;
  const from = to - span;
  step(
    `${TITLE} on ${label}: starting a Beacon in a child process (${count(SENSORS)} sensors, ${count(total)} events)`,
  );
  const store = await storeOf(backend, keep);
  const server = await startServer({
    profileDir: options.profileDir,
    flags: { 'ingest.queueMax': 1_000_000, 'sink.thread': sinkThread, ...store.flags },
  });
  try {
    await createModel(server, from - 86_400_000);
    return [
      ...(await ingest(server, total, from, span, label)),
      ...(await countAtLatency(server, from, span, label)),
      ...(await chartLatency(server, to, label)),
      ...(await lateEvent(server, to, label)),
    ];
  } finally {
    step(`${TITLE} on ${label}: stopping the server`);
    await server.close();
    await store.remove();
  }
}

export async function runOccupancy(
  options: BenchOptions,
  events?: number,
  backends: readonly Backend[] = ['sqlite', 'postgres'],
  sinkThread = false,
  keep = false,
): Promise<BenchReport> {
  const total = events ?? (options.quick ? 100_000 : FULL_EVENTS);
  const figures: Figure[] = [];
  for (const backend of backends) figures.push(...(await runOn(backend, options, total, sinkThread, keep)));
  printTable(`${TITLE} (${count(total)} events; load = 1-minute load average when measured)`, figures);
  return { title: TITLE, figures };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      events: { type: 'string' },
      quick: { type: 'boolean' },
      profile: { type: 'string' },
      store: { type: 'string', default: 'both' },
      'sink-thread': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  await runOccupancy(
    parseBenchOptions([
      ...(values.quick ? ['--quick'] : []),
      ...(values.profile ? ['--profile', values.profile] : []),
    ]),
    values.events === undefined ? undefined : Number(values.events),
    values.store === 'both' ? ['sqlite', 'postgres'] : [values.store as Backend],
    values['sink-thread'],
    values.keep,
  );
}
