import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { startTestBeacon, type TestBeacon } from './helpers/server.ts';
import { countAt, cross, get, model, type Crossing } from './helpers/occupancy.ts';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TABLES = {
  occupancy_events: 'tenant, minute, sensor, ts, key',
  occupancy_transfers: 'tenant, space, ts, source',
  occupancy_minutes: 'tenant, space, minute',
  occupancy_hours: 'tenant, space, hour',
  occupancy_days: 'tenant, space, day',
  occupancy_sensor_hours: 'tenant, hour, sensor, placement',
  occupancy_sensor_last: 'tenant, sensor',
};

/** A digest of every projected occupancy row, to compare rebuilds byte for byte. */
function digest(dataDir: string): { hash: string; rows: number } {
  const db = new Database(join(dataDir, 'beacon.db'), { readonly: true });
  try {
    const hash = createHash('sha256');
    let rows = 0;
    for (const [table, order] of Object.entries(TABLES)) {
      for (const row of db.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()) {
        hash.update(JSON.stringify(row));
        rows += 1;
      }
    }
    return { hash: hash.digest('hex'), rows };
  } finally {
    db.close();
  }
}

/** What the API answers about the test building, at fixed times. */
async function answers(beacon: TestBeacon) {
  const out: unknown[] = [];
  for (const space of ['rp', 'rp-1', 'rp-1-a']) {
    out.push(
      await get(
        beacon,
        `/v1/spaces/${space}/counts?from=2026-04-01T00:00:00Z&to=2026-04-03T00:00:00Z&interval=30m`,
      ),
    );
    for (const at of ['2026-04-01T12:00:00Z', '2026-04-02T12:00:00Z'])
      out.push(await countAt(beacon, space, at));
  }
  out.push(await get(beacon, '/v1/sensor-events/unplaced'));
  return out;
}

async function replayCli(dataDir: string, stream = 'sensor-events') {
  return run(process.execPath, [
    MAIN,
    'replay',
    '--stream',
    stream,
    '--data-dir',
    dataDir,
    '--log-level',
    'silent',
  ]);
}

test('beacon replay rebuilds every count from the raw log, identically each time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-replay-'));
  try {
    let beacon = await startTestBeacon({}, dir);
    await model(beacon, {
      spaces: [{ id: 'rp' }, { id: 'rp-1', parent: 'rp' }, { id: 'rp-1-a', parent: 'rp-1' }],
      doorways: [
        { id: 'rp-front', a: 'rp', b: null },
        { id: 'rp-stairs', a: 'rp-1', b: 'rp' },
        { id: 'rp-room', a: 'rp-1-a', b: 'rp-1' },
      ],
      sensors: ['rp-s0', 'rp-s1', 'rp-s2'],
      placements: [
        { sensor: 'rp-s0', doorway: 'rp-front', positive: 'a', from: '2026-04-01T00:00:00Z' },
        { sensor: 'rp-s1', doorway: 'rp-stairs', positive: 'a', from: '2026-04-01T00:00:00Z' },
      ],
    });
    const events: Crossing[] = [];
    for (let i = 0; i < 300; i++) {
      const ts = new Date(Date.parse('2026-04-01T06:00:00Z') + i * 331_000).toISOString();
      events.push({
        sensor: ['rp-s0', 'rp-s1', 'rp-s2'][i % 3]!,
        ts,
        direction: i % 4 === 3 ? -1 : 1,
      });
    }
    // Out of order, in several batches, with a duplicate batch.
    await cross(beacon, events.slice(200));
    await cross(beacon, events.slice(0, 100).reverse());
    await cross(beacon, events.slice(100, 200));
    await cross(beacon, events.slice(100, 200));
    // rp-s2's events waited unplaced until this placement covered them.
    await model(beacon, {
      placements: [{ sensor: 'rp-s2', doorway: 'rp-room', positive: 'a', from: '2026-04-01T12:00:00Z' }],
    });
    const before = await answers(beacon);
    await beacon.close();
    const original = digest(dir);
    assert.ok(original.rows > 600);

    const first = await replayCli(dir);
    assert.match(first.stdout, /^replayed 300 sensor-events records in [\d.]+ s$/m);
    assert.match(first.stderr, /replay sensor-events: 300 records \(100%\)/);
    const once = digest(dir);
    await replayCli(dir);
    const twice = digest(dir);
    assert.equal(once.hash, original.hash, 'replay rebuilds the rows the live sink made');
    assert.equal(twice.hash, once.hash, 'a second replay gives the same rows');

    beacon = await startTestBeacon({}, dir);
    try {
      assert.deepEqual(await answers(beacon), before);
    } finally {
      await beacon.close();
    }
    assert.equal(digest(dir).hash, original.hash, 'the restarted sink resumes after the replayed records');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('beacon replay refuses to run while a beacon start runs the sinks of the same data directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-replay-'));
  const beacon = await startTestBeacon({}, dir);
  try {
    await assert.rejects(replayCli(dir), (err: { stderr: string; code: number }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /STORE_IN_USE/);
      return true;
    });
  } finally {
    await beacon.close();
  }
  try {
    // Stopped, it lets the replay run; and a start waits for no one but refuses during a replay.
    const done = await replayCli(dir);
    assert.match(done.stdout, /^replayed 0 sensor-events records/m);
    const replaying = sqliteStore({ dataDir: dir });
    await replaying.open();
    const release = await replaying.lockProjections('exclusive');
    try {
      await assert.rejects(startTestBeacon({}, dir), /STORE_IN_USE|replay is rebuilding/);
    } finally {
      await release();
      await replaying.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('beacon replay refuses a stream whose projection cannot reset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'beacon-replay-'));
  try {
    await assert.rejects(replayCli(dir, 'messages'), (err: { stderr: string; code: number }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /REPLAY_UNSUPPORTED/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
