/**
 * End-to-end pipeline throughput: HTTP batch ingest → log → sinks → store, in events per second from
 * the first request to the last row stored, with sink lag sampled every second. Measured side by side
 * in one run: the embedded form (`beacon start`: embedded log, SQLite), and the distributed form,
 * `beacon api` on Kafka with 1 and with 2 `beacon sink` processes writing PostgreSQL (a fresh
 * database per form). Starts the broker and the server itself (`scripts/services start`).
 *
 *   node bench/pipeline.ts [--quick] [--connections N] [--forms embedded,1,2] [--profile DIR]
 *
 * `--connections` sets the concurrent batch requests (4 by default): a request waits for its records'
 * acknowledgement, so throughput is at most connections × 1,000 / acknowledgement latency.
 * `--profile DIR` writes V8 CPU profiles of every Beacon process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import pg from 'pg';
import { postgresStore } from '../src/roles/store-postgres.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../src/roles/store.ts';
import { createToken } from '../src/tenants/tokens.ts';
import { count } from './lib/format.ts';
import { parseArgs } from 'node:util';
import { note, step } from './lib/progress.ts';
import { printTable, type BenchReport, type Figure } from './lib/report.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const SERVICES_SCRIPT = fileURLToPath(new URL('../scripts/services', import.meta.url));
const PG_SERVER = 'postgres://beacon@127.0.0.1:15432';
const KAFKA = 'kafka://127.0.0.1:19092';
const ADMIN = 'bench-admin-token-0123456789abcdef';
const TENANTS = 6;
const BATCH = 1000;
const TITLE = 'Pipeline';

interface Form {
  readonly name: string;
  readonly kafka: boolean;
  readonly sinks: number;
}

const FORMS: readonly Form[] = [
  { name: 'embedded (beacon start)', kafka: false, sinks: 0 },
  { name: 'kafka, 1 sink', kafka: true, sinks: 1 },
  { name: 'kafka, 2 sinks', kafka: true, sinks: 2 },
];

const { values: options } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: 'boolean', default: false },
    connections: { type: 'string', default: '4' },
    forms: { type: 'string', default: 'embedded,1,2' },
    profile: { type: 'string' },
  },
  strict: false,
});
const CONNECTIONS = Number(options.connections);

function spawnBeacon(args: string[], env: Record<string, string>, ready: RegExp) {
  const profile =
    typeof options.profile === 'string' ? ['--cpu-prof', `--cpu-prof-dir=${options.profile}`] : [];
  const child = spawn(process.execPath, [...profile, MAIN, ...args], {
    env: { ...process.env, BEACON_LOG_LEVEL: 'warn', BEACON_RATE_LIMIT_PER_SECOND: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise<{ child: ChildProcess; match: RegExpExecArray }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${output}`)), 60_000);
    child.stdout.on('data', () => {
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
}

/** Runs one statement on the server's maintenance database (CREATE and DROP DATABASE). */
async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Tenants with an ingest token each: messages are partitioned by tenant, so several spread the load. */
async function seedTenants(store: BeaconStore): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < TENANTS; i++) {
    await store.tenants.ensure({ id: `bench-${i}`, name: `bench ${i}`, createdAt: Date.now() });
    const { secret } = await createToken(store.tenants, {
      tenant: `bench-${i}`,
      name: 'bench',
      scopes: ['ingest'],
    });
    tokens.push(secret);
  }
  return tokens;
}

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
  const database = form.kafka ? `beacon_bench_${randomBytes(6).toString('hex')}` : '';
  const env: Record<string, string> = {
    BEACON_DATA_DIR: dataDir,
    BEACON_ADMIN_TOKEN: ADMIN,
    ...(form.kafka
      ? {
          BEACON_LOG: KAFKA,
          BEACON_STORE: `${PG_SERVER}/${database}`,
          BEACON_KAFKA_TOPIC_PREFIX: prefix,
          BEACON_KAFKA_PARTITIONS: '6',
        }
      : {}),
  };
  const children: ChildProcess[] = [];
  let store: BeaconStore | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let sampling: Promise<void> = Promise.resolve();
  try {
    step(`${TITLE}: ${form.name}: starting`);
    if (form.kafka) {
      note(`${form.name}: fresh database ${database}, topics ${prefix}*`);
      await adminQuery(`CREATE DATABASE ${database}`);
      const setup = spawnSync(process.execPath, [MAIN, 'setup'], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      if (setup.status !== 0) throw new Error(`setup failed: ${setup.stdout}${setup.stderr}`);
    }
    // `setup` ran the PostgreSQL migrations; the SQLite store migrates on open.
    store = form.kafka ? postgresStore({ url: env.BEACON_STORE!, poolSize: 2 }) : sqliteStore({ dataDir });
    await store.open();
    const tokens = await seedTenants(store);
    const rows = store;
    const api = await spawnBeacon(
      [form.kafka ? 'api' : 'start', '--port', '0', '--host', '127.0.0.1'],
      env,
      /Dashboard: (http:\/\/[^/\s]+)\/live/,
    );
    children.push(api.child);
    for (let i = 0; i < form.sinks; i++) {
      children.push(
        (await spawnBeacon(['sink', '--host', '127.0.0.1'], env, /Beacon sink is running/)).child,
      );
    }
    const url = api.match[1]!;
    const body = JSON.stringify(
      Array.from({ length: BATCH }, (_, i) => ({ sensor: `s${i % 10}`, value: i / 10 })),
    );

    let accepted = 0;
    let failed = 0;
    const started = performance.now();
    const until = started + seconds * 1000;
    const lag: number[] = [];
    sampler = setInterval(() => {
      sampling = storedRows(rows).then((stored) => {
        // `accepted` grows when a response arrives, so a sink quicker than the round trip can be
        // ahead of it for a moment: that is no lag, not a negative one.
        lag.push(Math.max(0, accepted - stored));
        note(`${form.name}: ${count(accepted)} accepted, ${count(stored)} stored, lag ${count(lag.at(-1)!)}`);
      });
    }, 1000);
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, c) => {
        for (let i = 0; performance.now() < until; i++) {
          const res = await fetch(`${url}/v1/messages/batch`, {
            method: 'POST',
            headers: {
              authorization: `Bearer ${tokens[(c + i) % TENANTS]!}`,
              'content-type': 'application/json',
            },
            body,
          });
          await res.arrayBuffer();
          if (res.status === 202) accepted += BATCH;
          else failed += 1;
        }
      }),
    );
    const ingestSeconds = (performance.now() - started) / 1000;
    let stored = await storedRows(rows);
    while (stored < accepted) {
      await new Promise((r) => setTimeout(r, 200));
      stored = await storedRows(rows);
    }
    clearInterval(sampler);
    await sampling;
    const totalSeconds = (performance.now() - started) / 1000;
    if (failed > 0) note(`${form.name}: ${failed} batch requests were refused`);
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
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))),
    );
    rmSync(dataDir, { recursive: true, force: true });
    if (form.kafka) {
      const admin = new Admin({ clientId: 'bench-cleanup', bootstrapBrokers: ['127.0.0.1:19092'] });
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      await admin.close();
      await adminQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
  }
}

export async function runPipeline(quick: boolean): Promise<BenchReport> {
  step(`${TITLE}: making sure Kafka and PostgreSQL run (scripts/services start)`);
  const services = spawnSync(SERVICES_SCRIPT, ['start'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (services.status !== 0) throw new Error('scripts/services start failed');
  const figures: Figure[] = [];
  let embedded: Measured | undefined;
  const chosen = String(options.forms).split(',');
  const forms = FORMS.filter((f) => chosen.includes(f.kafka ? String(f.sinks) : 'embedded'));
  note(`${CONNECTIONS} concurrent batch requests of ${BATCH} messages`);
  for (const form of forms) {
    const measured = await measure(form, quick ? 3 : 10);
    figures.push(...measured.figures);
    if (!form.kafka) embedded = measured;
    else if (embedded) {
      figures.push(
        { name: `${form.name}: ingest / embedded`, value: measured.ingest / embedded.ingest, unit: 'ratio' },
        {
          name: `${form.name}: end to end / embedded`,
          value: measured.endToEnd / embedded.endToEnd,
          unit: 'ratio',
        },
      );
    }
  }
  printTable(TITLE, figures);
  return { title: TITLE, figures };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runPipeline(options.quick === true);
}
