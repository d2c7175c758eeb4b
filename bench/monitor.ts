/**
 * Uptime monitor benchmark: N targets at a 60 s interval against a local target farm, with Beacon in
 * a child process launched as an operator would (`bin/beacon`), once per role: `beacon probe` (only
 * the prober, the seed's "instance") and `beacon start` (prober, log writer thread, sink thread,
 * store and API in one process, the default deployment). For each role and N it prints sustained
 * checks/s, schedule jitter p50/p99 (from every logged check: startedAt − scheduledAt), peak and mean
 * RSS, and CPU as a share of one core; then stored bytes per check (SQLite pages of the check table
 * and of the log, per row).
 *
 *   node bench/monitor.ts [--counts 20000,40000,60000] [--role probe,start] [--seconds 150]
 *                         [--interval 60] [--delay-ms 30] [--node-flags "--max-semi-space-size=1"]
 *
 * The first count is seed 000's: 20,000 targets within 100 MB RSS and p99 jitter ≤ 1 s. Later counts
 * look for the ceiling: the largest N whose checks/s keeps up with N/interval and whose p99 jitter
 * stays within 1 s.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Target } from '../src/monitor/target.ts';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.ts';
import { checkProjection } from '../src/monitor/projection.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { startSink } from '../src/sink/sink.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { count, ms } from './lib/format.ts';
import { Histogram } from './lib/percentiles.ts';
import { note, step } from './lib/progress.ts';
import { procSample } from './lib/proc.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1]!;
};
const counts = arg('counts', '20000,40000,60000').split(',').map(Number);
const seconds = Number(arg('seconds', '150'));
const interval = Number(arg('interval', '60'));
const delayMs = arg('delay-ms', '30');
/** `probe`: only the prober (`beacon probe`), the seed's "instance"; `start`: everything in one process. */
const roles = arg('role', 'probe,start').split(',');
/** Node flags that replace what bin/beacon sets for the role (BEACON_NODE_FLAGS); `--node-flags ''` runs with none. */
const nodeFlags = process.argv.includes('--node-flags') ? arg('node-flags', '') : undefined;
const BEACON = fileURLToPath(new URL('../bin/beacon', import.meta.url));

async function startFarm(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(
    fileURLToPath(new URL('./lib/farm-server.ts', import.meta.url)),
    ['--delay-ms', delayMs],
    {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const port = await new Promise<number>((resolve) =>
    child.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(d.toString()) as { port: number }).port)),
  );
  return { child, port };
}

/** Writes N targets spread over 250 loopback hosts straight into a fresh store. */
async function seedTargets(dataDir: string, n: number, port: number): Promise<void> {
  const store = sqliteStore({ dataDir });
  await store.open();
  await store.tenants.ensure({ id: 'default', name: 'Default', createdAt: Date.now() });
  const now = Date.now();
  // Every tenth target also searches its body for a pattern, so RE2 matching is part of the load.
  const targets: Target[] = Array.from({ length: n }, (_, i) => ({
    kind: 'http' as const,
    id: `t${i}`,
    tenant: 'default',
    source: 'file' as const,
    createdAt: now,
    updatedAt: now,
    url: `http://127.0.1.${(i % 250) + 1}:${port}/t${i}`,
    intervalSeconds: interval,
    timeoutMs: 10_000,
    method: 'GET' as const,
    headers: {},
    expectStatus: ['200-399'],
    ...(i % 10 === 0 ? { pattern: 'farm: ok' } : {}),
    patternMustMatch: true,
    maxRedirects: 0,
    maxBodyBytes: 1_048_576,
    ignoreTlsErrors: false,
    downAfter: 3,
    upAfter: 2,
    tags: [],
    assertions: [],
    tlsExpiryDays: [21, 14, 7],
  }));
  await store.targets.replaceFileTargets(targets);
  await store.close();
}

