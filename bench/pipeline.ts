/**
 * End-to-end pipeline throughput: HTTP batch ingest → log → sinks → store, in events per second from
 * the first request to the last row stored, with sink lag sampled every second. Measured side by side
 * in one run: the embedded form (`beacon start`: embedded log, SQLite), the distributed form,
 * `beacon api` on the single Kafka broker with 1 and with 2 `beacon sink` processes writing PostgreSQL
 * (a fresh database per form), and the same with 1 sink on a three-broker cluster, topics at
 * replication factor 3 and min.insync.replicas 2 (every produce is acks=all, so each record is on two
 * brokers at least before its 202). Starts the broker and the server itself (`scripts/services
 * start`), and the cluster (`scripts/kafka cluster start`) when it is not running, stopping it after.
 *
 *   node bench/pipeline.ts [--quick] [--connections N] [--forms embedded,1,2,cluster] [--profile DIR]
 *
 * `--connections` sets the concurrent batch requests (4 by default): a request waits for its records'
 * acknowledgement, so throughput is at most connections × 1,000 / acknowledgement latency.
 * `--profile DIR` writes V8 CPU profiles of every Beacon process.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { postgresStore } from '../src/roles/store-postgres.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../src/roles/store.ts';
import {
  ADMIN,
  adminQuery,
  API_READY,
  batchLoad,
  PG_SERVER,
  runRole,
  seedTenants,
  SINK_READY,
  spawnRole,
  stopAll,
  warmUp,
} from './lib/distributed.ts';
import { count } from './lib/format.ts';
import { parseArgs } from 'node:util';
import { note, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';

const SERVICES_SCRIPT = fileURLToPath(new URL('../scripts/services', import.meta.url));
const KAFKA = ['127.0.0.1:19092'];
const KAFKA_SCRIPT = fileURLToPath(new URL('../scripts/kafka', import.meta.url));
/** scripts/kafka cluster's brokers. */
const CLUSTER = ['127.0.0.1:19101', '127.0.0.1:19102', '127.0.0.1:19103'];
const TENANTS = 6;
const BATCH = 1000;
const TITLE = 'Pipeline';

interface Form {
  readonly name: string;
  /** Chooses the form in --forms. */
  readonly key: string;
  /** Kafka brokers, none for the embedded form. */
  readonly brokers: readonly string[];
  readonly replicationFactor: number;
  readonly sinks: number;
}

const FORMS: readonly Form[] = [
  { name: 'embedded (beacon start)', key: 'embedded', brokers: [], replicationFactor: 0, sinks: 0 },
  { name: 'kafka, 1 sink', key: '1', brokers: KAFKA, replicationFactor: 1, sinks: 1 },
  { name: 'kafka, 2 sinks', key: '2', brokers: KAFKA, replicationFactor: 1, sinks: 2 },
  {
    name: 'kafka 3 brokers RF 3 acks=all, 1 sink',
    key: 'cluster',
    brokers: CLUSTER,
    replicationFactor: 3,
    sinks: 1,
  },
];

const { values: options } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    connections: { type: 'string', default: '4' },
    forms: { type: 'string', default: 'embedded,1,2,cluster' },
    profile: { type: 'string' },
  },
  strict: false,
});
const CONNECTIONS = Number(options.connections);

async function storedRows(store: BeaconStore): Promise<number> {
  let n = 0;
  for (let i = 0; i < TENANTS; i++) n += await store.messages.count(`bench-${i}`);
  return n;
}

/** `lag` samples, one a second, as "0s 0 · 1s 12,000 · …" (kept short: every few seconds past 12). */
function lagSeries(lag: readonly number[]): string {
  const every = Math.max(1, Math.ceil(lag.length / 12));
  return lag
    .map((l, i) => (i % every === 0 || i === lag.length - 1 ? `${i + 1}s ${count(l)}` : ''))
    .filter(Boolean)
    .join(' · ');
}

interface Measured {
  readonly figures: Figure[];
  readonly endToEnd: number;
  readonly ingest: number;
}

