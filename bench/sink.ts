/**
 * Sink throughput into each store backend, measured side by side in one run: the real sink
 * (`startSink` with the messages projection) drains one embedded log holding N message records into a
 * fresh SQLite store and into a fresh PostgreSQL database, in the order SQLite, PostgreSQL,
 * PostgreSQL, SQLite, so that load elsewhere on the machine weighs on both alike.
 *
 *   node bench/sink.ts [--quick]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { loadConfig } from '../src/config/load.ts';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.ts';
import type { NewRecord } from '../src/log/record.ts';
import { messageProjection } from '../src/messages/projection.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { startSink } from '../src/sink/sink.ts';
import { postgresStore } from '../src/roles/store-postgres.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../src/roles/store.ts';
import { adminQuery, PG_SERVER } from './lib/distributed.ts';
import { count } from './lib/format.ts';
import { parseBenchOptions, type BenchOptions } from './lib/options.ts';
import { note, Progress, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';

const PG_SCRIPT = fileURLToPath(new URL('../scripts/postgres', import.meta.url));
const BATCH = 5000;
const logger = pino({ level: 'silent' });

type Backend = 'sqlite' | 'postgres';

/** A fresh, opened store of `backend`, and how to remove it afterwards. */
async function freshStore(backend: Backend): Promise<{ store: BeaconStore; remove: () => Promise<void> }> {
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'beacon-bench-sqlite-'));
    const store = sqliteStore({ dataDir: dir });
    await store.open();
    return {
      store,
      remove: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
    };
  }
  const name = `beacon_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const store = postgresStore({ url: `${PG_SERVER}/${name}`, maintenanceIntervalMs: 0 });
  await store.open();
  return { store, remove: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Fills the log with `n` message records, a thousand per durable commit. */
async function seed(log: EmbeddedLog, n: number): Promise<void> {
  const progress = new Progress('seeding the log', n);
  for (let done = 0; done < n;) {
    const records: NewRecord[] = [];
    for (let i = 0; i < 1000 && done + i < n; i++) {
      const id = uuidv7();
      const now = Date.now();
      records.push({
        stream: 'messages',
        tenant: `tenant-${(done + i) % 10}`,
        key: id,
        entity: '',
        id,
        ts: now,
        receivedAt: now,
        body: { sensor: `s${i % 50}`, value: (done + i) / 10, tags: ['a', 'b'] },
      });
    }
    await log.append(records);
    done += records.length;
    progress.update(done);
  }
  progress.finish(n);
}

/** Runs the sink from offset 0 until it has stored the whole log; returns rows per second. */
async function drain(log: EmbeddedLog, backend: Backend, n: number): Promise<number> {
  const { store, remove } = await freshStore(backend);
  try {
    const end = (await log.endOffsets('messages')).get(0) ?? 0;
    // The log holds only these records, so the checkpoint's offset tracks rows stored (polling a
    // count would itself load the database being measured).
    const progress = new Progress(`sink into ${backend}`, end, ' offsets');
    const started = performance.now();
    const sink = startSink({
      log,
      store,
      projection: messageProjection,
      batchSize: BATCH,
      config: loadConfig(),
      metrics: new Metrics(),
      logger,
    });
    for (;;) {
      const [checkpoint] = await store.checkpoints(messageProjection.group, 'messages');
      if ((checkpoint?.offset ?? 0) >= end) break;
      progress.update(checkpoint?.offset ?? 0);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    await sink.close();
    let stored = 0;
    for (let t = 0; t < 10; t++) stored += await store.messages.count(`tenant-${t}`);
    if (stored !== n) throw new Error(`${backend} holds ${stored} rows, expected ${n}`);
    progress.finish(end, `${count(stored)} rows, ${count(n / seconds)} rows/s`);
    return n / seconds;
  } finally {
    await store.close();
    await remove();
  }
}

export async function runSink(options: BenchOptions): Promise<BenchReport> {
  const n = options.quick ? 20_000 : 200_000;
  step(`sink throughput: ${count(n)} messages, batches of ${count(BATCH)}, SQLite vs PostgreSQL`);
  execFileSync(PG_SCRIPT, ['start'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const dir = mkdtempSync(join(tmpdir(), 'beacon-bench-sink-'));
  const log = new EmbeddedLog({ dataDir: dir, maxQueue: 1_000_000, logger });
  await log.open();
  try {
    await seed(log, n);
    const rates: Record<Backend, number[]> = { sqlite: [], postgres: [] };
    for (const backend of ['sqlite', 'postgres', 'postgres', 'sqlite'] as const) {
      rates[backend].push(await drain(log, backend, n));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    note('each figure is the mean of two drains; each drain reads the same log from offset 0');
    const figures: Figure[] = [
      { name: 'sink into SQLite', value: mean(rates.sqlite), unit: 'rows/s' },
      { name: 'sink into PostgreSQL', value: mean(rates.postgres), unit: 'rows/s' },
      { name: 'PostgreSQL / SQLite', value: mean(rates.postgres) / mean(rates.sqlite), unit: 'ratio' },
    ];
    printTable('Sink throughput by store', figures);
    return { title: 'Sink', figures };
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runSink(parseBenchOptions());
