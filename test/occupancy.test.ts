import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ADMIN_TOKEN, startTestBeacon, type TestBeacon } from './helpers/server.ts';
import { call, countAt, cross, get, model, settled } from './helpers/occupancy.ts';

interface Bucket {
  start: string;
  startCount: { count: number; raw: number };
  endCount: { count: number; raw: number };
  peak: { count: number; raw: number };
  entries: number;
  exits: number;
  lateEvents: number;
  provisional: boolean;
}
const seriesOf = async (beacon: TestBeacon, space: string, from: string, to: string, interval: string) =>
  (
    await get<{ buckets: Bucket[] }>(
      beacon,
      `/v1/spaces/${space}/counts?from=${from}&to=${to}&interval=${interval}`,
    )
  ).buckets;

describe('occupancy', () => {
  let beacon: TestBeacon;
  before(async () => {
    // No daily reset here, so corrected and raw differ only by the zero clamp.
    beacon = await startTestBeacon({ 'occupancy.resetTime': '' });
  });
  after(() => beacon.destroy());

  test('counts roll up a building › floor › room hierarchy', async () => {
    await model(beacon, {
      spaces: [{ id: 'hq' }, { id: 'hq-1', parent: 'hq' }, { id: 'hq-1-a', parent: 'hq-1' }],
      doorways: [
        { id: 'hq-front', a: 'hq', b: null },
        { id: 'hq-stairs', a: 'hq-1', b: 'hq' },
        { id: 'hq-1-a-door', a: 'hq-1-a', b: 'hq-1' },
      ],
      sensors: ['s-front', 's-stairs', 's-room'],
      placements: [
        { sensor: 's-front', doorway: 'hq-front', positive: 'a', from: '2026-03-10T00:00:00.000Z' },
        { sensor: 's-stairs', doorway: 'hq-stairs', positive: 'a', from: '2026-03-10T00:00:00.000Z' },
        { sensor: 's-room', doorway: 'hq-1-a-door', positive: 'b', from: '2026-03-10T00:00:00.000Z' },
      ],
    });
    await cross(beacon, [
      { sensor: 's-front', ts: '2026-03-10T09:00:00.000Z', direction: 1 },
      { sensor: 's-front', ts: '2026-03-10T09:01:00.000Z', direction: 1 },
      { sensor: 's-front', ts: '2026-03-10T09:02:00.000Z', direction: 1 },
      { sensor: 's-stairs', ts: '2026-03-10T09:10:00.000Z', direction: 1 },
      { sensor: 's-stairs', ts: '2026-03-10T09:11:00.000Z', direction: 1 },
      // This sensor's +1 points out of the room (positive side b = the floor): -1 enters the room.
      { sensor: 's-room', ts: '2026-03-10T09:20:00.000Z', direction: -1 },
      { sensor: 's-room', ts: '2026-03-10T09:40:00.000Z', direction: 1 },
    ]);
    const at = async (t: string) =>
      Promise.all(['hq', 'hq-1', 'hq-1-a'].map(async (s) => (await countAt(beacon, s, t)).count));
    assert.deepEqual(await at('2026-03-10T08:59:59.999Z'), [0, 0, 0]);
    assert.deepEqual(await at('2026-03-10T09:05:00.000Z'), [3, 0, 0]);
    assert.deepEqual(await at('2026-03-10T09:30:00.000Z'), [3, 2, 1]);
    assert.deepEqual(await at('2026-03-10T09:45:00.000Z'), [3, 2, 0]);
    // The exact instant of an event counts it.
    assert.deepEqual(await at('2026-03-10T09:20:00.000Z'), [3, 2, 1]);

    const floor = await seriesOf(
      beacon,
      'hq-1',
      '2026-03-10T09:00:00.000Z',
      '2026-03-10T10:00:00.000Z',
      '15m',
    );
    assert.equal(floor.length, 4);
    assert.deepEqual(
      floor.map((b) => [b.startCount.count, b.endCount.count, b.peak.count, b.entries, b.exits]),
      [
        [0, 2, 2, 2, 0],
        [2, 2, 2, 0, 0],
        [2, 2, 2, 0, 0],
        [2, 2, 2, 0, 0],
      ],
    );
    const room = await seriesOf(
      beacon,
      'hq-1-a',
      '2026-03-10T09:00:00.000Z',
      '2026-03-10T10:00:00.000Z',
      '1h',
    );
    assert.deepEqual(
      room.map((b) => [b.startCount.count, b.endCount.count, b.peak.count, b.entries, b.exits]),
      [[0, 0, 1, 1, 1]],
    );
  });

  test('a sensor moved between doorways mid-day leaves earlier answers unchanged', async () => {
    await model(beacon, {
      spaces: [{ id: 'mv-a' }, { id: 'mv-b' }],
      doorways: [
        { id: 'mv-door-a', a: 'mv-a', b: null },
        { id: 'mv-door-b', a: 'mv-b', b: null },
      ],
      sensors: ['mv-s'],
      placements: [
        {
          id: 'mv-p1',
          sensor: 'mv-s',
          doorway: 'mv-door-a',
          positive: 'a',
          from: '2026-03-11T06:00:00.000Z',
        },
      ],
    });
    await cross(beacon, [
      { sensor: 'mv-s', ts: '2026-03-11T09:00:00.000Z', direction: 1 },
      { sensor: 'mv-s', ts: '2026-03-11T10:00:00.000Z', direction: 1 },
    ]);
    const before = await seriesOf(
      beacon,
      'mv-a',
      '2026-03-11T06:00:00.000Z',
      '2026-03-11T12:00:00.000Z',
      '1h',
    );
    assert.equal((await countAt(beacon, 'mv-a', '2026-03-11T11:00:00.000Z')).count, 2);

    // A second open placement would overlap the first.
    const overlap = await beacon.request('/v1/placements', {
      method: 'POST',
      json: { sensor: 'mv-s', doorway: 'mv-door-b', positive: 'a', from: '2026-03-11T12:00:00.000Z' },
    });
    assert.equal(overlap.status, 409);
    assert.equal(((await overlap.json()) as { error: { code: string } }).error.code, 'PLACEMENT_OVERLAP');

    // The move: end the first placement at noon, start the second there.
    await call(beacon, 'PATCH', '/v1/placements/mv-p1', { to: '2026-03-11T12:00:00.000Z' }, 200);
    await model(beacon, {
      placements: [{ sensor: 'mv-s', doorway: 'mv-door-b', positive: 'a', from: '2026-03-11T12:00:00.000Z' }],
    });
    await cross(beacon, [
      { sensor: 'mv-s', ts: '2026-03-11T13:00:00.000Z', direction: 1 },
      // A late event from before the move still counts against the old doorway.
      { sensor: 'mv-s', ts: '2026-03-11T11:00:00.000Z', direction: -1 },
    ]);
    assert.equal((await countAt(beacon, 'mv-a', '2026-03-11T10:30:00.000Z')).count, 2);
    assert.equal((await countAt(beacon, 'mv-a', '2026-03-11T14:00:00.000Z')).count, 1);
    assert.equal((await countAt(beacon, 'mv-b', '2026-03-11T11:30:00.000Z')).count, 0);
    assert.equal((await countAt(beacon, 'mv-b', '2026-03-11T14:00:00.000Z')).count, 1);
    const after = await seriesOf(
      beacon,
      'mv-a',
      '2026-03-11T06:00:00.000Z',
      '2026-03-11T12:00:00.000Z',
      '1h',
    );
    assert.deepEqual(after.slice(0, 5), before.slice(0, 5), 'history before the late event is unchanged');
  });

  test('late and out-of-order events correct history, the live count and the series', async () => {
    await model(beacon, {
      spaces: [{ id: 'late-room' }],
      doorways: [{ id: 'late-door', a: 'late-room', b: null }],
      sensors: ['late-s'],
      placements: [
        { sensor: 'late-s', doorway: 'late-door', positive: 'a', from: '2026-01-01T00:00:00.000Z' },
      ],
    });
    const now = Date.now();
    const t = (ms: number) => new Date(now + ms).toISOString();
    await cross(beacon, [
      { sensor: 'late-s', ts: t(-10_000), direction: 1 },
      { sensor: 'late-s', ts: t(-5_000), direction: 1 },
      { sensor: 'late-s', ts: t(-1_000), direction: 1 },
    ]);
    assert.equal((await get<{ count: number }>(beacon, '/v1/spaces/late-room/count')).count, 3);
    const hourAgo = t(-3_600_000);
    assert.equal((await countAt(beacon, 'late-room', hourAgo)).count, 0);

    // Two exits that happened an hour and a half ago arrive now, in reverse order.
    await cross(beacon, [
      { sensor: 'late-s', ts: t(-5_000_000), direction: 1 },
      { sensor: 'late-s', ts: t(-5_400_000), direction: 1 },
    ]);
    assert.equal((await countAt(beacon, 'late-room', hourAgo)).count, 2);
    const live = await get<{ count: number; raw: number; provisional: boolean }>(
      beacon,
      '/v1/spaces/late-room/count',
    );
    assert.equal(live.count, 5);
    assert.equal(live.raw, 5);
    assert.equal(live.provisional, true);

    const from = new Date(Math.floor((now - 7_200_000) / 3_600_000) * 3_600_000).toISOString();
    const buckets = await seriesOf(beacon, 'late-room', from, t(60_000), '1m');
    const marked = buckets.filter((b) => b.lateEvents > 0);
    assert.equal(
      marked.reduce((n, b) => n + b.lateEvents, 0),
      2,
      'the two late events are marked',
    );
    assert.equal(buckets.at(-1)!.endCount.count, 5);
    assert.ok(
      buckets.every((b) => b.provisional),
      'recent figures are provisional',
    );
    const old = await countAt(beacon, 'late-room', '2026-01-02T00:00:00.000Z');
    assert.equal(old.provisional, false);
  });

  test('duplicates are stored and counted once', async () => {
    await model(beacon, {
      spaces: [{ id: 'dup-room' }],
      doorways: [{ id: 'dup-door', a: 'dup-room', b: null }],
      sensors: ['dup-s'],
      placements: [{ sensor: 'dup-s', doorway: 'dup-door', positive: 'a', from: '2026-03-12T00:00:00.000Z' }],
    });
    const batch = [
      { sensor: 'dup-s', ts: '2026-03-12T09:00:00.000Z', direction: 1 as const },
      // Same sensor, time and direction: a second person only when the sequence differs.
      { sensor: 'dup-s', ts: '2026-03-12T09:00:00.000Z', direction: 1 as const, sequence: 1 },
      { sensor: 'dup-s', ts: '2026-03-12T09:05:00.000Z', direction: 1 as const, id: 'evt-7' },
    ];
    const first = await cross(beacon, batch);
    assert.deepEqual([first.accepted, first.duplicates], [3, 0]);
    const again = await cross(beacon, batch);
    assert.deepEqual([again.accepted, again.duplicates], [0, 3]);
    // An id makes the event: a retry with a corrected timestamp is still the same event.
    const retry = await cross(beacon, [
      { sensor: 'dup-s', ts: '2026-03-12T09:06:00.000Z', direction: 1, id: 'evt-7' },
    ]);
    assert.deepEqual([retry.accepted, retry.duplicates], [0, 1]);
    assert.equal((await countAt(beacon, 'dup-room', '2026-03-12T10:00:00.000Z')).count, 3);
  });

  test('events with no placement are kept, reported, and counted once a placement covers them', async () => {
    await model(beacon, {
      spaces: [{ id: 'np-room' }],
      doorways: [{ id: 'np-door', a: 'np-room', b: null }],
      sensors: ['np-s'],
    });
    const posted = await cross(beacon, [
      { sensor: 'np-s', ts: '2026-03-13T09:00:00.000Z', direction: 1 },
      { sensor: 'np-s', ts: '2026-03-13T09:30:00.000Z', direction: 1 },
    ]);
    assert.equal(posted.unplaced, 2);
    const listed = await get<{ items: { sensor: string; ts: string }[] }>(
      beacon,
      '/v1/sensor-events/unplaced?sensor=np-s',
    );
    assert.deepEqual(
      listed.items.map((e) => e.ts),
      ['2026-03-13T09:00:00.000Z', '2026-03-13T09:30:00.000Z'],
    );
    assert.equal((await get<{ unplacedEvents: number }>(beacon, '/v1/sensors/np-s')).unplacedEvents, 2);
    assert.equal((await countAt(beacon, 'np-room', '2026-03-13T10:00:00.000Z')).count, 0);

    await model(beacon, {
      placements: [{ sensor: 'np-s', doorway: 'np-door', positive: 'a', from: '2026-03-13T09:15:00.000Z' }],
    });
    assert.equal((await countAt(beacon, 'np-room', '2026-03-13T10:00:00.000Z')).count, 1);
    assert.equal((await get<{ unplacedEvents: number }>(beacon, '/v1/sensors/np-s')).unplacedEvents, 1);
    await call(
      beacon,
      'PATCH',
      `/v1/placements/${(await get<{ items: { id: string }[] }>(beacon, '/v1/placements?sensor=np-s')).items[0]!.id}`,
      { from: '2026-03-13T08:00:00.000Z' },
      200,
    );
    assert.equal((await countAt(beacon, 'np-room', '2026-03-13T10:00:00.000Z')).count, 2);
    assert.equal(
      (await get<{ items: unknown[] }>(beacon, '/v1/sensor-events/unplaced?sensor=np-s')).items.length,
      0,
    );
  });

  test('model validation: 404 for unknown references, 409 for conflicts, 400 for bad input', async () => {
    const expect = async (method: string, path: string, json: unknown, status: number, code: string) => {
      const body = await call<{ error: { code: string } }>(beacon, method, path, json, status);
      assert.equal(body.error.code, code);
    };
    await expect(
      'POST',
      '/v1/sensor-events',
      [{ sensor: 'nobody', ts: '2026-03-10T00:00:00Z', direction: 1 }],
      404,
      'SENSOR_NOT_FOUND',
    );
    await expect(
      'POST',
      '/v1/sensor-events',
      [{ sensor: 'x', ts: '2026-03-10T00:00:00Z', direction: 2 }],
      400,
      'VALIDATION_FAILED',
    );
    await expect('POST', '/v1/sensor-events', [], 400, 'BATCH_EMPTY');
    await expect('POST', '/v1/spaces', { name: 'orphan', parent: 'nowhere' }, 404, 'SPACE_NOT_FOUND');
    await model(beacon, {
      spaces: [{ id: 'val-room' }],
      sensors: ['val-s'],
      doorways: [{ id: 'val-door', a: 'val-room', b: null }],
    });
    await expect('POST', '/v1/spaces', { id: 'val-room', name: 'again' }, 409, 'ALREADY_EXISTS');
    await expect(
      'POST',
      '/v1/doorways',
      { name: 'loop', a: 'val-room', b: 'val-room' },
      400,
      'VALIDATION_FAILED',
    );
    await expect(
      'POST',
      '/v1/placements',
      { sensor: 'ghost', doorway: 'val-door', positive: 'a', from: '2026-03-10T00:00:00Z' },
      404,
      'SENSOR_NOT_FOUND',
    );
    await expect(
      'POST',
      '/v1/placements',
      { sensor: 'val-s', doorway: 'ghost', positive: 'a', from: '2026-03-10T00:00:00Z' },
      404,
      'DOORWAY_NOT_FOUND',
    );
    await expect(
      'POST',
      '/v1/placements',
      {
        sensor: 'val-s',
        doorway: 'val-door',
        positive: 'a',
        from: '2026-03-10T00:00:00Z',
        to: '2026-03-09T00:00:00Z',
      },
      400,
      'VALIDATION_FAILED',
    );
    await model(beacon, {
      placements: [
        {
          sensor: 'val-s',
          doorway: 'val-door',
          positive: 'a',
          from: '2026-03-10T00:00:00Z',
          to: '2026-03-11T00:00:00Z',
        },
      ],
    });
    await expect(
      'POST',
      '/v1/placements',
      { sensor: 'val-s', doorway: 'val-door', positive: 'b', from: '2026-03-10T12:00:00Z' },
      409,
      'PLACEMENT_OVERLAP',
    );
    await expect('DELETE', '/v1/doorways/val-door', undefined, 409, 'IN_USE');
    await expect('DELETE', '/v1/spaces/val-room', undefined, 409, 'IN_USE');
    await expect('DELETE', '/v1/sensors/val-s', undefined, 409, 'IN_USE');
    // Spaces, doorways and sensors share their list, rename and delete routes: each answers alike.
    for (const [path, id, missing] of [
      ['/v1/spaces', 'val-room', 'SPACE_NOT_FOUND'],
      ['/v1/doorways', 'val-door', 'DOORWAY_NOT_FOUND'],
      ['/v1/sensors', 'val-s', 'SENSOR_NOT_FOUND'],
    ] as const) {
      const renamed = await call<{ id: string; name: string }>(
        beacon,
        'PATCH',
        `${path}/${id}`,
        { name: `renamed ${id}` },
        200,
      );
      assert.deepEqual([renamed.id, renamed.name], [id, `renamed ${id}`]);
      await expect('PATCH', `${path}/ghost`, { name: 'x' }, 404, missing);
      await expect('DELETE', `${path}/ghost`, undefined, 404, missing);
      const listed = await call<{ items: { id: string; name: string }[] }>(
        beacon,
        'GET',
        `${path}?limit=1000`,
        undefined,
        200,
      );
      assert.equal(listed.items.find((i) => i.id === id)?.name, `renamed ${id}`);
    }
    await expect('GET', '/v1/spaces/ghost/count', undefined, 404, 'SPACE_NOT_FOUND');
    await expect('GET', '/v1/spaces/ghost/count?at=2026-01-01T00:00:00Z', undefined, 404, 'SPACE_NOT_FOUND');
    await expect(
      'GET',
      '/v1/spaces/val-room/counts?from=2026-01-01T00:00:00Z&to=2026-12-31T00:00:00Z&interval=1m',
      undefined,
      400,
      'VALIDATION_FAILED',
    );
  });

  test('every accepted event pushes the new count on /v1/stream', async () => {
    await model(beacon, {
      spaces: [{ id: 'ws-room' }],
      doorways: [{ id: 'ws-door', a: 'ws-room', b: null }],
      sensors: ['ws-s'],
      placements: [{ sensor: 'ws-s', doorway: 'ws-door', positive: 'a', from: '2026-01-01T00:00:00.000Z' }],
    });
    const ws = new WebSocket(
      beacon.url.replace('http', 'ws') + '/v1/stream?streams=sensor-events&entity=ws-room',
      {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      },
    );
    const counts: number[] = [];
    const got = new Promise<void>((resolve) => {
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { type: string; space?: string; count?: number };
        if (frame.type === 'count' && frame.space === 'ws-room') {
          counts.push(frame.count!);
          if (counts.length === 2) resolve();
        }
      });
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await cross(beacon, [{ sensor: 'ws-s', ts: new Date(Date.now() - 1000).toISOString(), direction: 1 }]);
    await cross(beacon, [{ sensor: 'ws-s', ts: new Date(Date.now() - 500).toISOString(), direction: 1 }]);
    await got;
    ws.close();
    assert.deepEqual(counts, [1, 2]);
  });
});

