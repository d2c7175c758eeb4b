import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.ts';
import { startMonitor } from '../src/monitor/monitor.ts';
import { checkProjection } from '../src/monitor/projection.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { startSink } from '../src/sink/sink.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { eventually } from './helpers/server.ts';
import { sampleTarget } from './helpers/targets.ts';

const logger = pino({ level: 'silent' });
let farm: TargetFarm;
before(async () => (farm = await startFarm({ tls: false })));
after(() => farm.close());

async function setup(spoolMaxBytes: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-spool-'));
  const config = loadConfig({
    flags: { dataDir, 'monitor.refreshMs': 200, 'monitor.spoolMaxBytes': spoolMaxBytes, logLevel: 'silent' },
  });
  const store = sqliteStore({ dataDir });
  await store.open();
  await store.tenants.ensure({ id: 'default', name: 'Default', createdAt: Date.now() });
  const now = Date.now();
  await store.targets.create(
    sampleTarget('site', {
      tenant: 'default',
      createdAt: now,
      updatedAt: now,
      url: `${farm.http}/ok`,
      intervalSeconds: 1,
      timeoutMs: 500,
    }),
  );
  const metrics = new Metrics();
  const log = new EmbeddedLog({ dataDir, maxQueue: 1000, logger });
  await log.open();
  const monitor = await startMonitor({ config, store, log, metrics, logger, retention: false });
  const value = async (name: 'spooled' | 'spoolDropped' | 'spoolBytes') =>
    (await monitor.metrics[name].get()).values[0]?.value ?? 0;
  return {
    store,
    log,
    monitor,
    metrics,
    value,
    async destroy() {
      await monitor.close();
      await log.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

test('while the log is down checks go to the spool, and every slot is stored once it is back', async () => {
  const s = await setup(1024 * 1024);
  try {
    await eventually(async () => ((await s.log.endOffsets('checks')).get(0)! > 1 ? true : undefined));
    await s.log.close();
    await eventually(async () => ((await s.value('spooled')) >= 3 ? true : undefined));
    assert.ok((await s.value('spoolBytes')) > 0);
    await s.log.open();
    await eventually(async () => ((await s.value('spoolBytes')) === 0 ? true : undefined));
    assert.equal(await s.value('spoolDropped'), 0);

    const sink = startSink({
      log: s.log,
      store: s.store,
      projection: checkProjection,
      batchSize: 100,
      config: loadConfig(),
      metrics: s.metrics,
      logger,
    });
    try {
      const checks = await eventually(async () => {
        const rows = await s.store.monitor.listChecks({ tenant: 'default', target: 'site', limit: 1000 });
        return rows.length >= 6 ? rows : undefined;
      });
      const slots = checks.map((c) => c.slot).sort((a, b) => a - b);
      for (let i = 1; i < slots.length; i++)
        assert.equal(slots[i], slots[i - 1]! + 1, `slot ${slots[i - 1]! + 1} lost`);
    } finally {
      await sink.close();
    }
  } finally {
    await s.destroy();
  }
});

test('a full spool drops checks and counts every one', async () => {
  const s = await setup(1024);
  try {
    await s.log.close();
    await eventually(async () => ((await s.value('spoolDropped')) >= 2 ? true : undefined));
    assert.ok((await s.value('spoolBytes')) <= 1024);
    const text = await s.metrics.registry.metrics();
    assert.match(text, /beacon_monitor_spool_dropped_checks_total [1-9]/);
    await s.log.open();
  } finally {
    await s.destroy();
  }
});
