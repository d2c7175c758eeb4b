/**
 * What a scrape of /v1/probe-metrics costs at 20,000 targets (`--targets N`): its time, its size, and
 * how long the API's event loop was held meanwhile (the longest delay, sampled every 10 ms), beside
 * the same delay for a scrape-free second as the baseline. The store is filled directly (targets and
 * their latest check), Beacon runs in this process with the prober off, so the loop measured is the
 * one that serves the scrape; curl scrapes from another process.
 *
 *   node bench/probe-metrics.ts [--targets 20000]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { loadConfig } from '../src/config/load.ts';
import type { CheckRow } from '../src/monitor/model.ts';
import type { HttpTarget } from '../src/monitor/target.ts';
import { startBeacon } from '../src/roles/start.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { sampleTarget } from '../test/helpers/targets.ts';

const run = promisify(execFile);
const { values } = parseArgs({ options: { targets: { type: 'string', default: '20000' } } });
const count = Number(values.targets);
const token = 'bench-admin-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'beacon-probe-metrics-'));

const now = Date.now();
const target = (i: number): HttpTarget =>
  sampleTarget(`t${String(i).padStart(6, '0')}`, {
    tenant: 'default',
    createdAt: now,
    updatedAt: now,
    url: `https://site-${i}.example.com/health`,
  });
const check = (t: HttpTarget): CheckRow => ({
  tenant: 'default',
  kind: 'http',
  target: t.id,
  region: 'default',
  slot: Math.floor(now / 60_000),
  scheduledAt: Math.floor(now / 60_000) * 60_000,
  ok: true,
  state: 'up',
  startedAt: now,
  durationMs: 87.5,
  phases: { dnsMs: 1.2, connectMs: 10.1, tlsMs: 30.4, ttfbMs: 40.2, transferMs: 5.6 },
  status: 200,
  httpVersion: '1.1',
  bytes: 512,
  tlsExpiresAt: now + 60 * 86_400_000,
  patternMatched: null,
  redirects: 0,
  error: null,
});

const store = sqliteStore({ dataDir: dir });
await store.open();
await store.tenants.ensure({ id: 'default', name: 'default', createdAt: now });
for (let i = 0; i < count; i += 1000) {
  const batch = Array.from({ length: Math.min(1000, count - i) }, (_, j) => target(i + j));
  for (const t of batch) await store.targets.create(t);
  await store.transaction((tx) => tx.checks.insert(batch.map(check)));
}
await store.close();

const beacon = await startBeacon(
  loadConfig({
    flags: {
      port: 0,
      host: '127.0.0.1',
      dataDir: dir,
      logLevel: 'silent',
      adminToken: token,
      'monitor.enabled': false,
      'rateLimit.perSecond': 0,
    },
  }),
);
try {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  await new Promise((r) => setTimeout(r, 1000));
  const idleMax = delay.max / 1e6;
  const rows: string[] = [];
  for (let scrape = 1; scrape <= 3; scrape++) {
    delay.reset();
    delay.enable();
    const started = performance.now();
    const { stdout } = await run('curl', [
      '-sS',
      '--fail',
      '-H',
      `authorization: Bearer ${token}`,
      '-o',
      join(dir, 'scrape.txt'),
      '-w',
      '%{size_download}',
      `${beacon.url}/v1/probe-metrics`,
    ]);
    const ms = performance.now() - started;
    delay.disable();
    const body = await readFile(join(dir, 'scrape.txt'), 'utf8');
    const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    rows.push(
      `scrape ${scrape}: ${ms.toFixed(0)} ms, ${(Number(stdout) / 1048576).toFixed(1)} MiB, ${series} series, longest event-loop delay ${(delay.max / 1e6).toFixed(1)} ms`,
    );
  }
  console.log(`/v1/probe-metrics at ${count} https targets (sqlite, one process)`);
  console.log(`baseline: longest event-loop delay with no scrape ${idleMax.toFixed(1)} ms`);
  for (const row of rows) console.log(row);
} finally {
  await beacon.close();
  rmSync(dir, { recursive: true, force: true });
}
