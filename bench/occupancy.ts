/**
 * Occupancy at scale: 1,000 sensors on the doorways of 100 rooms (10 floors, 1 building), and 10
 * million crossings over 10 days, posted in batches of 1,000 through `POST /v1/sensor-events`.
 * Reports:
 *   - ingest events/s (accepted: every 202 in; stored: the counts projected too);
 *   - `GET /v1/spaces/:id/count?at=T` latency over random spaces and times (target p99 ≤ 5 ms);
 *   - how long one day-late event takes to reconcile: from its POST until count?at=T shows it.
 *
 *   node bench/occupancy.ts [--quick] [--events N] [--profile DIR]
 */
import { parseArgs } from 'node:util';
import { count } from './lib/format.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { Histogram } from './lib/percentiles.ts';
import { note, Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';
import { startServer, type BenchServer } from './lib/server.ts';

const TITLE = 'Occupancy';
const SENSORS = 1000;
const FLOORS = 10;
const ROOMS_PER_FLOOR = 10;
const BATCH = 1000;
const CONNECTIONS = 4;
const DAYS = 10;
const QUERIES = 5000;
const LATE_EVENTS = 20;

interface Event {
  sensor: string;
  ts: string;
  direction: 1 | -1;
}

const room = (i: number) => `room-${Math.floor(i / ROOMS_PER_FLOOR)}-${i % ROOMS_PER_FLOOR}`;
const sensorId = (i: number) => `sensor-${i}`;

/** A small deterministic generator, so every run posts the same events. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

async function ingest(server: BenchServer, total: number, from: number, span: number): Promise<Figure[]> {
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
  progress.finish(posted);
  await server.waitForSink('projecting counts');
  const storedSeconds = (performance.now() - started) / 1000;
  note(
    `${count(posted)} events accepted in ${acceptedSeconds.toFixed(1)} s, counted in ${storedSeconds.toFixed(1)} s`,
  );
  return [
    { name: 'ingest: accepted (202)', value: posted / acceptedSeconds, unit: 'events/s' },
    { name: 'ingest: accepted and counted', value: posted / storedSeconds, unit: 'events/s' },
  ];
}

async function countAtLatency(server: BenchServer, from: number, span: number): Promise<Figure[]> {
  const spaces = [
    'building',
    ...Array.from({ length: FLOORS }, (_, f) => `floor-${f}`),
    ...Array.from({ length: FLOORS * ROOMS_PER_FLOOR }, (_, r) => room(r)),
  ];
  const rnd = random(7);
  const histogram = new Histogram(0.01);
  const progress = new Progress('count?at=T queries', QUERIES);
  for (let i = 0; i < QUERIES; i++) {
    const space = spaces[Math.floor(rnd() * spaces.length)]!;
    const at = new Date(from + Math.floor(rnd() * span)).toISOString();
    const t0 = performance.now();
    await server.request(`/v1/spaces/${space}/count?at=${at}`);
    histogram.record(performance.now() - t0);
    progress.update(i + 1);
  }
  progress.finish(QUERIES);
  const s = histogram.summary();
  return [
    { name: 'count?at=T p50', value: s.p50, unit: 'ms' },
    { name: 'count?at=T p99', value: s.p99, unit: 'ms', target: { op: '<=', value: 5 } },
  ];
}

/** Posts one crossing dated a day back into the middle of history and waits until count?at=T includes it. */
async function lateEvent(server: BenchServer, to: number): Promise<Figure[]> {
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
  return [
    { name: 'day-late event reconciled (p50)', value: s.p50, unit: 'ms' },
    { name: 'day-late event reconciled (max)', value: s.max, unit: 'ms' },
  ];
}

export async function runOccupancy(options: BenchOptions, events?: number): Promise<BenchReport> {
  const total = events ?? (options.quick ? 100_000 : 10_000_000);
  const span = DAYS * 86_400_000;
  // History ends a day ago, so the day-late events land inside it.
  const to = Date.now() - 86_400_000;
  const from = to - span;
  step(`${TITLE}: starting a Beacon in a child process (${count(SENSORS)} sensors, ${count(total)} events)`);
  const server = await startServer({
    profileDir: options.profileDir,
    flags: { 'ingest.queueMax': 1_000_000 },
  });
  try {
    await createModel(server, from - 86_400_000);
    const figures = [
      ...(await ingest(server, total, from, span)),
      ...(await countAtLatency(server, from, span)),
      ...(await lateEvent(server, to)),
    ];
    printTable(`${TITLE} (${count(total)} events)`, figures);
    return { title: TITLE, figures };
  } finally {
    step(`${TITLE}: stopping the server`);
    await server.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { events: { type: 'string' }, quick: { type: 'boolean' }, profile: { type: 'string' } },
  });
  await runOccupancy(
    parseBenchOptions([
      ...(values.quick ? ['--quick'] : []),
      ...(values.profile ? ['--profile', values.profile] : []),
    ]),
    values.events === undefined ? undefined : Number(values.events),
  );
}
