/**
 * Throughput per core of each role of the distributed form, for the sizing model in
 * docs/operations.md, and how sinks scale over this machine's cores. One run, in three steps:
 *
 * 1. Ingest: one `beacon api` on the three-broker cluster (`scripts/kafka cluster`; topics at
 *    replication factor 3 and min.insync.replicas 2, six partitions), fed batches of 1,000 messages
 *    from six tenants over 4 connections for `--seconds` (20; 5 with --quick), then single messages
 *    (one request per event, 50 connections, autocannon) for half as long. The CPU time the api
 *    process and the three brokers used (from /proc) gives events per CPU-second of each, and the
 *    brokers' log segments the bytes Kafka keeps per record (all three replicas).
 * 2. Sinks: those records drained into a fresh PostgreSQL database by 1, 2 and 3 `beacon sink`
 *    processes (`--sinks`), each pinned to one core with `taskset` (sink i on core i mod cores):
 *    events/s from the moment all have joined the group to the last row stored, events per
 *    CPU-second of the sinks, and per
 *    CPU-second of the PostgreSQL backends that served them (their pids from pg_stat_activity).
 * 3. Storage: the bytes PostgreSQL holds per message after the first drain (pg_total_relation_size
 *    of `messages`' partitions and of `message_keys`).
 *
 * The load averages are printed at every step: CPU-seconds per event hold on a busy machine, wall
 * rates do not.
 *
 *   node bench/scale.ts [--quick] [--seconds N] [--sinks 1,2,3]
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin } from '@platformatic/kafka';
import autocannon from 'autocannon';
import pg from 'pg';
import { postgresStore } from '../src/roles/store-postgres.ts';
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
import { cpuSeconds, loadAverages } from './lib/proc.ts';
import { note, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';

const KAFKA_SCRIPT = fileURLToPath(new URL('../scripts/kafka', import.meta.url));
const SERVICES_SCRIPT = fileURLToPath(new URL('../scripts/services', import.meta.url));
const CLUSTER_HOME = fileURLToPath(new URL('../.services/kafka-cluster', import.meta.url));
const CLUSTER = ['127.0.0.1:19101', '127.0.0.1:19102', '127.0.0.1:19103'];
const TITLE = 'Scale';
const TENANTS = 6;

const { values: options } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    sinks: { type: 'string', default: '1,2,3' },
  },
  strict: false,
});

/** The pids of the cluster's brokers, from scripts/kafka's pid files. */
function brokerPids(): number[] {
  return [1, 2, 3].map((n) => Number(readFileSync(join(CLUSTER_HOME, `node-${n}`, 'broker.pid'), 'utf8')));
}

/**
 * Bytes of `topic`'s log segments on every broker of the cluster: the records as Kafka keeps them,
 * compressed. The index files beside them are preallocated (10 MiB each, sparse), so they are left out.
 */
