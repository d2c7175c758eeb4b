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
import { cross, type Crossing } from './helpers/occupancy.ts';
import { freshDatabase, sqlRows } from './helpers/postgres.ts';
import { spawnBeacon } from './helpers/process.ts';
import { ADMIN_TOKEN, eventually, startTestBeacon } from './helpers/server.ts';

/**
 * The same occupancy history sent to `beacon start` on SQLite (in process) and to `beacon start
 * --store postgres://…` (a real child process): every count answer and every projected row must be
 * the same, and `beacon replay` against PostgreSQL must rebuild the rows identically.
 */

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TOKEN = ADMIN_TOKEN;

/** A Beacon the test talks to over HTTP only. */
interface Http {
  request(path: string, init?: { method?: string; json?: unknown }): Promise<Response>;
}
const httpOf = (url: string): Http => ({
  request: (path, init = {}) =>
    fetch(url + path, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    }),
});
async function call(beacon: Http, method: string, path: string, json: unknown, status: number) {
  const res = await beacon.request(path, { method, json });
  const text = await res.text();
  assert.equal(res.status, status, `${method} ${path} → ${res.status} ${text}`);
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

const SPACES = [
  { id: 'pg', name: 'Building' },
  { id: 'pg-1', name: 'Floor 1', parent: 'pg' },
  { id: 'pg-1-a', name: 'Room A', parent: 'pg-1' },
  { id: 'pg-1-b', name: 'Room B', parent: 'pg-1' },
];
const DOORWAYS = [
  { id: 'pg-front', name: 'front', a: 'pg', b: null },
  { id: 'pg-stairs', name: 'stairs', a: 'pg-1', b: 'pg' },
  { id: 'pg-room-a', name: 'room a', a: 'pg-1-a', b: 'pg-1' },
  { id: 'pg-room-b', name: 'room b', a: 'pg-1-b', b: 'pg-1' },
];
const SENSORS = ['pg-s0', 'pg-s1', 'pg-s2', 'pg-s3'];
// Placement ids are given, so both stores hold the same rows. pg-s3 moves from room a to room b at noon.
const PLACEMENTS = [
  { id: 'p0', sensor: 'pg-s0', doorway: 'pg-front', positive: 'a', from: '2026-04-01T00:00:00Z' },
  { id: 'p1', sensor: 'pg-s1', doorway: 'pg-stairs', positive: 'a', from: '2026-04-01T00:00:00Z' },
  {
    id: 'p3a',
    sensor: 'pg-s3',
    doorway: 'pg-room-a',
    positive: 'b',
    from: '2026-04-01T00:00:00Z',
    to: '2026-04-01T12:00:00Z',
  },
  { id: 'p3b', sensor: 'pg-s3', doorway: 'pg-room-b', positive: 'a', from: '2026-04-01T12:00:00Z' },
];
// Added after the events: pg-s2's events wait unplaced until it covers them.
const LATE_PLACEMENT = {
  id: 'p2',
  sensor: 'pg-s2',
  doorway: 'pg-room-a',
  positive: 'a',
  from: '2026-04-01T10:00:00Z',
};

/** 400 crossings over two days, in a fixed pseudo-random order, some sharing a millisecond. */
function crossings(): Crossing[] {
  const out: Crossing[] = [];
  // mulberry32: a fixed seed, so both Beacons and every run get the same history.
  let seed = 7;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  for (let i = 0; i < 400; i++) {
    const ts = Date.parse('2026-04-01T06:00:00Z') + (next() % 40) * 3_600_000 + (next() % 4) * 15_000;
    out.push({
      sensor: SENSORS[next() % SENSORS.length]!,
      ts: new Date(ts).toISOString(),
      direction: next() % 5 < 3 ? 1 : -1,
      ...(i % 7 === 0 ? { id: `e${i}` } : { sequence: i % 3 }),
    });
  }
  return out;
}
const EVENTS = crossings();
/** Out of order, in several batches, with a batch sent twice. */
const BATCHES = [
  EVENTS.slice(250),
  EVENTS.slice(0, 120).reverse(),
  EVENTS.slice(120, 250),
  EVENTS.slice(60, 180),
];

/** Every answer the API gives about the building: counts at times, series, live counts, unplaced. */
async function answers(beacon: Http) {
  // Without creation and receipt times: each Beacon stamps its own.
  const read = async (path: string) =>
    JSON.parse(await (await beacon.request(path)).text(), (key, value: unknown) =>
      key === 'createdAt' || key === 'receivedAt' ? undefined : value,
    ) as unknown;
  const out: unknown[] = [];
  for (const { id } of SPACES) {
    out.push(
      await read(`/v1/spaces/${id}/counts?from=2026-04-01T00:00:00Z&to=2026-04-03T00:00:00Z&interval=30m`),
    );
    for (const at of [
      '2026-04-01T09:59:59.999Z',
      '2026-04-01T12:00:00Z',
      '2026-04-02T12:07:30Z',
      '2026-04-05T00:00:00Z',
    ]) {
      out.push(await read(`/v1/spaces/${id}/count?at=${encodeURIComponent(at)}`));
    }
    const live = (await read(`/v1/spaces/${id}/count`)) as { count: number; raw: number };
    out.push({ live: [live.count, live.raw] });
  }
  out.push(await read('/v1/sensor-events/unplaced?limit=7'));
  for (const sensor of SENSORS) out.push(await read(`/v1/sensors/${sensor}`));
  out.push(await read('/v1/spaces'), await read('/v1/placements'));
  return out;
}

/**
 * The projected rows, column by column in the same order and types on both backends. `received_at`
 * is when each Beacon accepted the event, so it is left out when two Beacons are compared.
 */
const TABLES = (withReceived: boolean) => ({
  occupancy_events: {
    columns: `tenant, minute, sensor, ts, key, direction, ${withReceived ? 'received_at, ' : ''}late, placement, enters, leaves`,
    order: 'tenant, minute, sensor, ts, key',
  },
  occupancy_transfers: { columns: 'tenant, space, ts, source, amount', order: 'tenant, space, ts, source' },
  occupancy_minutes: {
    columns:
      'tenant, space, minute, net, min_prefix, max_prefix, entries, exits, late, area, last_ts, last_key',
    order: 'tenant, space, minute',
  },
  occupancy_hours: {
    columns: 'tenant, space, hour, net, min_prefix, max_prefix, entries, exits, late, area',
    order: 'tenant, space, hour',
  },
  occupancy_days: {
    columns: 'tenant, space, day, net, min_prefix, max_prefix, entries, exits, late, area',
    order: 'tenant, space, day',
  },
  occupancy_sensor_hours: {
    columns: 'tenant, hour, sensor, placement, up, down',
    order: 'tenant, hour, sensor, placement',
  },
  occupancy_sensor_last: {
    columns: `tenant, sensor, ts${withReceived ? ', received_at' : ''}`,
    order: 'tenant, sensor',
  },
});
/** A row as its values in column order (the SELECTs below make the types agree). */
const normal = (row: Record<string, unknown>) => Object.values(row);

async function pgRows(url: string, withReceived: boolean): Promise<unknown[][]> {
  const out: unknown[][] = [];
  for (const [table, { columns, order }] of Object.entries(TABLES(withReceived))) {
    // Every integer column as float8, so the driver gives numbers, as better-sqlite3 does.
    const select = columns
      .split(', ')
      .map((c) =>
        ['tenant', 'key', 'sensor', 'placement', 'space', 'last_key', 'source', 'enters', 'leaves'].includes(
          c,
        )
          ? c
          : c === 'late' && table === 'occupancy_events'
            ? 'late::int AS late'
            : `${c}::float8 AS ${c}`,
      )
      .join(', ');
    const rows = await sqlRows<Record<string, unknown>>(
      url,
      `SELECT ${select} FROM ${table} ORDER BY ${order}`,
    );
    out.push([table, rows.length], ...rows.map(normal));
  }
  return out;
}
function sqliteRows(dataDir: string): unknown[][] {
  const db = new Database(join(dataDir, 'beacon.db'), { readonly: true });
  try {
    const out: unknown[][] = [];
    for (const [table, { columns, order }] of Object.entries(TABLES(false))) {
      const rows = db.prepare(`SELECT ${columns} FROM ${table} ORDER BY ${order}`).all() as Record<
        string,
        unknown
      >[];
      out.push([table, rows.length], ...rows.map(normal));
    }
    return out;
  } finally {
    db.close();
  }
}
const digest = (rows: unknown[][]) => createHash('sha256').update(JSON.stringify(rows)).digest('hex');

test('beacon start --store postgres://… answers every occupancy query as SQLite does; replay rebuilds identical rows', async () => {
  const db = await freshDatabase();
  const pgDir = mkdtempSync(join(tmpdir(), 'beacon-occ-pg-'));
  const lite = await startTestBeacon();
  let beacon = await spawnBeacon(pgDir, { BEACON_ADMIN_TOKEN: TOKEN }, ['--store', db.url]);
  try {
    const pg = httpOf(beacon.url);
    const targets: Http[] = [lite, pg];
    const setUp = async (b: Http) => {
      for (const s of SPACES) await call(b, 'POST', '/v1/spaces', s, 201);
      for (const d of DOORWAYS) await call(b, 'POST', '/v1/doorways', d, 201);
      for (const id of SENSORS) await call(b, 'POST', '/v1/sensors', { id, name: id }, 201);
      for (const p of PLACEMENTS) await call(b, 'POST', '/v1/placements', p, 201);
    };
    for (const b of targets) await setUp(b);

    /** Waits until the PostgreSQL Beacon's occupancy sink has stored as much of its log as SQLite's. */
    const pgSettled = async () => {
      const end = (await lite.log.endOffsets('sensor-events')).get(0) ?? 0;
      await eventually(
        async () => {
          const rows = await sqlRows<{ n: string }>(
            db.url,
            "SELECT next_offset AS n FROM checkpoints WHERE consumer_group = 'sink-occupancy' AND partition = 0",
          );
          return Number(rows[0]?.n ?? 0) >= end ? true : undefined;
        },
        60_000,
        'the PostgreSQL sink to catch up',
      );
    };
    let records = 0;
    for (const batch of BATCHES) {
      const fromLite = await cross(lite, batch);
      records += fromLite.accepted;
      const fromPg = await call(pg, 'POST', '/v1/sensor-events', batch, 202);
      // The same answer, but for the record ids and times each Beacon gave the events.
      const withoutTimes = (body: unknown) => {
        const { items, ...rest } = body as { items: Record<string, unknown>[] };
        return { ...rest, items: items.map(({ receivedAt: _, id: __, ...item }) => item) };
      };
      assert.deepEqual(withoutTimes(fromPg), withoutTimes(fromLite), 'the same ingest answer');
      await pgSettled();
    }
    for (const b of targets) await call(b, 'POST', '/v1/placements', LATE_PLACEMENT, 201);
    // Move pg-s3 again: its second placement now ends, and a third one takes over.
    for (const b of targets) {
      await call(b, 'PATCH', '/v1/placements/p3b', { to: '2026-04-02T00:00:00Z' }, 200);
      await call(
        b,
        'POST',
        '/v1/placements',
        { id: 'p3c', sensor: 'pg-s3', doorway: 'pg-front', positive: 'b', from: '2026-04-02T00:00:00Z' },
        201,
      );
    }

    const expected = await answers(lite);
    const text = JSON.stringify(expected);
    assert.match(text, /"count":[1-9]/, 'the answers hold counts');
    assert.match(text, /"unplacedEvents":[1-9]/, 'and events no placement covers');
    assert.deepEqual(await answers(pg), expected, 'PostgreSQL answers as SQLite does');
    const liteRows = sqliteRows(lite.dataDir);
    assert.ok(liteRows.length > 800, `rows: ${liteRows.length}`);
    assert.deepEqual(await pgRows(db.url, false), liteRows, 'the same projected rows, value for value');

    beacon.child.kill('SIGTERM');
    assert.equal(await beacon.exited, 0, beacon.output());
    const original = digest(await pgRows(db.url, true));

    const replay = () =>
      run(process.execPath, [
        MAIN,
        'replay',
        '--stream',
        'sensor-events',
        '--data-dir',
        pgDir,
        '--store',
        db.url,
        '--log-level',
        'silent',
      ]);
    const first = await replay();
    assert.match(first.stdout, new RegExp(`^replayed ${records} sensor-events records in [\\d.]+ s$`, 'm'));
    assert.match(first.stderr, new RegExp(`replay sensor-events: ${records} records \\(100%\\)`));
    assert.equal(digest(await pgRows(db.url, true)), original, 'replay rebuilds the rows the live sink made');
    await replay();
    assert.equal(digest(await pgRows(db.url, true)), original, 'a second replay gives the same rows');

    beacon = await spawnBeacon(pgDir, { BEACON_ADMIN_TOKEN: TOKEN }, ['--store', db.url]);
    assert.deepEqual(await answers(httpOf(beacon.url)), expected, 'and the same answers after replay');
  } finally {
    beacon.child.kill('SIGTERM');
    await beacon.exited;
    await lite.destroy();
    rmSync(pgDir, { recursive: true, force: true });
  }
});