async function measure(form: Form, seconds: number): Promise<Measured> {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-bench-pipeline-'));
  const prefix = `bench.${Date.now()}.`;
  const kafka = form.brokers.length > 0;
  const database = kafka ? `beacon_bench_${randomBytes(6).toString('hex')}` : '';
  const env: Record<string, string> = {
    BEACON_DATA_DIR: dataDir,
    BEACON_ADMIN_TOKEN: ADMIN,
    ...(kafka
      ? {
          BEACON_LOG: `kafka://${form.brokers.join(',')}`,
          BEACON_STORE: `${PG_SERVER}/${database}`,
          BEACON_KAFKA_TOPIC_PREFIX: prefix,
          BEACON_KAFKA_PARTITIONS: '6',
          BEACON_KAFKA_REPLICATION_FACTOR: String(form.replicationFactor),
          BEACON_KAFKA_MIN_INSYNC_REPLICAS: String(Math.min(2, form.replicationFactor)),
        }
      : {}),
  };
  const children: ChildProcess[] = [];
  let store: BeaconStore | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let sampling: Promise<void> = Promise.resolve();
  try {
    step(`${TITLE}: ${form.name}: starting`);
    if (kafka) {
      note(`${form.name}: fresh database ${database}, topics ${prefix}*`);
      await adminQuery(`CREATE DATABASE ${database}`);
      await runRole(['setup'], env);
    }
    // `setup` ran the PostgreSQL migrations; the SQLite store migrates on open.
    store = kafka ? postgresStore({ url: env.BEACON_STORE!, poolSize: 2 }) : sqliteStore({ dataDir });
    await store.open();
    const tokens = await seedTenants(store, TENANTS);
    const rows = store;
    const roles = { profileDir: typeof options.profile === 'string' ? options.profile : undefined };
    const api = await spawnRole(
      [kafka ? 'api' : 'start', '--port', '0', '--host', '127.0.0.1'],
      env,
      API_READY,
      roles,
    );
    children.push(api.child);
    for (let i = 0; i < form.sinks; i++) {
      children.push((await spawnRole(['sink', '--host', '127.0.0.1'], env, SINK_READY, roles)).child);
    }
    await warmUp(api.match[1]!, tokens[0]!);
    const started = performance.now();
    const load = batchLoad({ url: api.match[1]!, tokens, connections: CONNECTIONS, seconds, batch: BATCH });
    const lag: number[] = [];
    sampler = setInterval(() => {
      sampling = storedRows(rows).then((stored) => {
        // `accepted` grows when a response arrives, so a sink quicker than the round trip can be
        // ahead of it for a moment: that is no lag, not a negative one.
        lag.push(Math.max(0, load.accepted - stored));
        note(
          `${form.name}: ${count(load.accepted)} accepted, ${count(stored)} stored, lag ${count(lag.at(-1)!)}`,
        );
      });
    }, 1000);
    await load.done;
    const { accepted, failed } = load;
    const ingestSeconds = (performance.now() - started) / 1000;
    let stored = await storedRows(rows);
    while (stored < accepted) {
      await new Promise((r) => setTimeout(r, 200));
      stored = await storedRows(rows);
    }
    clearInterval(sampler);
    await sampling;
    const totalSeconds = (performance.now() - started) / 1000;
    if (failed > 0)
      note(
        `${form.name}: ${failed} batch requests were refused: ${[...load.refusals].map(([k, n]) => `${n} × ${k}`).join(', ')}`,
      );
    note(
      `${form.name}: ${count(accepted)} events accepted in ${ingestSeconds.toFixed(1)} s, all stored after ${totalSeconds.toFixed(1)} s`,
    );
    note(`${form.name}: sink lag over time: ${lagSeries(lag)}`);
    const ingest = accepted / ingestSeconds;
    const endToEnd = accepted / totalSeconds;
    return {
      ingest,
      endToEnd,
      figures: [
        { name: `${form.name}: ingest`, value: ingest, unit: 'events/s' },
        {
          name: `${form.name}: end to end`,
          value: endToEnd,
          unit: 'events/s',
          target: { op: '>=', value: 50_000 },
        },
        { name: `${form.name}: peak sink lag`, value: Math.max(0, ...lag), unit: 'messages' },
      ],
    };
  } finally {
    clearInterval(sampler);
    await sampling.catch(() => undefined);
    await store?.close();
    await stopAll(children);
    rmSync(dataDir, { recursive: true, force: true });
    if (kafka) {
      const admin = new Admin({ clientId: 'bench-cleanup', bootstrapBrokers: [...form.brokers] });
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      await admin.close();
      await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
  }
}

/** Starts scripts/kafka's cluster unless it runs; returns whether this run started it (and stops it). */
function startCluster(): boolean {
  if (spawnSync(KAFKA_SCRIPT, ['cluster', 'status'], { stdio: 'ignore' }).status === 0) return false;
  step(`${TITLE}: starting the three-broker cluster (scripts/kafka cluster start)`);
  const started = spawnSync(KAFKA_SCRIPT, ['cluster', 'start'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (started.status !== 0) throw new Error('scripts/kafka cluster start failed');
  return true;
}

export async function runPipeline(quick: boolean): Promise<BenchReport> {
  step(`${TITLE}: making sure Kafka and PostgreSQL run (scripts/services start)`);
  const services = spawnSync(SERVICES_SCRIPT, ['start'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (services.status !== 0) throw new Error('scripts/services start failed');
  const figures: Figure[] = [];
  const chosen = String(options.forms).split(',');
  const forms = FORMS.filter((f) => chosen.includes(f.key));
  const stopCluster = forms.some((f) => f.brokers === CLUSTER) && startCluster();
  note(`${CONNECTIONS} concurrent batch requests of ${BATCH} messages`);
  const measured = new Map<string, Measured>();
  const compare = (form: Form, baseline: string, label: string) => {
    const base = measured.get(baseline);
    const mine = measured.get(form.key)!;
    if (!base) return;
    figures.push(
      { name: `${form.name}: ingest / ${label}`, value: mine.ingest / base.ingest, unit: 'ratio' },
      { name: `${form.name}: end to end / ${label}`, value: mine.endToEnd / base.endToEnd, unit: 'ratio' },
    );
  };
  try {
    for (const form of forms) {
      measured.set(form.key, await measure(form, quick ? 3 : 10));
      figures.push(...measured.get(form.key)!.figures);
      if (form.brokers.length > 0) compare(form, 'embedded', 'embedded');
      // What replication costs: the same pipeline on one broker, measured in this run.
      if (form.key === 'cluster') compare(form, '1', 'single broker');
    }
  } finally {
    if (stopCluster)
      spawnSync(KAFKA_SCRIPT, ['cluster', 'stop'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  printTable(TITLE, figures);
  return { title: TITLE, figures };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runPipeline(options.quick === true);
}