function segmentBytes(topic: string): number {
  let bytes = 0;
  for (const n of [1, 2, 3]) {
    const data = join(CLUSTER_HOME, `node-${n}`, 'data');
    for (const dir of readdirSync(data).filter((d) => d.startsWith(`${topic}-`))) {
      for (const file of readdirSync(join(data, dir)).filter((f) => f.endsWith('.log')))
        bytes += statSync(join(data, dir, file)).size;
    }
  }
  return bytes;
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Pids of the server processes serving `database`, other than the asking connection's. */
async function backends(url: string, database: string): Promise<number[]> {
  const rows = await query<{ pid: number }>(
    url,
    `SELECT pid FROM pg_stat_activity WHERE datname = '${database}' AND pid <> pg_backend_pid()`,
  );
  return rows.map((r) => r.pid);
}

/**
 * Waits until the messages consumer group has `members` members sharing every partition, as the
 * group coordinator reports it, so a drain starts with all its sinks in place.
 */
async function groupSettled(group: string, members: number, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'bench-scale', bootstrapBrokers: CLUSTER });
  try {
    for (let waited = 0; ; waited += 250) {
      const found = (await admin.describeGroups({ groups: [group] })).get(group);
      const held = [...(found?.members.values() ?? [])].map((m) =>
        [...(m.assignments?.values() ?? [])].reduce((n, a) => n + a.partitions.length, 0),
      );
      if (
        found?.state === 'Stable' &&
        held.length === members &&
        held.every((n) => n > 0) &&
        held.reduce((a, b) => a + b, 0) === partitions
      )
        return;
      if (waited > 120_000) throw new Error(`group ${group} did not settle with ${members} members`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.close();
  }
}

interface Drain {
  readonly sinks: number;
  readonly rate: number;
  readonly perSinkCpu: number;
  readonly perPostgresCpu: number;
  readonly sinkCpuShare: number;
}

/** Drains the topics into a fresh database with `sinks` pinned sink processes. */
async function drain(
  env: Record<string, string>,
  total: number,
  sinks: number,
  measureBytes: boolean,
): Promise<{ drain: Drain; bytesPerRow?: number }> {
  const database = `beacon_bench_${randomBytes(6).toString('hex')}`;
  const url = `${PG_SERVER}/${database}`;
  const sinkEnv = { ...env, BEACON_STORE: url };
  const children: ChildProcess[] = [];
  const cores = availableParallelism();
  await adminQuery(`CREATE DATABASE ${database}`);
  try {
    await runRole(['setup'], sinkEnv);
    // The sinks read where to resume from `checkpoints`: holding it locked keeps every sink waiting
    // until all have joined the group, so one does not drain alone while the others start.
    const gate = new pg.Client({ connectionString: url });
    await gate.connect();
    await gate.query('BEGIN');
    await gate.query('LOCK TABLE checkpoints IN ACCESS EXCLUSIVE MODE');
    step(
      `${TITLE}: ${sinks} sink(s) pinned to cores ${Array.from({ length: sinks }, (_, i) => i % cores).join(', ')}; load ${loadAverages()}`,
    );
    for (let i = 0; i < sinks; i++) {
      children.push(
        (await spawnRole(['sink', '--host', '127.0.0.1'], sinkEnv, SINK_READY, { cpu: i % cores })).child,
      );
    }
    const pids = children.map((c) => c.pid!);
    await groupSettled(`${env.BEACON_KAFKA_TOPIC_PREFIX!}sink-messages`, sinks, 6);
    // Backends already serving the sinks have used some CPU starting up: only what follows counts.
    const backendPids = new Set(await backends(url, database));
    const cpuBefore = { sinks: cpuSeconds(pids), postgres: cpuSeconds([...backendPids]) };
    const started = performance.now();
    await gate.query('COMMIT');
    await gate.end();
    let stored = 0;
    let last = started;
    while (stored < total) {
      await new Promise((r) => setTimeout(r, 250));
      const [row] = await query<{ stored: string | null }>(
        url,
        "SELECT sum(next_offset) AS stored FROM checkpoints WHERE stream = 'messages'",
      );
      // Every backend serving the sinks, while they still run: their CPU time is read at the end.
      for (const pid of await backends(url, database)) backendPids.add(pid);
      stored = Number(row?.stored ?? 0);
      last = performance.now();
      note(`${sinks} sink(s): ${count(stored)} of ${count(total)} stored`);
    }
    const sinkCpu = cpuSeconds(pids) - cpuBefore.sinks;
    const postgresCpu = cpuSeconds([...backendPids]) - cpuBefore.postgres;
    const seconds = (last - started) / 1000;
    const rate = total / seconds;
    note(
      `${sinks} sink(s): ${count(rate)} events/s; sinks used ${sinkCpu.toFixed(1)} CPU-s, PostgreSQL backends ${postgresCpu.toFixed(1)} CPU-s; load ${loadAverages()}`,
    );
    let bytesPerRow: number | undefined;
    if (measureBytes) {
      const [size] = await query<{ bytes: string; rows: string }>(
        url,
        `SELECT (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'messages'::regclass)
              + pg_total_relation_size('message_keys') AS bytes,
                (SELECT count(*) FROM messages) AS rows`,
      );
      bytesPerRow = Number(size!.bytes) / Number(size!.rows);
    }
    return {
      drain: {
        sinks,
        rate,
        perSinkCpu: total / sinkCpu,
        perPostgresCpu: total / postgresCpu,
        sinkCpuShare: sinkCpu / seconds / sinks,
      },
      ...(bytesPerRow === undefined ? {} : { bytesPerRow }),
    };
  } finally {
    await stopAll(children);
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

export async function runScale(quick: boolean): Promise<BenchReport> {
  step(`${TITLE}: making sure Kafka and PostgreSQL run (scripts/services start)`);
  if (spawnSync(SERVICES_SCRIPT, ['start'], { stdio: ['ignore', 'inherit', 'inherit'] }).status !== 0)
    throw new Error('scripts/services start failed');
  const ownCluster = spawnSync(KAFKA_SCRIPT, ['cluster', 'status'], { stdio: 'ignore' }).status !== 0;
  if (
    ownCluster &&
    spawnSync(KAFKA_SCRIPT, ['cluster', 'start'], { stdio: ['ignore', 'inherit', 'inherit'] }).status !== 0
  )
    throw new Error('scripts/kafka cluster start failed');
  const seconds = Number(options.seconds ?? (quick ? 5 : 20));
  const prefix = `scale.${Date.now()}.`;
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-bench-scale-'));
  const database = `beacon_bench_${randomBytes(6).toString('hex')}`;
  const env: Record<string, string> = {
    BEACON_DATA_DIR: dataDir,
    BEACON_ADMIN_TOKEN: ADMIN,
    BEACON_LOG: `kafka://${CLUSTER.join(',')}`,
    BEACON_STORE: `${PG_SERVER}/${database}`,
    BEACON_KAFKA_TOPIC_PREFIX: prefix,
    BEACON_KAFKA_PARTITIONS: '6',
    BEACON_KAFKA_REPLICATION_FACTOR: '3',
    BEACON_KAFKA_MIN_INSYNC_REPLICAS: '2',
  };
  const figures: Figure[] = [];
  const children: ChildProcess[] = [];
  try {
    // 1. Ingest, with no sink running: the api and the brokers alone.
    await adminQuery(`CREATE DATABASE ${database}`);
    await runRole(['setup'], env);
    const store = postgresStore({ url: env.BEACON_STORE!, poolSize: 2 });
    await store.open();
    const tokens = await seedTenants(store, TENANTS);
    await store.close();
    const api = await spawnRole(['api', '--port', '0', '--host', '127.0.0.1'], env, API_READY);
    children.push(api.child);
    const url = api.match[1]!;
    await warmUp(url, tokens[0]!);
    const brokers = brokerPids();
    /** Runs `load` and measures the events it had accepted and the CPU the api and the brokers used. */
    const measure = async (label: string, load: () => Promise<number>) => {
      step(`${TITLE}: ${label} into the cluster; load ${loadAverages()}`);
      const before = { api: cpuSeconds([api.child.pid!]), brokers: cpuSeconds(brokers) };
      const started = performance.now();
      const events = await load();
      const elapsed = (performance.now() - started) / 1000;
      const apiCpu = cpuSeconds([api.child.pid!]) - before.api;
      const brokerCpu = cpuSeconds(brokers) - before.brokers;
      note(
        `${count(events)} events in ${elapsed.toFixed(1)} s; api ${apiCpu.toFixed(1)} CPU-s, brokers ${brokerCpu.toFixed(1)} CPU-s; load ${loadAverages()}`,
      );
      figures.push(
        { name: `${label}: ingest`, value: events / elapsed, unit: 'events/s' },
        { name: `${label}: events per api CPU-second`, value: events / apiCpu, unit: 'events/s' },
        { name: `${label}: events per broker CPU-second (3)`, value: events / brokerCpu, unit: 'events/s' },
      );
      return events;
    };
    const batches = await measure(`batches of 1,000 for ${seconds} s`, async () => {
      const load = batchLoad({ url, tokens, connections: 4, seconds, batch: 1000 });
      await load.done;
      if (load.failed > 0)
        note(`${load.failed} refused: ${[...load.refusals].map(([k, n]) => `${n} × ${k}`).join(', ')}`);
      return load.accepted;
    });
    // One request per event, as browser agents and sensors send them.
    const singles = await measure(`single messages for ${Math.ceil(seconds / 2)} s`, async () => {
      const result = await autocannon({
        url: `${url}/v1/messages`,
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[0]!}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sensor: 's1', value: 42.5 }),
        connections: 50,
        duration: Math.ceil(seconds / 2),
      });
      return result['2xx'];
    });
    await stopAll(children.splice(0));
    // The warm-up message is in the log too: the drains store it with the rest.
    const total = batches + singles + 1;
    figures.push({
      name: 'Kafka bytes per record, three replicas',
      value: segmentBytes(`${prefix}messages`) / total,
      unit: 'bytes',
    });

    // 2 and 3. Drains by 1, 2 and 3 pinned sinks, the first also measuring PostgreSQL's bytes.
    const counts = String(options.sinks).split(',').map(Number);
    let one: Drain | undefined;
    for (const [i, sinks] of counts.entries()) {
      const measured = await drain(env, total, sinks, i === 0);
      one ??= measured.drain;
      const { drain: d } = measured;
      figures.push(
        { name: `${sinks} sink(s): drain`, value: d.rate, unit: 'events/s' },
        { name: `${sinks} sink(s): events per sink CPU-second`, value: d.perSinkCpu, unit: 'events/s' },
        {
          name: `${sinks} sink(s): events per PostgreSQL CPU-second`,
          value: d.perPostgresCpu,
          unit: 'events/s',
        },
        { name: `${sinks} sink(s): share of a core each sink used`, value: d.sinkCpuShare, unit: 'ratio' },
        { name: `${sinks} sink(s): drain / 1 sink`, value: d.rate / one.rate, unit: 'ratio' },
      );
      if (measured.bytesPerRow !== undefined)
        figures.push({ name: 'PostgreSQL bytes per message', value: measured.bytesPerRow, unit: 'bytes' });
    }
  } finally {
    await stopAll(children);
    await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    rmSync(dataDir, { recursive: true, force: true });
    // The topics go with the cluster when this run started it; otherwise they are left for inspection.
    if (ownCluster) {
      spawnSync(KAFKA_SCRIPT, ['cluster', 'stop'], { stdio: ['ignore', 'inherit', 'inherit'] });
      rmSync(CLUSTER_HOME, { recursive: true, force: true });
    }
  }
  printTable(`${TITLE} (load ${loadAverages()}; ${availableParallelism()} cores, shared)`, figures);
  return { title: TITLE, figures };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runScale(options.quick === true);
}
