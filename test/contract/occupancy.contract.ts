import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { countBefore } from '../../src/occupancy/figures.ts';
import type { Placement, Segment, SensorEvent } from '../../src/occupancy/model.ts';
import type { Level, OccupancyWriter } from '../../src/occupancy/store/repositories.ts';
import { compose, EMPTY, segmentOf } from '../../src/occupancy/segment.ts';
import { spansOf } from '../../src/occupancy/spans.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import type { StoreContractTarget } from './store.contract.ts';

const T = 1_773_100_800_000; // a minute boundary
const H = 3_600_000;
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
const segment = (net: number, min: number, max: number, area = 0): Segment => ({
  net,
  min,
  max,
  entries: 2,
  exits: 1,
  late: 1,
  area,
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
    it('model rows: unique ids per tenant, keyset listing, settings, moves, references counted', async (store) => {
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
        await o.insertSpace('t1', { id: 'c', name: 'C', parent: 'b', createdAt: 2, capacity: 30 });
        await o.insertSpace('t1', { id: 'x', name: 'X', parent: null, createdAt: 2 });
        await o.insertDoorway('t1', { id: 'd1', name: 'D', a: 'c', b: null, createdAt: 3 });
        await o.insertDoorway('t1', { id: 'd2', name: 'D2', a: 'x', b: 'c', createdAt: 3 });
        await o.insertDoorway('t1', { id: 'd3', name: 'D3', a: 'x', b: null, createdAt: 3 });
        for (let i = 0; i < 40; i++) await o.insertSensor('t1', { id: `s${i}`, name: `S${i}`, createdAt: 4 });
        await o.insertPlacement('t1', placement('p2', 's1', T + 10, null));
        await o.insertPlacement('t1', placement('p1', 's1', T, T + 10));
        await o.insertPlacement('t1', placement('p3', 's2', T, null));
        assert.equal(await o.rename('space', 't1', 'b', 'Building'), true);
        assert.equal(await o.rename('space', 't1', 'nope', 'x'), false);
        const hours = [{ days: ['mon', 'tue'] as const, from: '08:00', to: '18:00' }];
        assert.equal(
          await o.updateSpace('t1', 'x', { capacity: 12, alertAfterMinutes: 5, openHours: hours }),
          true,
        );
        assert.equal(await o.insertMove('t1', { space: 'x', at: T, parent: 'b', createdAt: 5 }), true);
        assert.equal(await o.insertMove('t1', { space: 'x', at: T, parent: 'c', createdAt: 5 }), false);
        await o.insertMove('t1', { space: 'c', at: T - 5, parent: null, createdAt: 5 });
      });
      const o = store.occupancy;
      assert.equal((await o.space('t1', 'b'))?.name, 'Building');
      assert.equal((await o.space('t2', 'b'))?.name, 'other tenant');
      assert.deepEqual(await o.space('t1', 'x'), {
        id: 'x',
        name: 'X',
        parent: null,
        createdAt: 2,
        capacity: 12,
        alertAfterMinutes: 5,
        openHours: [{ days: ['mon', 'tue'], from: '08:00', to: '18:00' }],
      });
      assert.equal((await o.space('t1', 'c'))?.capacity, 30);
      assert.deepEqual(
        (await o.spaces({ tenant: 't1', limit: 10, after: 'b' })).map((s) => s.id),
        ['c', 'x'],
      );
      assert.deepEqual(
        (await o.moves('t1')).map((m) => [m.space, m.at, m.parent]),
        [
          ['c', T - 5, null],
          ['x', T, 'b'],
        ],
      );
      assert.deepEqual(await o.moves('t2'), []);
      assert.deepEqual((await o.doorway('t1', 'd1'))?.b, null);
      assert.deepEqual(
        (await o.doorways({ tenant: 't1', limit: 10, space: 'c' })).map((d) => d.id),
        ['d1', 'd2'],
      );
      assert.deepEqual((await o.doorwaysById('t1', ['d3', 'ghost', 'd1'])).map((d) => d.id).sort(), [
        'd1',
        'd3',
      ]);
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
      assert.deepEqual(
        (await o.placementsOn('t1', ['d1'])).map((p) => p.id),
        ['p1', 'p3', 'p2'],
      );
      assert.deepEqual(
        (await o.placements({ tenant: 't1', limit: 10, sensor: 's1', doorway: 'd1' })).map((p) => p.id),
        ['p1', 'p2'],
      );
      assert.equal((await o.placement('t1', 'p2'))?.to, null);
      // b: the child c and the move of x into it; c: doorways d1 and d2.
      assert.equal(await o.referencesToSpace('t1', 'b'), 2);
      assert.equal(await o.referencesToSpace('t1', 'c'), 2);
      assert.equal(await o.placementsOnDoorway('t1', 'd1'), 3);
      await store.transaction(async (tx) => {
        assert.equal(await tx.occupancy.deleteMove('t1', 'x', T), true);
        assert.equal(await tx.occupancy.delete('space', 't1', 'c'), true);
      });
      assert.deepEqual(await o.moves('t1'), []);
    });

    it('every change to a tenant’s model raises its model version, in the transaction that makes it', async (store) => {
      const version = () => store.occupancy.modelVersion('t1');
      assert.equal(await version(), 0);
      const changes: [string, (o: OccupancyWriter) => Promise<unknown>][] = [
        ['insertSpace', (o) => o.insertSpace('t1', { id: 'r', name: 'R', parent: null, createdAt: 0 })],
        [
          'updateSpace',
          (o) => o.updateSpace('t1', 'r', { capacity: 5, alertAfterMinutes: null, openHours: null }),
        ],
        ['insertMove', (o) => o.insertMove('t1', { space: 'r', at: T, parent: null, createdAt: 0 })],
        ['deleteMove', (o) => o.deleteMove('t1', 'r', T)],
        [
          'insertDoorway',
          (o) => o.insertDoorway('t1', { id: 'd', name: 'D', a: 'r', b: null, createdAt: 0 }),
        ],
        ['insertSensor', (o) => o.insertSensor('t1', { id: 's1', name: 'S', createdAt: 0 })],
        [
          'insertPlacement',
          (o) =>
            o.insertPlacement('t1', {
              id: 'p',
              sensor: 's1',
              doorway: 'd',
              positive: 'a',
              from: 0,
              to: null,
              createdAt: 0,
            }),
        ],
        [
          'updatePlacement',
          (o) =>
            o.updatePlacement('t1', {
              id: 'p',
              sensor: 's1',
              doorway: 'd',
              positive: 'b',
              from: 0,
              to: T,
              createdAt: 0,
            }),
        ],
        ['deletePlacement', (o) => o.deletePlacement('t1', 'p')],
        ['rename', (o) => o.rename('doorway', 't1', 'd', 'Door')],
        ['delete', (o) => o.delete('doorway', 't1', 'd')],
      ];
      for (const [i, [name, change]] of changes.entries()) {
        await store.transaction((tx) => change(tx.occupancy));
        assert.equal(await version(), i + 1, name);
      }
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.occupancy.insertSensor('t1', { id: 's2', name: 'S2', createdAt: 0 });
          throw new Error('rolled back');
        }),
      );
      assert.equal(await version(), changes.length, 'a rolled back change raises nothing');
      assert.equal(await store.occupancy.modelVersion('t2'), 0, 'other tenants keep their own');
    });

    it('events insert once per key; unplaced ones list by (ts, key); hourly counts and last events', async (store) => {
      const fresh = await store.transaction((tx) =>
        tx.occupancy.insertEvents('t1', [
          event('k2', T + 5),
          event('k1', T + 5),
          event('k3', T, { placement: 'p1', enters: ['r', 'f'] }),
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
      // A key that holds no time is unique on its own: a retry with another time is the same event.
      const retried = await store.transaction((tx) =>
        tx.occupancy.insertEvents('t1', [event('k1', T + 60_000)]),
      );
      assert.deepEqual(retried, []);
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
      await store.transaction((tx) =>
        tx.occupancy.setCounted('t1', [event('k4', T + 9, { placement: 'p1', leaves: ['r'] })]),
      );
      assert.equal(await store.occupancy.unplacedCount('t1', 's1'), 2);
      await store.transaction(async (tx) => {
        await tx.occupancy.addSensorHours('t1', [
          { hour: T, sensor: 's1', placement: 'p1', up: 3, down: 1 },
          { hour: T + H, sensor: 's1', placement: 'p1', up: 1, down: 0 },
          { hour: T, sensor: 's1', placement: '', up: 2, down: 0 },
        ]);
        await tx.occupancy.noteLastEvents('t1', [{ sensor: 's1', ts: T + 9, receivedAt: T + 50 }]);
        await tx.occupancy.noteLastEvents('t1', [{ sensor: 's1', ts: T + 5, receivedAt: T + 70 }]);
      });
      // The events of the sensor are found through the hours it has counts in.
      const inRange = await store.transaction((tx) => tx.occupancy.eventsOf('t1', 's1', T, T + 9));
      assert.deepEqual(
        inRange.map((e) => e.key),
        ['k3', 'k1', 'k2'],
      );
      assert.deepEqual(inRange[0], event('k3', T, { placement: 'p1', enters: ['r', 'f'] }));
      const p1 = { id: 'p1', sensor: 's1' };
      // Whole hours from the counts; [T, T + H) is whole here, and k3 and k4 are the events of p1.
      assert.deepEqual(await store.occupancy.directions('t1', p1, T, T + 2 * H), { up: 4, down: 1 });
      assert.deepEqual(await store.occupancy.directions('t1', p1, T, T + 30), { up: 2, down: 0 });
      await store.transaction((tx) =>
        tx.occupancy.addSensorHours('t1', [{ hour: T + H, sensor: 's1', placement: 'p1', up: -1, down: 0 }]),
      );
      assert.deepEqual(await store.occupancy.directions('t1', p1, T + H, T + 2 * H), { up: 0, down: 0 });
      assert.deepEqual(
        await store.occupancy.lastEvents('t1', ['s1', 's2']),
        new Map([['s1', { ts: T + 9, receivedAt: T + 70 }]]),
      );
      const crossing = await store.transaction((tx) => tx.occupancy.eventsCrossing('t1', 'r', T, T + 60_000));
      assert.deepEqual(
        crossing.map((e) => e.key),
        ['k3', 'k4'],
      );
      assert.deepEqual(
        await store.transaction((tx) => tx.occupancy.eventsCrossing('t1', 'f', T + 1, T + 60_000)),
        [],
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
      await store.transaction(async (tx) => {
        await tx.occupancy.insertEvents('t2', [event('dup', T + 3)]);
        await tx.occupancy.addSensorHours('t1', [{ hour: T, sensor: 's1', placement: '', up: 6, down: 1 }]);
      });
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

    it('deltas come from the spaces events entered and left, and from transfers, in fold order', async (store) => {
      // A space id with characters JSON escapes, and one that holds another's id, are told apart.
      const odd = 'r"1\\';
      await store.transaction(async (tx) => {
        const o = tx.occupancy;
        await o.insertEvents('t1', [
          event('b', T + 1, { placement: 'p', enters: ['r', odd] }),
          event('a', T + 1, { placement: 'p', leaves: ['r'], late: true }),
          event('c', T + 60_000, { placement: 'p', enters: ['r'] }),
          event('d', T + 2, { placement: 'p', enters: ['rr'] }),
        ]);
        await o.insertTransfers('t1', [
          { space: 'r', ts: T + 1, key: 'moved', delta: 4, late: false, transfer: true },
          { space: 'q', ts: T + 1, key: 'moved', delta: -4, late: false, transfer: true },
        ]);
      });
      const o = store.occupancy;
      assert.deepEqual(await o.deltas('t1', 'r', T, T + 60_000), [
        { space: 'r', ts: T + 1, key: 'moved', delta: 4, late: false, transfer: true },
        { space: 'r', ts: T + 1, key: 'a', delta: -1, late: true },
        { space: 'r', ts: T + 1, key: 'b', delta: 1, late: false },
      ]);
      assert.deepEqual(
        (await o.deltas('t1', odd, T, T + 120_000)).map((d) => d.key),
        ['b'],
      );
      const steps = (level: Level, from: number, to: number, total = false) =>
        o.steps('t1', 'r', [{ level, from, to, total }]).then(([s]) => s);
      // Deltas in (ts, transfer first, key) order, each with its own lowest running sum.
      assert.deepEqual(await steps('delta', T, T + 60_001), [4, 0, -1, -1, 1, 0, 1, 0]);
      assert.deepEqual(await steps('delta', T, T + 60_001, true), [5]);
      assert.deepEqual(await steps('delta', T + 2, T + 60_000, true), [0]);
      const transfers = await store.transaction((tx) => tx.occupancy.transfersOf('t1', 'moved', T + 1));
      assert.deepEqual(
        transfers.map((t) => [t.space, t.delta]),
        [
          ['q', -4],
          ['r', 4],
        ],
      );
      const taken = await store.transaction((tx) => tx.occupancy.takeTransfers('t1', 'moved', T + 1));
      assert.equal(taken.length, 2);
      assert.deepEqual(await steps('delta', T, T + 60_001, true), [1]);
      const [minutes] = await store.transaction((tx) => tx.occupancy.deltasIn('t1', [{ space: 'r', at: T }]));
      assert.deepEqual(
        minutes!.map((d) => [d.key, d.delta]),
        [
          ['a', -1],
          ['b', 1],
        ],
      );
    });

    it('minute, hour and day rows are put, read and deleted a batch at a time; reset clears only projected rows', async (store) => {
      await store.transaction(async (tx) => {
        const o = tx.occupancy;
        await o.insertSpace('t1', { id: 'r', name: 'R', parent: null, createdAt: 0 });
        await o.putRows('minute', 't1', [
          { space: 'r', at: T, row: { ...segment(0, -1, 0, -7), lastTs: T + 1, lastKey: 'b' } },
          {
            space: 'r',
            at: T + 60_000,
            row: { ...segment(1, 0, 1, 60_000), lastTs: T + 60_000, lastKey: 'c' },
          },
          { space: 's', at: T, row: { ...segment(1, 0, 1), lastTs: T, lastKey: 'x' } },
        ]);
        await o.putRows('hour', 't1', [
          { space: 'r', at: T, row: segment(1, -1, 1, 5) },
          { space: 'r', at: T + H, row: segment(-2, -3, 0) },
        ]);
        await o.putRows('hour', 't1', [{ space: 'r', at: T + H, row: segment(2, -1, 2, 9) }]);
        await o.putRows('day', 't1', [
          { space: 'r', at: T, row: segment(3, -1, 3) },
          { space: 'r', at: T + 86_400_000, row: segment(-1, -1, 0) },
        ]);
      });
      const o = store.occupancy;
      const steps = (level: Level, from: number, to: number, total = false) =>
        o.steps('t1', 'r', [{ level, from, to, total }]).then(([s]) => s);
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
        [[0], [1, -1], [], []],
      );
      assert.deepEqual(await o.segments('minute', 't1', 'r', T + 1, T + 120_000), [
        [T + 60_000, segment(1, 0, 1, 60_000)],
      ]);
      assert.deepEqual(await o.segments('hour', 't1', 'r', T + 1, T + 2 * H), [
        [T + H, segment(2, -1, 2, 9)],
      ]);
      await store.transaction(async (tx) => {
        const [row, none] = await tx.occupancy.minuteRows('t1', [
          { space: 'r', at: T },
          { space: 'r', at: T + 120_000 },
        ]);
        assert.deepEqual(row, { ...segment(0, -1, 0, -7), lastTs: T + 1, lastKey: 'b' });
        assert.equal(none, undefined);
        const [hour, empty] = await tx.occupancy.rowsIn(
          'minute',
          't1',
          [
            { space: 'r', at: T },
            { space: 'q', at: T },
          ],
          H,
        );
        assert.deepEqual(
          hour!.map(([at]) => at),
          [T, T + 60_000],
        );
        assert.deepEqual(empty, []);
        // A period's own row, and whether a row under it starts after `after` (and before its end).
        assert.deepEqual(
          await tx.occupancy.periodEnds('hour', 't1', [
            { space: 'r', at: T, after: T },
            { space: 'r', at: T, after: T + 60_000 },
            { space: 'r', at: T - H, after: T - H },
            { space: 'q', at: T, after: T },
            { space: 'r', at: T + H, after: T + H },
          ]),
          [
            { row: segment(1, -1, 1, 5), later: true },
            { row: segment(1, -1, 1, 5), later: false },
            { row: undefined, later: false },
            { row: undefined, later: false },
            { row: segment(2, -1, 2, 9), later: false },
          ],
        );
        assert.deepEqual(
          await tx.occupancy.periodEnds('day', 't1', [
            { space: 'r', at: T, after: T },
            { space: 'r', at: T, after: T + H },
          ]),
          [
            { row: segment(3, -1, 3), later: true },
            { row: segment(3, -1, 3), later: false },
          ],
        );
        assert.deepEqual(await tx.occupancy.periodEnds('day', 't1', []), []);
        await tx.occupancy.putRows('minute', 't1', [{ space: 'r', at: T, row: undefined }]);
        await tx.occupancy.putRows('hour', 't1', [{ space: 'r', at: T, row: undefined }]);
        await tx.occupancy.putRows('day', 't1', [{ space: 'r', at: T, row: undefined }]);
      });
      assert.deepEqual(await steps('minute', T, T + 120_000), [1, 0]);
      assert.deepEqual(await steps('hour', T, T + 2 * H), [2, -1]);
      assert.deepEqual(await steps('day', 0, T * 2), [-1, -1]);
      await store.transaction(async (tx) => {
        await tx.occupancy.insertEvents('t1', [event('e', T, { placement: 'p', enters: ['r'] })]);
        await tx.occupancy.addSensorHours('t1', [{ hour: T, sensor: 's1', placement: 'p', up: 1, down: 0 }]);
        await tx.occupancy.noteLastEvents('t1', [{ sensor: 's1', ts: T, receivedAt: T }]);
        await tx.occupancy.insertMove('t1', { space: 'r', at: T, parent: null, createdAt: 0 });
        await tx.occupancy.putCorrection('t1', {
          id: 'k',
          space: 'r',
          at: T,
          count: 3,
          note: '',
          createdAt: 0,
          createdBy: 'tok',
        });
      });
      await store.transaction((tx) => tx.occupancy.resetProjection());
      assert.deepEqual(await steps('day', 0, T * 2), []);
      assert.deepEqual(await steps('hour', 0, T * 2), []);
      assert.equal((await o.deltas('t1', 'r', 0, T * 2)).length, 0);
      assert.deepEqual(await o.lastEvents('t1', ['s1']), new Map());
      assert.ok(await o.space('t1', 'r'), 'the model survives a reset');
      assert.equal((await o.moves('t1')).length, 1, 'moves survive a reset');
      assert.equal((await o.correctionBefore('t1', 'r', T + 1))?.count, 3, 'corrections survive a reset');
    });

    it('corrections: one per space and instant, the latest before a time, listed by (at, id); audit newest first', async (store) => {
      const correction = (id: string, at: number, count: number, space = 'r') => ({
        id,
        space,
        at,
        count,
        note: `n-${id}`,
        createdAt: at,
        createdBy: 'tok-1',
      });
      await store.transaction(async (tx) => {
        const o = tx.occupancy;
        assert.equal(await o.putCorrection('t1', correction('c1', T, 5)), undefined);
        await o.putCorrection('t1', correction('c2', T + 10, 7));
        await o.putCorrection('t1', correction('c3', T + 10, 7, 'other'));
        const replaced = await o.putCorrection('t1', correction('c4', T, 6));
        assert.equal(replaced?.id, 'c1');
        await o.insertAudit('t1', {
          id: 'a1',
          at: 1,
          actor: 'tok-1',
          action: 'correction.set',
          space: 'r',
          detail: { count: 5 },
        });
        await o.insertAudit('t1', {
          id: 'a2',
          at: 2,
          actor: 'tok-2',
          action: 'correction.deleted',
          space: 'r',
          detail: {},
        });
        await o.insertAudit('t1', {
          id: 'a3',
          at: 3,
          actor: 'tok-2',
          action: 'space.moved',
          space: 'q',
          detail: { to: 'b' },
        });
      });
      const o = store.occupancy;
      assert.equal((await o.correctionBefore('t1', 'r', T))?.id, undefined);
      assert.equal((await o.correctionBefore('t1', 'r', T + 1))?.id, 'c4');
      assert.equal((await o.correctionBefore('t1', 'r', T + 11))?.count, 7);
      assert.equal((await o.correctionBefore('t2', 'r', T + 11))?.count, undefined);
      // countRead answers the space's existence, correctionBefore and steps in one read.
      await store.transaction((tx) =>
        tx.occupancy.insertSpace('t1', { id: 'r', name: 'R', parent: null, createdAt: 1 }),
      );
      const spans = spansOf(0, T + 11, false);
      const read = await o.countRead('t1', 'r', T + 11, spans);
      const latest = await o.correctionBefore('t1', 'r', T + 11);
      assert.deepEqual(read, {
        exists: true,
        correction: { at: latest!.at, count: latest!.count },
        steps: await o.steps('t1', 'r', spans),
      });
      assert.deepEqual((await o.countRead('t1', 'r', T, spans)).correction, undefined);
      assert.deepEqual(await o.countRead('t2', 'r', T + 11, []), {
        exists: false,
        correction: undefined,
        steps: [],
      });
      assert.deepEqual(
        (await o.corrections({ tenant: 't1', space: 'r', from: T, to: T + 11, limit: 1 })).map((c) => c.id),
        ['c4'],
      );
      assert.deepEqual(
        (
          await o.corrections({
            tenant: 't1',
            space: 'r',
            from: T,
            to: T + 11,
            limit: 5,
            after: { at: T, id: 'c4' },
          })
        ).map((c) => c.id),
        ['c2'],
      );
      assert.deepEqual(await o.correction('t1', 'c2'), correction('c2', T + 10, 7));
      await store.transaction((tx) => tx.occupancy.deleteCorrection('t1', 'c2'));
      assert.equal(await o.correction('t1', 'c2'), undefined);
      assert.deepEqual(
        (await o.audit({ tenant: 't1', limit: 2 })).map((a) => a.id),
        ['a3', 'a2'],
      );
      assert.deepEqual(
        (await o.audit({ tenant: 't1', limit: 5, space: 'r', before: 'a2' })).map((a) => [a.id, a.detail]),
        [['a1', { count: 5 }]],
      );
    });

    it('alerts open once per subject; the outbox leases due notifications and records attempts', async (store) => {
      const alert = (id: string, subject: string, openedAt: number) => ({
        id,
        kind: 'capacity' as const,
        subject,
        space: subject,
        openedAt,
        closedAt: null,
        detail: { capacity: 10 },
      });
      const notification = (id: string, due: number | null) => ({
        id,
        tenant: 't1',
        event: {
          id,
          type: 'occupancy.capacity.exceeded' as const,
          tenant: 't1',
          at: '2026-03-10T00:00:00.000Z',
          alert: 'a1',
          subject: { kind: 'space' as const, id: 'r', name: 'R' },
          space: { id: 'r', name: 'R' },
          summary: 'R is over capacity',
          detail: {},
        },
        createdAt: 1,
        attempts: 0,
        deliveredAt: null,
        lastError: null,
        nextAttemptAt: due,
      });
      await store.transaction(async (tx) => {
        assert.equal(await tx.occupancy.claimAlerting(), true);
        await tx.occupancy.openAlert('t1', alert('a1', 'r', 100));
        await tx.occupancy.openAlert('t1', alert('a2', 'q', 100));
        await tx.occupancy.enqueue(notification('n1', 100));
        await tx.occupancy.enqueue(notification('n2', 200));
        await tx.occupancy.enqueue(notification('n3', null));
      });
      await assert.rejects(
        store.transaction((tx) => tx.occupancy.openAlert('t1', alert('a3', 'r', 150))),
        'a second open alert of one subject is refused',
      );
      const o = store.occupancy;
      assert.deepEqual(
        (await o.openAlerts('t1')).map((a) => a.id),
        ['a1', 'a2'],
      );
      await store.transaction((tx) => tx.occupancy.closeAlert('t1', 'a1', 300));
      assert.deepEqual(
        (await o.openAlerts('t1', 'capacity')).map((a) => a.id),
        ['a2'],
      );
      assert.deepEqual(
        (await o.alerts({ tenant: 't1', limit: 5, subject: 'r' })).map((a) => [a.id, a.closedAt]),
        [['a1', 300]],
      );
      const first = await store.transaction((tx) => tx.occupancy.claimOutbox(150, 1000, 10));
      assert.deepEqual(
        first.map((e) => [e.id, e.attempts]),
        [['n1', 1]],
      );
      // Leased: not handed out again until the lease ends.
      assert.deepEqual(
        await store
          .transaction((tx) => tx.occupancy.claimOutbox(500, 1000, 10))
          .then((r) => r.map((e) => e.id)),
        ['n2'],
      );
      await store.transaction(async (tx) => {
        await tx.occupancy.settleOutbox('n1', { error: 'HTTP 500', retryAt: 2000 });
        await tx.occupancy.settleOutbox('n2', { deliveredAt: 600 });
      });
      assert.deepEqual(await store.transaction((tx) => tx.occupancy.claimOutbox(1999, 1000, 10)), []);
      const retry = await store.transaction((tx) => tx.occupancy.claimOutbox(2000, 1000, 10));
      assert.deepEqual(
        retry.map((e) => [e.id, e.attempts, e.lastError]),
        [['n1', 2, 'HTTP 500']],
      );
      const listed = await o.outbox({ tenant: 't1', limit: 10 });
      assert.deepEqual(
        listed.map((e) => [e.id, e.deliveredAt]),
        [
          ['n3', null],
          ['n2', 600],
          ['n1', null],
        ],
      );
      assert.deepEqual(listed[1]!.event, notification('n2', 200).event);
      assert.deepEqual(await o.tenants(), []);
    });
  });
}

/** Minute rows as a store kept them before schema version 6 (no hour rows; days without running sums). */
export const MINUTES_BEFORE_HOURS: readonly { space: string; minute: number; segment: Segment }[] = [
  { space: 'r', minute: T, segment: { net: -1, min: -2, max: 0, entries: 1, exits: 2, late: 0, area: 0 } },
  {
    space: 'r',
    minute: T + 60_000,
    segment: { net: 3, min: 0, max: 3, entries: 3, exits: 0, late: 1, area: 0 },
  },
  {
    space: 'r',
    minute: T + 3_540_000,
    segment: { net: -4, min: -5, max: 1, entries: 1, exits: 5, late: 0, area: 0 },
  },
  {
    space: 'r',
    minute: T + 3_600_000,
    segment: { net: 2, min: 0, max: 2, entries: 2, exits: 0, late: 2, area: 0 },
  },
  {
    space: 'r',
    minute: T + 86_460_000,
    segment: { net: -1, min: -1, max: 0, entries: 0, exits: 1, late: 0, area: 0 },
  },
  // Before 1970: its hour and day start earlier still, not at zero.
  {
    space: 'old',
    minute: -60_000,
    segment: { net: 1, min: 0, max: 1, entries: 1, exits: 0, late: 0, area: 0 },
  },
];

/**
 * After migration 6 every hour and day row is the composition, in time order, of the minute rows
 * under it (`MINUTES_BEFORE_HOURS`, stored by the caller under version 5), and counts use them. The
 * minutes have no deltas under them, so their area is 0 (migration 13), and hours and days hold
 * each minute's net change to their end.
 */
export async function assertHoursBackfilled(store: BeaconStore): Promise<void> {
  const hours = new Map<string, [number, Segment][]>();
  for (const m of MINUTES_BEFORE_HOURS) {
    const id = `${m.space}/${Math.floor(m.minute / H) * H}`;
    hours.set(id, [...(hours.get(id) ?? []), [m.minute, m.segment]]);
  }
  const hourRows = [...hours].map(([id, rows]) => {
    const [space, at] = id.split('/') as [string, string];
    return { space, at: Number(at), segment: compose(rows, 60_000, Number(at) + H)! };
  });
  for (const space of ['r', 'old']) {
    const expected = hourRows
      .filter((h) => h.space === space)
      .map((h) => [h.at, h.segment] as [number, Segment]);
    assert.deepEqual(await store.occupancy.segments('hour', 't1', space, -H, T + 2 * 86_400_000), expected);
    const days = new Map<number, [number, Segment][]>();
    for (const [at, s] of expected) {
      const day = Math.floor(at / 86_400_000) * 86_400_000;
      days.set(day, [...(days.get(day) ?? []), [at, s]]);
    }
    assert.deepEqual(
      await store.occupancy.segments('day', 't1', space, -86_400_000, T + 2 * 86_400_000),
      [...days].map(([day, rows]) => [day, compose(rows, H, day + 86_400_000)]),
    );
  }
  // Clamped, the first hour's minutes take 0 to 1, 4, then 1; its hour row must fold to the same.
  const settings = { neverNegative: true, reset: undefined, provisionalWindowMs: 0 };
  const tally = await countBefore(store.occupancy, 't1', 'r', T + 3_600_000, settings);
  assert.deepEqual(tally, { raw: -2, corrected: 1 });
  assert.deepEqual(segmentOf([], 0), EMPTY);
}

/** Events and their deltas as a store kept them before schema version 13 (one delta row per space). */
export const EVENTS_BEFORE_13 = {
  events: [
    // tenant, key, sensor, ts, direction, received_at, late, placement
    ['t1', 'seq:a', 's1', T + 1000, 1, T + 1000, 0, 'p1'],
    ['t1', 'seq:b', 's1', T + 61_000, -1, T + 200_000, 1, 'p1'],
    ['t1', 'id:s1:x', 's1', T + 62_000, 1, T + 62_000, 0, null],
  ],
  deltas: [
    // tenant, space, ts, key, delta, late
    ['t1', 'room', T + 1000, 'seq:a', 1, 0],
    ['t1', 'floor', T + 1000, 'seq:a', 1, 0],
    ['t1', 'room', T + 61_000, 'seq:b', -1, 1],
    ['t1', 'floor', T + 61_000, 'seq:b', -1, 1],
  ],
  minutes: [
    // space, minute, net, min, max, entries, exits, late, last_ts, last_key
    ['room', T, 1, 0, 1, 1, 0, 0, T + 1000, 'seq:a'],
    ['room', T + 60_000, -1, -1, 0, 0, 1, 1, T + 61_000, 'seq:b'],
  ],
} as const;

/**
 * After migration 13 the events of `EVENTS_BEFORE_13` name the spaces they entered and left, the
 * per-sensor hours and last events are built, the key that holds no time stays unique, and the
 * minutes carry their area.
 */
export async function assertEventsCompacted(store: BeaconStore): Promise<void> {
  const events = await store.transaction((tx) => tx.occupancy.eventsOf('t1', 's1', T, null));
  const sorted = (spaces: readonly string[] | undefined) => [...(spaces ?? [])].sort();
  assert.deepEqual(
    events.map((e) => [e.key, e.placement, sorted(e.enters), sorted(e.leaves), e.late]),
    [
      ['seq:a', 'p1', ['floor', 'room'], [], false],
      ['seq:b', 'p1', [], ['floor', 'room'], true],
      ['id:s1:x', null, [], [], false],
    ],
  );
  assert.deepEqual(await store.occupancy.deltas('t1', 'room', T, T + 120_000), [
    { space: 'room', ts: T + 1000, key: 'seq:a', delta: 1, late: false },
    { space: 'room', ts: T + 61_000, key: 'seq:b', delta: -1, late: true },
  ]);
  assert.deepEqual(await store.occupancy.directions('t1', { id: 'p1', sensor: 's1' }, T, T + H), {
    up: 1,
    down: 1,
  });
  assert.deepEqual(
    await store.occupancy.lastEvents('t1', ['s1']),
    new Map([['s1', { ts: T + 62_000, receivedAt: T + 200_000 }]]),
  );
  assert.equal(await store.occupancy.unplacedCount('t1', 's1'), 1);
  assert.deepEqual(
    (await store.occupancy.segments('minute', 't1', 'room', T, T + 120_000)).map(([at, s]) => [at, s.area]),
    [
      [T, 59_000],
      [T + 60_000, -59_000],
    ],
  );
  const retried = await store.transaction((tx) =>
    tx.occupancy.insertEvents('t1', [event('id:s1:x', T + 5, { sensor: 's1' }), event('seq:a', T + 1000)]),
  );
  assert.deepEqual(retried, [], 'both are stored already');
}
