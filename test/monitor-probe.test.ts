import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { inShard } from '../src/monitor/schedule.ts';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
/** What `npm run build` bundles for bin/beacon probe (scripts/bundle-probe.ts). */
const BUNDLE = fileURLToPath(new URL('../dist/probe/beacon.mjs', import.meta.url));

/** `beacon probe --shard …` as a real child process; resolves with its metrics URL once it runs. */
async function spawnProbe(
  dataDir: string,
  shard: string,
  options: { entry?: string; env?: Record<string, string> } = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      options.entry ?? MAIN,
      ...['probe', '--shard', shard, '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir],
    ],
    {
      env: {
        ...process.env,
        BEACON_LOG_LEVEL: 'warn',
        BEACON_MONITOR_REFRESH_MS: '200',
        BEACON_MONITOR_PER_HOST: '50',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const url = await eventually(
    () => Promise.resolve(/Metrics: (http:\/\/\S+)\/metrics/.exec(output)?.[1]),
    20_000,
    `probe start:\n${output}`,
  );
  return { child, url };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

let farm: TargetFarm;
let beacon: TestBeacon;
before(async () => {
  farm = await startFarm({ tls: false });
  // The API and sinks run here; only the separate probe processes check targets.
  beacon = await startTestBeacon({ 'monitor.enabled': false });
});
after(async () => {
  await beacon.destroy();
  await farm.close();
});

test('beacon probe --shard i/n: two agents split the targets by consistent hashing, through the log', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `t${i}`);
  for (const id of ids) {
    const res = await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id, url: `${farm.http}/text/${id}`, intervalSeconds: 1, timeoutMs: 800 },
    });
    assert.equal(res.status, 201);
  }
  const probes = [await spawnProbe(beacon.dataDir, '0/2'), await spawnProbe(beacon.dataDir, '1/2')];
  try {
    for (const [index, probe] of probes.entries()) {
      const text = await (await fetch(`${probe.url}/metrics`)).text();
      const scheduled = Number(/^beacon_monitor_targets (\d+)/m.exec(text)?.[1]);
      const expected = ids.filter((id) => inShard(`default/${id}`, { index, count: 2 })).length;
      assert.equal(scheduled, expected, `shard ${index}/2 schedules its share`);
      assert.match(text, /beacon_monitor_schedule_jitter_seconds_bucket/);
    }
    // Every target's checks reach the store through the shared log, each slot once.
    for (const id of ids) {
      const items = await eventually(
        async () => {
          const res = await beacon.request(`/v1/targets/${id}/checks`);
          const body = (await res.json()) as { items: { slot: number }[] };
          return body.items.length >= 2 ? body.items : undefined;
        },
        15_000,
        `checks of ${id}`,
      );
      assert.equal(new Set(items.map((c) => c.slot)).size, items.length);
    }
    const hits = ids.map((id) => farm.hits.get(`/text/${id}`) ?? 0);
    assert.ok(
      hits.every((n) => n >= 2),
      `every target probed: ${hits.join(',')}`,
    );
  } finally {
    const codes = await Promise.all(probes.map((p) => stop(p.child)));
    assert.deepEqual(codes, [0, 0], 'probes stop cleanly on SIGTERM');
  }
});

test('the bundled probe (npm run build) checks targets through the log, its writer thread included', async () => {
  assert.ok(
    existsSync(BUNDLE),
    `${BUNDLE} is missing: npm run build makes it (npm test runs the build first)`,
  );
  const ids = ['bundled-a', 'bundled-b'];
  for (const id of ids) {
    const res = await beacon.request('/v1/targets', {
      method: 'POST',
      json: { id, url: `${farm.http}/text/${id}`, intervalSeconds: 1, timeoutMs: 800 },
    });
    assert.equal(res.status, 201);
  }
  const probe = await spawnProbe(beacon.dataDir, '0/1', {
    entry: BUNDLE,
    env: { BEACON_EMBEDDED_LOG_WRITER_THREAD: 'true' },
  });
  try {
    for (const id of ids) {
      await eventually(
        async () => {
          const res = await beacon.request(`/v1/targets/${id}/checks`);
          const body = (await res.json()) as { items: { ok: boolean }[] };
          return body.items.some((c) => c.ok) ? true : undefined;
        },
        15_000,
        `checks of ${id} from the bundled probe`,
      );
    }
  } finally {
    assert.equal(await stop(probe.child), 0, 'the bundled probe stops cleanly on SIGTERM');
  }
});
