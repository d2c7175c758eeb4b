/**
 * The occupancy counting sink alone, on each store: the real sink (`startSink` with the occupancy
 * projection) drains one embedded log of N sensor events (the pattern of bench/occupancy.ts: 1,000
 * sensors on the doorways of 100 rooms in 10 floors, events in time order, as dense as its 10
 * million over 10 days) into a
 * fresh SQLite store and a fresh PostgreSQL database, in the order SQLite, PostgreSQL, PostgreSQL,
 * SQLite. Beside events/s (wall time, which load elsewhere on the machine weighs on) it reports this
 * process's CPU time per 1,000 events, which the load does not change much; on PostgreSQL the
 * server's own CPU is not in it.
 *
 *   node bench/occupancy-sink.ts [--quick] [--events N] [--store sqlite|postgres|both] [--batch N]
 *
 * `--batch` sets the most records a sink batch holds (`sink.batchSize`, 5,000 by default): a sink
 * that keeps up with ingest gets smaller batches, about one POST's 1,000 events each.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { loadConfig } from '../src/config/load.ts';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.ts';
import type { NewRecord } from '../src/log/record.ts';
import { occupancyProjection } from '../src/occupancy/projection.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { postgresStore } from '../src/roles/store-postgres.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../src/roles/store.ts';
import { startSink } from '../src/sink/sink.ts';
import { adminQuery, PG_SERVER } from './lib/distributed.ts';
import { count } from './lib/format.ts';
import { note, Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';

const SENSORS = 1000;
const FLOORS = 10;
const ROOMS = 100;
const DAYS = 10;
const FULL_EVENTS = 10_000_000;
const TENANT = 'default';
const logger = pino({ level: 'silent' });

type Backend = 'sqlite' | 'postgres';

async function freshStore(backend: Backend): Promise<{ store: BeaconStore; remove: () => Promise<void> }> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'beacon-bench-occ-sink-'));
    const store = sqliteStore({ dataDir: dir });
    await store.open();
    return { store, remove: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) };
  }
  const name = `beacon_bench_occ_sink_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const store = postgresStore({ url: `${PG_SERVER}/${name}`, maintenanceIntervalMs: 0 });
  await store.open();
  return { store, remove: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const room = (r: number) => `room-${Math.floor(r / (ROOMS / FLOORS))}-${r % (ROOMS / FLOORS)}`;

/** Building › floors › rooms, a doorway from each room to the outside and a sensor on each. */
async function createModel(store: BeaconStore, from: number): Promise<void> {
  await store.transaction(async (tx) => {
    const o = tx.occupancy;
    await o.insertSpace(TENANT, { id: 'building', name: 'Building', parent: null, createdAt: from });
    for (let f = 0; f < FLOORS; f++)
      await o.insertSpace(TENANT, {
        id: `floor-${f}`,
        name: `Floor ${f}`,
        parent: 'building',
        createdAt: from,
      });
    for (let r = 0; r < ROOMS; r++)
      await o.insertSpace(TENANT, {
        id: room(r),
        name: room(r),
        parent: `floor-${Math.floor(r / (ROOMS / FLOORS))}`,
        createdAt: from,
      });
    for (let i = 0; i < SENSORS; i++) {
      await o.insertSensor(TENANT, { id: `sensor-${i}`, name: `sensor-${i}`, createdAt: from });
      await o.insertDoorway(TENANT, {
        id: `door-${i}`,
        name: `door ${i}`,
        a: room(i % ROOMS),
        b: null,
        createdAt: from,
      });
      await o.insertPlacement(TENANT, {
        id: `p-${i}`,
        sensor: `sensor-${i}`,
        doorway: `door-${i}`,
        positive: 'a',
        from,
        to: null,
        createdAt: from,
      });
    }
  });
}

/** Fills the log with `n` crossings in time order, each sensor in turn, as POST /v1/sensor-events writes them. */
async function seed(log: EmbeddedLog, n: number, from: number, span: number): Promise<void> {
  const progress = new Progress('seeding the log', n);
  let s = 4;
  const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let done = 0; done < n;) {
    const records: NewRecord[] = [];
    for (let i = done; i < Math.min(n, done + 1000); i++) {
      const sensor = `sensor-${i % SENSORS}`;
      const ts = from + Math.floor((i / n) * span);
      const direction = rnd() < 0.505 ? 1 : -1;
      records.push({
        stream: 'sensor-events',
        tenant: TENANT,
        key: `seq:${String(ts).padStart(15, '0')}:${sensor}:${direction}:${i}`,
        entity: sensor,
        id: uuidv7(),
        ts,
        receivedAt: ts + 1000,
        body: { sensor, direction },
      });
    }
    await log.append(records);
    done += records.length;
    progress.update(done);
  }
  progress.finish(n);
}

