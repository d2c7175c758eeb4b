import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { series, type WalkMeter } from '../src/occupancy/figures.ts';
import { parseDailyReset } from '../src/occupancy/reset.ts';
import { startTestBeacon, type TestBeacon } from './helpers/server.ts';
import { call, countAt, cross, get, model } from './helpers/occupancy.ts';

interface Anchor {
  kind: 'reset' | 'headcount';
  at: string;
  count: number;
  correction: { id: string; note: string; createdBy: string } | null;
}
interface Page<T> {
  items: T[];
  next: string | null;
}

describe('occupancy operations', () => {
  let beacon: TestBeacon;
  let other: string;
  before(async () => {
    // Daily reset at 04:00 UTC; a clamp at zero.
    beacon = await startTestBeacon({ 'occupancy.resetTime': '04:00', 'occupancy.timeZone': 'UTC' });
    const created = await call<{ adminToken: string }>(
      beacon,
      'POST',
      '/v1/tenants',
      { id: 'other', name: 'Other' },
      201,
    );
    other = created.adminToken;
    await model(beacon, {
      spaces: [
        { id: 'hall' },
        { id: 'wing-a', parent: 'hall' },
        { id: 'wing-b', parent: 'hall' },
        { id: 'lab', parent: 'wing-a' },
      ],
      doorways: [
        { id: 'hall-door', a: 'hall', b: null },
        // The lab opens onto the outside: who enters it enters its wing and the hall too.
        { id: 'lab-door', a: 'lab', b: null },
      ],
      sensors: ['hall-s', 'lab-s'],
      placements: [
        { sensor: 'hall-s', doorway: 'hall-door', positive: 'a', from: '2026-04-01T00:00:00Z' },
        { sensor: 'lab-s', doorway: 'lab-door', positive: 'a', from: '2026-04-01T00:00:00Z' },
      ],
    });
  });
  after(() => beacon.destroy());

  test('a headcount corrects counts after it, through late events; deleting it restores them; all audited', async () => {
    await cross(beacon, [
      { sensor: 'hall-s', ts: '2026-04-02T09:00:00Z', direction: 1 },
      { sensor: 'hall-s', ts: '2026-04-02T09:10:00Z', direction: 1 },
      { sensor: 'hall-s', ts: '2026-04-02T11:00:00Z', direction: 1 },
    ]);
    assert.equal((await countAt(beacon, 'hall', '2026-04-02T12:00:00Z')).count, 3);
    const correction = await call<{ id: string; count: number; createdBy: string }>(
      beacon,
      'POST',
      '/v1/spaces/hall/corrections',
      { at: '2026-04-02T10:00:00.000Z', count: 7, note: 'counted at the desk' },
      201,
    );
    assert.equal(correction.count, 7);
    // The count at the headcount's instant is the headcount; after it, crossings count from it.
    assert.equal((await countAt(beacon, 'hall', '2026-04-02T10:00:00Z')).count, 7);
    assert.equal((await countAt(beacon, 'hall', '2026-04-02T09:30:00Z')).count, 2, 'before it, unchanged');
    const after = await countAt(beacon, 'hall', '2026-04-02T12:00:00Z');
    assert.deepEqual([after.count, after.raw], [8, 3], 'raw counts are never corrected');
    // Late events: one before the headcount changes nothing after it, one after it does.
    await cross(beacon, [
      { sensor: 'hall-s', ts: '2026-04-02T09:59:00Z', direction: 1 },
      { sensor: 'hall-s', ts: '2026-04-02T10:30:00Z', direction: -1 },
    ]);
    const late = await countAt(beacon, 'hall', '2026-04-02T12:00:00Z');
    assert.deepEqual([late.count, late.raw], [7, 3]);
    // The chart has it as a marker, and the reset the next morning starts the count again.
    const day = await get<{
      corrections: { id: string; count: number }[];
      buckets: { endCount: { count: number } }[];
    }>(beacon, '/v1/spaces/hall/counts?from=2026-04-02T00:00:00Z&to=2026-04-03T06:00:00Z&interval=6h');
    assert.deepEqual(
      day.corrections.map((c) => [c.id, c.count]),
      [[correction.id, 7]],
    );
    assert.deepEqual(
      day.buckets.map((b) => b.endCount.count),
      [0, 7, 7, 7, 0],
    );
    // Listed with the daily resets, in time order, paged.
    const first = await get<Page<Anchor>>(
      beacon,
      '/v1/spaces/hall/corrections?from=2026-04-02T00:00:00Z&to=2026-04-04T00:00:00Z&limit=2',
    );
    assert.deepEqual(
      first.items.map((a) => [a.kind, a.at, a.count]),
      [
        ['reset', '2026-04-02T04:00:00.000Z', 0],
        ['headcount', '2026-04-02T10:00:00.000Z', 7],
      ],
    );
    assert.equal(first.items[1]!.correction?.note, 'counted at the desk');
    const second = await get<Page<Anchor>>(
      beacon,
      `/v1/spaces/hall/corrections?from=2026-04-02T00:00:00Z&to=2026-04-04T00:00:00Z&limit=2&after=${first.next}`,
    );
    assert.deepEqual(
      second.items.map((a) => [a.kind, a.at]),
      [['reset', '2026-04-03T04:00:00.000Z']],
    );
    assert.equal(second.next, null);
    // Another headcount at the same instant replaces it.
    const replacing = await call<{ id: string }>(
      beacon,
      'POST',
      '/v1/spaces/hall/corrections',
      { at: '2026-04-02T10:00:00.000Z', count: 5 },
      201,
    );
    assert.equal((await countAt(beacon, 'hall', '2026-04-02T10:00:00Z')).count, 5);
    await call(beacon, 'DELETE', `/v1/spaces/hall/corrections/${correction.id}`, undefined, 404);
    await call(beacon, 'DELETE', `/v1/spaces/lab/corrections/${replacing.id}`, undefined, 404);
    await call(beacon, 'DELETE', `/v1/spaces/hall/corrections/${replacing.id}`, undefined, 204);
    assert.equal((await countAt(beacon, 'hall', '2026-04-02T12:00:00Z')).count, 3);
    const audit = await get<
      Page<{ action: string; actor: string; space: string; detail: Record<string, unknown> }>
    >(beacon, '/v1/occupancy-audit?space=hall');
    assert.deepEqual(
      audit.items.map((a) => [a.action, a.detail.count]),
      [
        ['correction.deleted', 5],
        ['correction.set', 5],
        ['correction.set', 7],
      ],
    );
    assert.equal((audit.items[1]!.detail.replaced as { count: number }).count, 7);
    assert.ok(audit.items.every((a) => a.actor === correction.createdBy && a.actor !== ''));
  });

  test('a move re-parents a space from a date: history before stays, the people inside go along', async () => {
    await cross(beacon, [
      { sensor: 'lab-s', ts: '2026-04-05T09:00:00Z', direction: 1 },
      { sensor: 'lab-s', ts: '2026-04-05T09:01:00Z', direction: 1 },
      { sensor: 'lab-s', ts: '2026-04-05T15:00:00Z', direction: -1 },
    ]);
    const at = (space: string, t: string) => countAt(beacon, space, t).then((c) => c.raw);
    const counts = async (t: string) => Promise.all(['lab', 'wing-a', 'wing-b', 'hall'].map((s) => at(s, t)));
    // The hall keeps the three people of the first test.
    assert.deepEqual(await counts('2026-04-05T10:00:00Z'), [2, 2, 0, 5]);
    // From noon the lab belongs to wing B: its two people go with it, and the exit at 15:00 leaves B.
    await call(beacon, 'POST', '/v1/spaces/lab/moves', { parent: 'wing-b', at: '2026-04-05T12:00:00Z' }, 201);
    assert.deepEqual(await counts('2026-04-05T11:59:59.999Z'), [2, 2, 0, 5], 'before the move: as it was');
    assert.deepEqual(await counts('2026-04-05T12:00:00Z'), [2, 0, 2, 5]);
    assert.deepEqual(await counts('2026-04-05T16:00:00Z'), [1, 0, 1, 4]);
    const lab = await get<{ parent: string; parents: { parent: string | null; from: string | null }[] }>(
      beacon,
      '/v1/spaces/lab',
    );
    assert.deepEqual(
      lab.parents.map((p) => [p.parent, p.from]),
      [
        ['wing-a', null],
        ['wing-b', '2026-04-05T12:00:00.000Z'],
      ],
    );
    assert.equal(lab.parent, 'wing-b');
    // Under itself: refused, and nothing changes.
    const cycle = await beacon.request('/v1/spaces/wing-b/moves', {
      method: 'POST',
      json: { parent: 'lab', at: '2026-04-06T00:00:00Z' },
    });
    assert.equal(cycle.status, 409);
    assert.equal(((await cycle.json()) as { error: { code: string } }).error.code, 'SPACE_CYCLE');
    // Wing B cannot be deleted while the lab moved into it.
    await call(beacon, 'DELETE', '/v1/spaces/wing-b', undefined, 409);
    await call(
      beacon,
      'DELETE',
      `/v1/spaces/lab/moves/${encodeURIComponent('2026-04-05T12:00:00.000Z')}`,
      undefined,
      204,
    );
    assert.deepEqual(await counts('2026-04-05T16:00:00Z'), [1, 1, 0, 4], 'taken back: as if never moved');
    await call(
      beacon,
      'DELETE',
      `/v1/spaces/lab/moves/${encodeURIComponent('2026-04-05T12:00:00.000Z')}`,
      undefined,
      404,
    );
    const audit = await get<Page<{ action: string }>>(beacon, '/v1/occupancy-audit?space=lab&limit=2');
    assert.deepEqual(
      audit.items.map((a) => a.action),
      ['space.move-undone', 'space.moved'],
    );
    // Newest first, paged like every other listing: the next page is `after` the `next` cursor.
    const first = await get<Page<{ action: string }>>(beacon, '/v1/occupancy-audit?space=lab&limit=1');
    const cursor = encodeURIComponent(first.next!);
    const next = await get<Page<{ action: string }>>(
      beacon,
      `/v1/occupancy-audit?space=lab&limit=1&after=${cursor}`,
    );
    assert.deepEqual(
      [...first.items, ...next.items].map((a) => a.action),
      ['space.move-undone', 'space.moved'],
    );
    const old = await get(beacon, `/v1/occupancy-audit?space=lab&limit=1&before=${cursor}`);
    assert.deepEqual(old, next, '`before`, the deprecated name, pages alike');
    const both = await beacon.request(`/v1/occupancy-audit?after=${cursor}&before=${cursor}`);
    assert.equal(both.status, 400, 'both names at once are refused');
    assert.equal(((await both.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
  });

  test('a space’s settings change by PATCH; the series draws its capacity, average and time over it; CSV too', async () => {
    const patched = await call<{ capacity: number; openHours: unknown }>(
      beacon,
      'PATCH',
      '/v1/spaces/wing-a',
      { capacity: 1, openHours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] },
      200,
    );
    assert.equal(patched.capacity, 1);
    const bad = await beacon.request('/v1/spaces/wing-a', {
      method: 'PATCH',
      json: { openHours: [{ days: ['mon'], from: '08:00', to: '08:00' }] },
    });
    assert.equal(bad.status, 400, 'an empty opening is refused');
    const s = await get<{
      capacity: number;
      summary: { peak: { count: number }; average: { count: number }; overCapacityMs: number };
      buckets: { average: { count: number }; overCapacityMs: number }[];
    }>(beacon, '/v1/spaces/wing-a/counts?from=2026-04-05T09:00:00Z&to=2026-04-05T10:00:00Z&interval=30m');
    assert.equal(s.capacity, 1);
    // One person from 09:00, two from 09:01: over capacity for 59 minutes of the first half hour's 30.
    assert.deepEqual(
      s.buckets.map((b) => [b.overCapacityMs, Math.round(b.average.count * 1000) / 1000]),
      [
        [29 * 60_000, 1.967],
        [30 * 60_000, 2],
      ],
    );
    assert.deepEqual([s.summary.peak.count, s.summary.overCapacityMs], [2, 59 * 60_000]);
    const csv = await beacon.request(
      '/v1/spaces/wing-a/counts.csv?from=2026-04-05T09:00:00Z&to=2026-04-05T10:00:00Z&interval=30m',
    );
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = (await csv.text()).trimEnd().split('\r\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^start,end,count_start,count_end,count_peak,count_average,/);
    // Both crossings arrived long after their time: late.
    assert.equal(
      lines[1],
      '2026-04-05T09:00:00.000Z,2026-04-05T09:30:00.000Z,0,2,2,1.967,0,2,2,1.967,1740,2,0,2,false',
    );
  });

  test('another tenant sees none of it: 404, never a hint', async () => {
    for (const path of [
      '/v1/spaces/hall/counts?from=2026-04-02T00:00:00Z&to=2026-04-03T00:00:00Z',
      '/v1/spaces/hall/corrections',
      '/v1/spaces/hall/health',
    ]) {
      const res = await beacon.request(path, { token: other });
      assert.equal(res.status, 404, path);
    }
    for (const [method, path, json] of [
      ['POST', '/v1/spaces/hall/corrections', { at: '2026-04-02T10:00:00Z', count: 1 }],
      ['POST', '/v1/spaces/lab/moves', { parent: null, at: '2026-04-02T10:00:00Z' }],
      ['PATCH', '/v1/spaces/hall', { capacity: 3 }],
    ] as const) {
      const res = await beacon.request(path, { method, json, token: other });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    const audit: unknown = await (await beacon.request('/v1/occupancy-audit', { token: other })).json();
    assert.deepEqual(audit, { items: [], next: null });
    const alerts: unknown = await (await beacon.request('/v1/occupancy-alerts', { token: other })).json();
    assert.deepEqual(alerts, { items: [], next: null });
  });

  test('a series over five centuries with the daily reset on costs its rows and buckets, not its days', async () => {
    // What once held the event loop for seconds: 182,000 daily resets walked one by one.
    const res = await beacon.request(
      '/v1/spaces/hall/counts?from=1526-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=876000h',
    );
    assert.equal(res.status, 200);
    const meter: WalkMeter = { rows: 0, resets: 0 };
    const settings = {
      neverNegative: true,
      reset: parseDailyReset('04:00', 'UTC'),
      provisionalWindowMs: 0,
    };
    const range = (from: string, to: string, interval: number) => ({
      from: Date.parse(from),
      to: Date.parse(to),
      interval,
      now: Date.now(),
      capacity: null,
    });
    const buckets = await series(
      beacon.store.occupancy,
      'default',
      'hall',
      range('0001-01-01T00:00:00Z', '9999-01-01T00:00:00Z', 876_000 * 3_600_000),
      settings,
      meter,
    );
    assert.equal(buckets.length, 101);
    // A handful of day rows (and what they hold), and a few resets per row and bucket.
    assert.ok(meter.rows < 100, `rows read: ${meter.rows}`);
    assert.ok(meter.resets < 4 * (buckets.length + meter.rows), `resets computed: ${meter.resets}`);
    const hostile = { rows: 0, resets: 0 };
    await series(
      beacon.store.occupancy,
      'default',
      'hall',
      range('1526-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 876_000 * 3_600_000),
      settings,
      hostile,
    );
    assert.ok(hostile.resets < 50, `resets computed: ${hostile.resets}`);
  });
});
