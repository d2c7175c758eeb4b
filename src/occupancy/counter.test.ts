import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deltasOf, placementAt } from './counter.ts';
import { Hierarchy } from './hierarchy.ts';
import type { Placement, SensorEvent } from './model.ts';

const p = (id: string, from: number, to: number | null): Placement => ({
  id,
  sensor: 's',
  doorway: 'd',
  positive: 'a',
  from,
  to,
  createdAt: 0,
});

test('the placement in force is the one whose [from, to) holds the time', () => {
  const placements = [p('first', 0, 100), p('second', 100, null)];
  assert.equal(placementAt(placements, 99)?.id, 'first');
  assert.equal(placementAt(placements, 100)?.id, 'second');
  assert.equal(placementAt(placements, -1), undefined);
});

test('an event enters the positive side on +1 and leaves it on -1, in the tree of its time', () => {
  const tree = new Hierarchy(
    [
      { id: 'hq', name: 'hq', parent: null, createdAt: 0 },
      { id: 'lab', name: 'lab', parent: 'hq', createdAt: 0 },
    ],
    [{ space: 'lab', at: 1000, parent: null, createdAt: 0 }],
  );
  const doorway = { id: 'd', name: 'd', a: 'lab', b: null, createdAt: 0 };
  const event = (ts: number, direction: 1 | -1): SensorEvent => ({
    key: `k${ts}`,
    sensor: 's',
    ts,
    direction,
    receivedAt: ts,
    late: false,
    placement: null,
  });
  const spaces = (e: SensorEvent) =>
    deltasOf(e, p('x', 0, null), doorway, tree).map((d) => [d.space, d.delta]);
  assert.deepEqual(spaces(event(10, 1)), [
    ['lab', 1],
    ['hq', 1],
  ]);
  assert.deepEqual(spaces(event(2000, -1)), [['lab', -1]]);
});