interface Drain {
  readonly rate: number;
  readonly cpuMsPer1000: number;
  readonly load: number;
}

async function drain(
  log: EmbeddedLog,
  backend: Backend,
  n: number,
  from: number,
  batchSize: number,
): Promise<Drain> {
  const { store, remove } = await freshStore(backend);
  try {
    await createModel(store, from);
    const end = (await log.endOffsets('sensor-events')).get(0) ?? 0;
    const progress = new Progress(`occupancy sink into ${backend}`, end, ' offsets');
    const cpu = process.cpuUsage();
    const started = performance.now();
    const sink = startSink({
      log,
      store,
      projection: occupancyProjection,
      batchSize,
      config: loadConfig(),
      metrics: new Metrics(),
      logger,
    });
    for (;;) {
      const [checkpoint] = await store.checkpoints(occupancyProjection.group, 'sensor-events');
      if ((checkpoint?.offset ?? 0) >= end) break;
      progress.update(checkpoint?.offset ?? 0);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const load = loadavg()[0]!;
    await sink.close();
    const building = await store.occupancy.steps(TENANT, 'building', [
      { level: 'day', from: 0, to: Number.MAX_SAFE_INTEGER, total: true },
    ]);
    const rate = n / seconds;
    const cpuMsPer1000 = ((used.user + used.system) / 1000 / n) * 1000;
    progress.finish(
      end,
      `${count(rate)} events/s, ${cpuMsPer1000.toFixed(1)} ms CPU per 1,000 events, building raw ${building[0]?.[0] ?? 0}, load ${load.toFixed(2)}`,
    );
    return { rate, cpuMsPer1000, load };
  } finally {
    await store.close();
    await remove();
  }
}

export async function runOccupancySink(
  options: { quick: boolean },
  events?: number,
  backends: readonly Backend[] = ['sqlite', 'postgres'],
  batchSize = loadConfig().sink.batchSize,
): Promise<BenchReport> {
  const n = events ?? (options.quick ? 50_000 : 500_000);
  step(
    `occupancy sink: ${count(n)} sensor events from 1,000 sensors, ${backends.join(' vs ')}, batches of up to ${count(batchSize)}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'beacon-bench-occ-sink-log-'));
  const log = new EmbeddedLog({ dataDir: dir, maxQueue: 1_000_000, logger });
  await log.open();
  // As dense as bench/occupancy.ts's 10 million events over 10 days (about 700 a minute), so a
  // batch touches as many minutes, hours and days as there: a shorter run is a slice of that one.
  const span = Math.ceil((DAYS * 86_400_000 * n) / FULL_EVENTS);
  const from = Date.UTC(2026, 0, 1);
  try {
    await seed(log, n, from, span);
    const order = backends.length === 2 ? (['sqlite', 'postgres', 'postgres', 'sqlite'] as const) : backends;
    const runs: Record<Backend, Drain[]> = { sqlite: [], postgres: [] };
    for (const backend of order) runs[backend].push(await drain(log, backend, n, from, batchSize));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    note('each figure is the mean of the drains of one store; each drain reads the same log from offset 0');
    const figures: Figure[] = [];
    for (const backend of backends) {
      const label = backend === 'sqlite' ? 'SQLite' : 'PostgreSQL';
      const load = mean(runs[backend].map((r) => r.load));
      figures.push(
        {
          name: `occupancy sink into ${label}`,
          value: mean(runs[backend].map((r) => r.rate)),
          unit: 'events/s',
          load,
        },
        {
          name: `${label}: sink CPU per 1,000 events (this process)`,
          value: mean(runs[backend].map((r) => r.cpuMsPer1000)),
          unit: 'ms',
          load,
        },
      );
    }
    printTable('Occupancy sink by store', figures);
    return { title: 'Occupancy sink', figures };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      events: { type: 'string' },
      store: { type: 'string', default: 'both' },
      batch: { type: 'string' },
    },
  });
  const backends: Backend[] = values.store === 'both' ? ['sqlite', 'postgres'] : [values.store as Backend];
  await runOccupancySink(
    { quick: values.quick },
    values.events ? Number(values.events) : undefined,
    backends,
    values.batch ? Number(values.batch) : undefined,
  );
}
