import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { MonitorMetrics } from './metrics.ts';
import { Prober } from './prober.ts';
import { parseShard } from './schedule.ts';
import { sampleTarget } from '../../test/helpers/targets.ts';

// A day apart: no check falls due while the test runs.
const target = (id: string, updatedAt: number) =>
  sampleTarget(id, { updatedAt, url: `http://127.0.0.1:9/${id}`, intervalSeconds: 86_400, timeoutMs: 1000 });

test('a refresh that finds the targets version unchanged reads no targets', async () => {
  let set = [target('a', 1), target('b', 1)];
  let version = 'v1';
  let reads = 0;
  const prober = new Prober({
    targets: () => {
      reads += 1;
      return Promise.resolve(set);
    },
    version: () => Promise.resolve(version),
    emit: () => undefined,
    region: 'local',
    shard: parseShard('0/1'),
    concurrency: 10,
    perHost: 2,
    refreshMs: 60_000,
    metrics: new MonitorMetrics(new Registry()),
    logger: pino({ level: 'silent' }),
    probeContext: { lastPush: () => Promise.resolve(undefined), pingCommand: 'ping' },
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