describe('occupancy corrections', () => {
  let beacon: TestBeacon;
  before(async () => {
    beacon = await startTestBeacon({
      'occupancy.resetTime': '03:00',
      'occupancy.timeZone': 'Europe/Berlin',
      'occupancy.neverNegative': true,
    });
  });
  after(() => beacon.destroy());

  test('a daily reset at local time and the zero clamp correct drift; raw figures stay', async () => {
    await model(beacon, {
      spaces: [{ id: 'reset-room' }],
      doorways: [{ id: 'reset-door', a: 'reset-room', b: null }],
      sensors: ['reset-s'],
      placements: [
        { sensor: 'reset-s', doorway: 'reset-door', positive: 'a', from: '2026-03-01T00:00:00.000Z' },
      ],
    });
    // Berlin is UTC+1 in March 2026: the 03:00 reset is at 02:00 UTC.
    await cross(beacon, [
      { sensor: 'reset-s', ts: '2026-03-10T17:00:00.000Z', direction: 1 },
      { sensor: 'reset-s', ts: '2026-03-10T17:30:00.000Z', direction: 1 },
      { sensor: 'reset-s', ts: '2026-03-10T18:00:00.000Z', direction: -1 },
      // One person left unseen; next morning two exits are seen against a corrected count of zero.
      { sensor: 'reset-s', ts: '2026-03-11T08:00:00.000Z', direction: -1 },
      { sensor: 'reset-s', ts: '2026-03-11T08:30:00.000Z', direction: -1 },
      { sensor: 'reset-s', ts: '2026-03-11T09:00:00.000Z', direction: 1 },
    ]);
    const figures = async (at: string) => {
      const c = await countAt(beacon, 'reset-room', at);
      return [c.count, c.raw];
    };
    assert.deepEqual(await figures('2026-03-10T23:00:00.000Z'), [1, 1]);
    assert.deepEqual(await figures('2026-03-11T01:59:59.999Z'), [1, 1]);
    assert.deepEqual(await figures('2026-03-11T02:00:00.000Z'), [0, 1], 'reset at 03:00 Berlin');
    assert.deepEqual(await figures('2026-03-11T08:45:00.000Z'), [0, -1], 'never negative');
    assert.deepEqual(await figures('2026-03-11T09:30:00.000Z'), [1, 0]);

    const buckets = await seriesOf(
      beacon,
      'reset-room',
      '2026-03-11T01:00:00.000Z',
      '2026-03-11T10:00:00.000Z',
      '1h',
    );
    assert.deepEqual(
      [buckets[0]!.startCount, buckets[1]!.startCount],
      [
        { count: 1, raw: 1 },
        { count: 0, raw: 1 },
      ],
    );
    const morning = buckets.find((b) => b.start === '2026-03-11T08:00:00.000Z')!;
    assert.deepEqual(
      [morning.endCount, morning.peak, morning.exits],
      [{ count: 0, raw: -1 }, { count: 0, raw: 1 }, 2],
    );
  });
});

// A settled sink is what every other test relies on; make sure the helper itself waits for real work.
test('settled() returns at once on an empty log', async () => {
  const empty = await startTestBeacon();
  try {
    await settled(empty);
  } finally {
    await empty.destroy();
  }
});