/** Runs the checks projection over what a `beacon probe` run left in the log, as a sink would. */
async function project(dataDir: string): Promise<void> {
  const logger = pino({ level: 'silent' });
  const store = sqliteStore({ dataDir });
  await store.open();
  const log = new EmbeddedLog({ dataDir, maxQueue: 1000, logger });
  await log.open();
  const end = (await log.endOffsets('checks')).get(0)!;
  const started = performance.now();
  const sink = startSink({
    log,
    store,
    projection: checkProjection,
    batchSize: 5000,
    config: loadConfig(),
    metrics: new Metrics(),
    logger,
  });
  for (;;) {
    const saved = await store.checkpoints(checkProjection.group, 'checks');
    if ((saved[0]?.offset ?? 0) >= end) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  note(`projected the log into the store in ${ms(performance.now() - started)}`);
  await sink.close();
  await log.close();
  await store.close();
}

interface Result {
  readonly role: string;
  readonly n: number;
  readonly expectedPerSecond: number;
  readonly checksPerSecond: number;
  readonly jitter: { p50: number; p99: number; max: number };
  readonly rssPeakMb: number;
  readonly rssMeanMb: number;
  readonly cpuShare: number;
  readonly stored: number;
  readonly checkBytes: number;
  readonly logBytes: number;
  readonly up: number;
}

async function runOne(role: string, n: number, port: number): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-bench-monitor-'));
  try {
    step(`beacon ${role}: ${count(n)} targets at ${interval} s for ${seconds} s`);
    await seedTargets(dataDir, n, port);
    // bin/beacon execs node, so the child's pid is node's and /proc shows its memory and CPU.
    const child = spawn(BEACON, [role, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], {
      env: {
        ...process.env,
        ...(nodeFlags === undefined ? {} : { BEACON_NODE_FLAGS: nodeFlags }),
        BEACON_LOG_LEVEL: 'warn',
        BEACON_ADMIN_TOKEN: 'bench-admin-token-0123456789abcdef',
        BEACON_MONITOR_CONCURRENCY: '2000',
        BEACON_MONITOR_PER_HOST: '16',
        BEACON_MONITOR_REFRESH_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/Beacon (probe )?is running/.test(out)) resolve();
      });
      child.once('exit', (code) => reject(new Error(`beacon exited with ${code}`)));
    });
    const started = Date.now();
    const samples: { rssMb: number; cpuSeconds: number; at: number }[] = [];
    let exitedEarly: number | null | undefined;
    child.once('exit', (code) => (exitedEarly = code));
    const sampler = setInterval(() => {
      // The child may be gone (out of memory, say): that is reported below, not thrown from a timer.
      if (exitedEarly === undefined) samples.push({ ...procSample(child.pid!), at: Date.now() });
    }, 1000);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(sampler);
    if (exitedEarly !== undefined)
      throw new Error(`beacon ${role} exited during the run (code ${exitedEarly})`);
    const ended = Date.now();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;

    // Skip the first 10 s (start-up, JIT warm-up) when measuring the steady state.
    const from = started + 10_000;
    const steady = samples.filter((s) => s.at >= from);
    const cpuShare =
      (steady.at(-1)!.cpuSeconds - steady[0]!.cpuSeconds) / ((steady.at(-1)!.at - steady[0]!.at) / 1000);
    // The log stores each commit as chunks: a JSON array of [tenant, key, entity, id, ts, receivedAt, body].
    const log = new Database(join(dataDir, 'log.db'), { readonly: true });
    const rows = log
      .prepare<[number, number], { jitter: number; ok: number }>(
        `SELECT json_extract(r.value, '$[6].startedAt') - json_extract(r.value, '$[6].scheduledAt') AS jitter,
                json_extract(r.value, '$[6].ok') AS ok
         FROM chunks c, json_each(c.records) r
         WHERE c.stream = 'checks' AND json_extract(r.value, '$[4]') >= ? AND json_extract(r.value, '$[4]') < ?`,
      )
      .all(from, ended - 15_000);
    // Chunks, and the idempotency keys (a check's key is its identity, so every check has one).
    const logPages = log
      .prepare<[], { bytes: number }>(
        "SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name IN ('chunks', 'chunks_stream', 'idempotency_keys', 'idempotency_keys_age')",
      )
      .get()!.bytes;
    const logRows = log
      .prepare<[], { n: number }>(
        "SELECT SUM(end_offset - first_offset) AS n FROM chunks WHERE stream = 'checks'",
      )
      .get()!.n;
    log.close();
    if (role === 'probe') await project(dataDir);
    const store = new Database(join(dataDir, 'beacon.db'), { readonly: true });
    const checkPages = store
      .prepare<[], { bytes: number }>("SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name = 'monitor_checks'")
      .get()!.bytes;
    const stored = store.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM monitor_checks').get()!.n;
    store.close();

    const jitter = new Histogram(1);
    for (const r of rows) jitter.record(r.jitter);
    const window = (ended - 15_000 - from) / 1000;
    return {
      role,
      n,
      expectedPerSecond: n / interval,
      checksPerSecond: rows.length / window,
      jitter: { p50: jitter.percentile(50), p99: jitter.percentile(99), max: jitter.summary().max },
      rssPeakMb: Math.max(...steady.map((s) => s.rssMb)),
      rssMeanMb: steady.reduce((a, s) => a + s.rssMb, 0) / steady.length,
      cpuShare,
      stored,
      checkBytes: checkPages / stored,
      logBytes: logPages / logRows,
      up: rows.filter((r) => r.ok === 1).length / rows.length,
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const farm = await startFarm();
const results: Result[] = [];
try {
  for (const role of roles) {
    for (const n of counts) {
      const r = await runOne(role, n, farm.port);
      results.push(r);
      note(
        `${count(r.checksPerSecond)} checks/s of ${count(r.expectedPerSecond)} due · jitter p50 ${ms(r.jitter.p50)} p99 ${ms(r.jitter.p99)} · RSS peak ${r.rssPeakMb.toFixed(0)} MB · CPU ${(r.cpuShare * 100).toFixed(0)}%`,
      );
    }
  }
} finally {
  farm.child.kill('SIGTERM');
}

console.log(
  `\nMonitor: targets at ${interval} s against a local farm (${delayMs} ms ± 50% per answer), launched by bin/beacon${nodeFlags === undefined ? ' with its flags for the role' : ` with node flags "${nodeFlags}" instead of its own`}\n`,
);
console.log(
  '| role | targets | due/s | checks/s | jitter p50 | jitter p99 | jitter max | RSS peak | RSS mean | CPU (1 core) | up | stored bytes/check (table) | log bytes/record |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(
    `| \`beacon ${r.role}\` | ${count(r.n)} | ${r.expectedPerSecond.toFixed(1)} | ${r.checksPerSecond.toFixed(1)} | ${ms(r.jitter.p50)} | ${ms(r.jitter.p99)} | ${ms(r.jitter.max)} | ${r.rssPeakMb.toFixed(0)} MB | ${r.rssMeanMb.toFixed(0)} MB | ${(r.cpuShare * 100).toFixed(0)}% | ${(r.up * 100).toFixed(1)}% | ${r.checkBytes.toFixed(0)} | ${r.logBytes.toFixed(0)} |`,
  );
}
for (const role of roles) {
  const mine = results.filter((r) => r.role === role);
  const seed = mine.find((x) => x.n === 20_000);
  const keeps = mine.filter((r) => r.checksPerSecond >= r.expectedPerSecond * 0.98 && r.jitter.p99 <= 1000);
  console.log(
    `\n\`beacon ${role}\`: seed 000 target (20,000 targets, RSS ≤ 100 MB, p99 jitter ≤ 1 s): ${
      !seed
        ? 'not run'
        : seed.rssPeakMb <= 100 && seed.jitter.p99 <= 1000
          ? 'met'
          : `MISSED (RSS ${seed.rssPeakMb.toFixed(0)} MB, p99 ${ms(seed.jitter.p99)})`
    }`,
  );
  console.log(
    `\`beacon ${role}\`: largest count that kept up (≥ 98% of due checks, p99 jitter ≤ 1 s): ${keeps.length ? count(Math.max(...keeps.map((r) => r.n))) : 'none'}`,
  );
}
