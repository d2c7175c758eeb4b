import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { MonitorMetrics } from './metrics.ts';
import type { Check } from './model.ts';
import { Prober, type ProberOptions } from './prober.ts';
import { parseShard } from './schedule.ts';
import { pagesOf, sampleTarget } from '../../test/helpers/targets.ts';

// A day apart: no check falls due while the test runs.
const target = (id: string, updatedAt: number) =>
  sampleTarget(id, { updatedAt, url: `http://127.0.0.1:9/${id}`, intervalSeconds: 86_400, timeoutMs: 1000 });

/** A prober of the given targets that checks nothing while a test runs. */
const quietProber = (options: Pick<ProberOptions, 'targets'> & Partial<ProberOptions>) =>
  new Prober({
    emit: () => undefined,
    region: 'local',
    shard: parseShard('0/1'),
    concurrency: 10,
    perHost: 2,
    refreshMs: 60_000,
    metrics: new MonitorMetrics(new Registry()),
    logger: pino({ level: 'silent' }),
    probeContext: { lastPush: () => Promise.resolve(undefined), pingCommand: 'ping' },
    ...options,
  });

test('a refresh that finds the targets version unchanged reads no targets', async () => {
  let set = [target('a', 1), target('b', 1)];
  let version = 'v1';
  let reads = 0;
  const prober = quietProber({
    targets: () => {
      reads += 1;
      return pagesOf(() => set);
    },
    version: () => Promise.resolve(version),
  });
  await prober.start();
  try {
    assert.equal(reads, 1);
    assert.equal(prober.targetCount, 2);
    await prober.refresh();
    await prober.refresh();
    assert.equal(reads, 1, 'same version: the targets are not read again');
    set = [target('a', 2)];
    version = 'v2';
    await prober.refresh();
    assert.equal(reads, 2);
    assert.equal(prober.targetCount, 1, 'a new version is read and applied');
  } finally {
    await prober.stop();
  }
});

test('a paused target is not scheduled, whether preloaded from the file or read from the store', async () => {
  const paused = { ...target('p', 1), paused: true };
  const prober = quietProber({ targets: () => pagesOf(() => [target('a', 1), paused]) });
  prober.preload([paused, target('b', 1)]);
  assert.equal(prober.targetCount, 1, 'preloaded: only b');
  await prober.start();
  try {
    assert.equal(prober.targetCount, 1, 'from the store: only a');
  } finally {
    await prober.stop();
  }
});

test('a set reconciled in batches (a pool part) replaces the schedule only when finished', async () => {
  const prober = quietProber({ targets: () => pagesOf(() => []) });
  const first = prober.reconcile();
  first.add([target('a', 1), target('b', 1)]);
  first.add([target('c', 1)]);
  assert.equal(prober.targetCount, 0, 'nothing changes before finish');
  first.finish();
  assert.equal(prober.targetCount, 3);
  // The next set drops b and changes c; a and c are kept or replanned as a refresh would.
  const second = prober.reconcile();
  second.add([target('a', 1)]);
  assert.equal(prober.targetCount, 3, 'b still runs while the set is handed over');
  second.add([target('c', 2), { ...target('d', 1), paused: true }]);
  second.finish();
  assert.equal(prober.targetCount, 2, 'a and c; b is gone and the paused d is not scheduled');
  await prober.stop();
});

test(
  'slots a target misses while its check waits for a per-host place count under their own reason and travel with its next check',
  { timeout: 60_000 },
  async () => {
    // Each answer takes 700 ms; two targets on one host every second with a per-host limit of 1 need
    // 1.4 s of the host per second, so checks queue behind each other and slots pass unchecked.
    const server = http.createServer((_req, res) => void setTimeout(() => res.end('ok'), 700));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const registry = new Registry();
    const metrics = new MonitorMetrics(registry);
    const checks: Check[] = [];
    const slow = (id: string) =>
      sampleTarget(id, { url: `http://127.0.0.1:${port}/${id}`, intervalSeconds: 1, timeoutMs: 1000 });
    const prober = new Prober({
      targets: () => pagesOf(() => [slow('a'), slow('b')], 1),
      emit: (record) => checks.push(record.body as Check),
      region: 'local',
      shard: parseShard('0/1'),
      concurrency: 10,
      perHost: 1,
      refreshMs: 60_000,
      metrics,
      logger: pino({ level: 'silent' }),
      probeContext: { lastPush: () => Promise.resolve(undefined), pingCommand: 'ping' },
    });
    await prober.start();
    try {
      const perHost = async () =>
        (await metrics.skipped.get()).values.find((v) => v.labels.reason === 'per-host-limit')?.value ?? 0;
      while ((await perHost()) === 0 || !checks.some((c) => c.observed?.missed?.reason === 'per-host-limit'))
        await new Promise((r) => setTimeout(r, 100));
      const reported = checks.find((c) => c.observed?.missed?.reason === 'per-host-limit')!;
      assert.ok(reported.observed!.missed!.slots >= 1);
      assert.equal(reported.error, null, 'a missed slot is not a failure of the check that reports it');
      // Exactly once: no slot of a target is checked twice.
      const keys = checks.map((c) => `${c.target}@${c.scheduledAt}`);
      assert.equal(new Set(keys).size, keys.length);
      assert.match(
        await registry.metrics(),
        /beacon_monitor_skipped_slots_total\{reason="per-host-limit"\} [1-9]/,
      );
    } finally {
      await prober.stop();
      server.close();
    }
  },
);
