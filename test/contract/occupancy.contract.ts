import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { countBefore } from '../../src/occupancy/figures.ts';
import type { Placement, Segment, SensorEvent } from '../../src/occupancy/model.ts';
import type { Level } from '../../src/occupancy/store/repositories.ts';
import { concat } from '../../src/occupancy/segment.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import type { StoreContractTarget } from './store.contract.ts';

const T = 1_773_100_800_000; // a minute boundary
const event = (key: string, ts: number, patch: Partial<SensorEvent> = {}): SensorEvent => ({
  key,
  sensor: 's1',
  ts,
  direction: 1,
  receivedAt: ts,
  late: false,
  placement: null,
  ...patch,
});
const placement = (id: string, sensor: string, from: number, to: number | null): Placement => ({
  id,
  sensor,
  doorway: 'd1',
  positive: 'a',
  from,
  to,
  createdAt: 0,
});

/** The occupancy rows every store backend must keep the same way; run once per backend. */
export function runOccupancyStoreContract(target: StoreContractTarget): void {
  const it = (name: string, fn: (store: BeaconStore) => Promise<void>): void =>
    void test(name, async () => {
      const store = await target.create();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`Occupancy store contract: ${target.name}`, () => {
    it('model rows: unique ids per tenant, keyset listing, references counted', async (store) => {
      await store.transaction(async (tx) => {
        const o = tx.occupancy;
        assert.equal(await o.insertSpace('t1', { id: 'b', name: 'B', parent: null, createdAt: 1 }), true);
        assert.equal(
          await o.insertSpace('t1', { id: 'b', name: 'again', parent: null, createdAt: 1 }),
          false,
        );
        assert.equal(
          await o.insertSpace('t2', { id: 'b', name: 'other tenant', parent: null, createdAt: 1 }),
          true,
        );
        await o.insertSpace('t1', { id: 'c', name: 'C', parent: 'b', createdAt: 2 });
        await o.insertDoorway('t1', { id: 'd1', name: 'D', a: 'c', b: null, createdAt: 3 });
        for (let i = 0; i < 40; i++) await o.insertSensor('t1', { id: `s${i}`, name: `S${i}`, createdAt: 4 });
        await o.insertPlacement('t1', placement('p2', 's1', T + 10, null));
        await o.insertPlacement('t1', placement('p1', 's1', T, T + 10));
        await o.insertPlacement('t1', placement('p3', 's2', T, null));
        assert.equal(await o.rename('space', 't1', 'b', 'Building'), true);
        assert.equal(await o.rename('space', 't1', 'nope', 'x'), false);
      });
      const o = store.occupancy;
      assert.equal((await o.space('t1', 'b'))?.name, 'Building');
      assert.equal((await o.space('t2', 'b'))?.name, 'other tenant');
      assert.deepEqual(
        (await o.spaces({ tenant: 't1', limit: 10, after: 'b' })).map((s) => s.id),
        ['c'],
      );
      assert.deepEqual((await o.doorway('t1', 'd1'))?.b, null);
      assert.equal((await o.sensors({ tenant: 't1', limit: 5 })).length, 5);
      const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
      assert.equal((await o.knownSensors('t1', [...ids, 'ghost'])).size, 40);
      assert.deepEqual([...(await o.knownSensors('t1', ['s3', 'ghost']))], ['s3']);
      assert.deepEqual(
        (await o.placementsOf('t1', ['s1'])).map((p) => p.id),
        ['p1', 'p2'],
      );
      assert.deepEqual(
        (await o.placementsOf('t1', ids)).map((p) => p.id),
        ['p1', 'p2', 'p3'],
      );
      assert.equal((await o.placement('t1', 'p2'))?.to, null);
      assert.equal(await o.referencesToSpace('t1', 'b'), 1);
      assert.equal(await o.referencesToSpace('t1', 'c'), 1);
      assert.equal(await o.placementsOnDoorway('t1', 'd1'), 3);
    });

    it('events insert once per key; unplaced ones list by (ts, key)', async (store) => {
      const fresh = await store.transaction((tx) =>
        tx.occupancy.insertEvents('t1', [
          event('k2', T + 5),
          event('k1', T + 5),
          event('k3', T, { placement: 'p1' }),
        ]),
      );
      assert.equal(fresh.length, 3);
      const again = await store.transaction((tx) =>
        tx.occupancy.insertEvents('t1', [event('k1', T + 5), event('k4', T + 9)]),
      );
      assert.deepEqual(
        again.map((e) => e.key),
        ['k4'],
      );
      const page = await store.occupancy.unplaced({ tenant: 't1', limit: 2 });
      assert.deepEqual(
        page.map((e) => e.key),
        ['k1', 'k2'],
      );
      const next = await store.occupancy.unplaced({
        tenant: 't1',
        limit: 2,
        after: { ts: T + 5, key: 'k2' },
      });
      assert.deepEqual(
        next.map((e) => e.key),
        ['k4'],
      );
      await store.transaction((tx) => tx.occupancy.setPlacementOf('t1', 'k4', 'p1'));
      assert.equal(await store.occupancy.unplacedCount('t1', 's1'), 2);
      const inRange = await store.transaction((tx) => tx.occupancy.eventsOf('t1', 's1', T, T + 9));
      assert.deepEqual(
        inRange.map((e) => e.key),
        ['k3', 'k1', 'k2'],
      );
    });

    it('a key twice in one batch is stored once, as first given; text survives and sorts bytewise', async (store) => {
      const odd = 'k,"quoted"\nline\ttab\\';
      const fresh = await store.transaction((tx) =>
        tx.occupancy.insertEvents('t1', [
          event('dup', T + 3, { direction: -1 }),
          event('dup', T + 4),
          event(odd, T + 3, { receivedAt: T + 90_000, late: true }),
          event('é', T + 3),
          event('Z', T + 3),
          event('a', T + 3),
          event('', T + 3, { placement: '' }),
        ]),
      );
      assert.deepEqual(
        fresh.map((e) => [e.key, e.ts]),
        [
          ['dup', T + 3],
          [odd, T + 3],
          ['é', T + 3],
          ['Z', T + 3],
          ['a', T + 3],
          ['', T + 3],
        ],
      );
      // Another tenant's rows neither collide nor show.
      await store.transaction((tx) => tx.occupancy.insertEvents('t2', [event('dup', T + 3)]));
      const rows = await store.transaction((tx) => tx.occupancy.eventsOf('t1', 's1', T, null));
      assert.deepEqual(
        rows.map((e) => e.key),
        [odd, 'Z', 'a', 'dup', 'é', ''].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
      );
      assert.deepEqual(
        rows.find((e) => e.key === 'dup'),
        event('dup', T + 3, { direction: -1 }),
      );
      assert.deepEqual(
        rows.find((e) => e.key === odd),
        event(odd, T + 3, { receivedAt: T + 90_000, late: true }),
      );
      assert.equal(rows.find((e) => e.key === '')?.placement, '', 'an empty placement is not NULL');
      assert.equal(await store.occupancy.unplacedCount('t1', 's1'), 5);
      assert.equal(await store.occupancy.unplacedCount('t2', 's1'), 1);
    });

    it('deltas, minutes, hours and days read as steps over half-open spans; reset clears only projected rows', async (store) => {
      const H = 3_600_000;
      const segment = (net: number, min: number, max: number) => ({
        net,
        min,
        max,
        entries: 2,
        exits: 1,
        late: 1,
      });
      await store.transaction(async (tx) => {
        const o = tx.occupancy;
        await o.insertSpace('t1', { id: 'r', name: 'R', parent: null, createdAt: 0 });
        await o.insertDeltas('t1', [
          { space: 'r', ts: T + 1, key: 'b', delta: 1, late: false },
          { space: 'r', ts: T + 1, key: 'a', delta: -1, late: true },
          { space: 'r', ts: T + 60_000, key: 'c', delta: 1, late: false },
        ]);
        await o.putMinute('t1', 'r', T, {
          net: 0,
          min: -1,
          max: 0,
          entries: 1,
          exits: 1,
          late: 1,
          lastTs: T + 1,
          lastKey: 'b',
        });
        await o.putMinute('t1', 'r', T + 60_000, {
          net: 1,
          min: 0,
          max: 1,
          entries: 1,
          exits: 0,
          late: 0,
          lastTs: T + 60_000,
          lastKey: 'c',
        });
        await o.putHour('t1', 'r', T, segment(1, -1, 1));
        await o.putHour('t1', 'r', T + H, segment(-2, -3, 0));
        await o.putHour('t1', 'r', T + H, segment(2, -1, 2));
        await o.putDay('t1', 'r', T, segment(3, -1, 3));
        await o.putDay('t1', 'r', T + 86_400_000, segment(-1, -1, 0));
      });
      const o = store.occupancy;
      assert.deepEqual(
        (await o.deltas('t1', 'r', T, T + 60_000)).map((d) => d.key),
        ['a', 'b'],
      );
      const steps = (level: Level, from: number, to: number, total = false) =>
        o.steps('t1', 'r', [{ level, from, to, total }]).then(([s]) => s);
      // Deltas in (ts, key) order, each with its own lowest running sum.
      assert.deepEqual(await steps('delta', T, T + 60_001), [-1, -1, 1, 0, 1, 0]);
      assert.deepEqual(await steps('delta', T, T + 60_001, true), [1]);
      assert.deepEqual(await steps('minute', T, T + 120_000), [0, -1, 1, 0]);
      assert.deepEqual(await steps('minute', T + 1, T + 120_000), [1, 0]);
      assert.deepEqual(await steps('hour', T, T + 2 * H), [1, -1, 2, -1]);
      assert.deepEqual(await steps('hour', T, T + 2 * H, true), [3]);
      assert.deepEqual(await steps('day', T, T + 86_400_000), [3, -1]);
      assert.deepEqual(await steps('day', 0, T * 2, true), [2]);
      assert.deepEqual(await steps('day', 0, T, true), [0], 'an empty span totals zero');
      // Several spans in one read keep their own order and answers.
      assert.deepEqual(
        await o.steps('t1', 'r', [
          { level: 'day', from: 0, to: T, total: true },
          { level: 'hour', from: T, to: T + H, total: false },
          { level: 'minute', from: T + H, to: T + H + 60_000, total: false },
          { level: 'delta', from: T, to: T + 2, total: false },
        ]),
        [[0], [1, -1], [], [-1, -1, 1, 0]],
      );
      assert.deepEqual(
        (await o.minutes('t1', 'r', T + 1, T + 120_000)).map(([m]) => m),
        [T + 60_000],
      );
      assert.deepEqual(await o.hours('t1', 'r', T + 1, T + 2 * H), [[T + H, segment(2, -1, 2)]]);
      const taken = await store.transaction((tx) => tx.occupancy.takeDeltas('t1', 'a'));
      assert.deepEqual(
        taken.map((d) => [d.space, d.ts, d.delta, d.late]),
        [['r', T + 1, -1, true]],
      );
      assert.deepEqual(await steps('delta', T, T + 60_001, true), [2]);
      await store.transaction(async (tx) => {
        assert.equal((await tx.occupancy.minute('t1', 'r', T))?.lastKey, 'b');
        await tx.occupancy.putMinute('t1', 'r', T, undefined);
        await tx.occupancy.putHour('t1', 'r', T, undefined);
        await tx.occupancy.putDay('t1', 'r', T, undefined);
      });
      assert.deepEqual(await steps('minute', T, T + 120_000), [1, 0]);
      assert.deepEqual(await steps('hour', T, T + 2 * H), [2, -1]);
      assert.deepEqual(await steps('day', 0, T * 2), [-1, -1]);
      await store.transaction((tx) => tx.occupancy.resetProjection());
      assert.deepEqual(await steps('day', 0, T * 2), []);
      assert.deepEqual(await steps('hour', 0, T * 2), []);
      assert.equal((await o.deltas('t1', 'r', 0, T * 2)).length, 0);
      assert.ok(await o.space('t1', 'r'), 'the model survives a reset');
    });
  });
}

/** Minute rows as a store kept them before schema version 6 (no hour rows; days without running sums). */
export const MINUTES_BEFORE_HOURS: readonly { space: string; minute: number; segment: Segment }[] = [
  { space: 'r', minute: T, segment: { net: -1, min: -2, max: 0, entries: 1, exits: 2, late: 0 } },
  { space: 'r', minute: T + 60_000, segment: { net: 3, min: 0, max: 3, entries: 3, exits: 0, late: 1 } },
  { space: 'r', minute: T + 3_540_000, segment: { net: -4, min: -5, max: 1, entries: 1, exits: 5, late: 0 } },
  { space: 'r', minute: T + 3_600_000, segment: { net: 2, min: 0, max: 2, entries: 2, exits: 0, late: 2 } },
  {
    space: 'r',
    minute: T + 86_460_000,
    segment: { net: -1, min: -1, max: 0, entries: 0, exits: 1, late: 0 },
  },
  // Before 1970: its hour and day start earlier still, not at zero.
  { space: 'old', minute: -60_000, segment: { net: 1, min: 0, max: 1, entries: 1, exits: 0, late: 0 } },
];

/**
 * After migration 6 every hour and day row is the composition, in time order, of the minute rows
 * under it (`MINUTES_BEFORE_HOURS`, stored by the caller under version 5), and counts use them.
 */
export async function assertHoursBackfilled(store: BeaconStore): Promise<void> {
  for (const [level, size] of [
    ['hour', 3_600_000],
    ['day', 86_400_000],
  ] as const) {
    for (const space of ['r', 'old']) {
      const expected = new Map<number, Segment>();
      for (const m of MINUTES_BEFORE_HOURS.filter((x) => x.space === space)) {
        const at = Math.floor(m.minute / size) * size;
        const before = expected.get(at);
        expected.set(at, before ? concat(before, m.segment) : m.segment);
      }
      const [steps] = await store.occupancy.steps('t1', space, [
        { level, from: -size, to: T + 2 * 86_400_000, total: false },
      ]);
      assert.deepEqual(
        steps,
        [...expected.values()].flatMap((s) => [s.net, s.min]),
        `${level} rows of ${space}`,
      );
      if (level === 'hour') {
        assert.deepEqual(await store.occupancy.hours('t1', space, -size, T + 2 * 86_400_000), [...expected]);
      }
    }
  }
  // Clamped, the first hour's minutes take 0 to 1, 4, then 1; its hour row must fold to the same.
  const settings = { neverNegative: true, reset: undefined, provisionalWindowMs: 0 };
  const tally = await countBefore(store.occupancy, 't1', 'r', T + 3_600_000, settings);
  assert.deepEqual(tally, { raw: -2, corrected: 1 });
}
