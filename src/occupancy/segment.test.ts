import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterDelta, afterSegment, clampsWithin, segmentOf } from './segment.ts';

const deltas = (...ds: (1 | -1)[]) => ds.map((delta) => ({ delta, late: false }));

test('segmentOf sums deltas and keeps the lowest and highest running sum', () => {
  assert.deepEqual(segmentOf(deltas(1, 1, -1, -1, -1, 1)), {
    net: 0,
    min: -1,
    max: 2,
    entries: 3,
    exits: 3,
    late: 0,
  });
  assert.deepEqual(segmentOf([]), { net: 0, min: 0, max: 0, entries: 0, exits: 0, late: 0 });
});

test('afterSegment with the clamp equals applying each delta with the clamp', () => {
  const cases: (1 | -1)[][] = [[-1, -1, 1], [1, -1, -1, -1, 1, 1], [-1], [1, 1], [-1, 1, -1, 1, -1]];
  for (const ds of cases) {
    for (const start of [0, 1, 2, 5]) {
      const stepwise = ds.reduce((c, d) => afterDelta(c, d, true), start);
      assert.equal(
        afterSegment(start, segmentOf(deltas(...ds)), true),
        stepwise,
        `${start} + ${ds.join(',')}`,
      );
    }
  }
});

test('without the clamp a segment just adds its net change', () => {
  assert.equal(afterSegment(0, segmentOf(deltas(-1, -1)), false), -2);
  assert.equal(clampsWithin(0, segmentOf(deltas(-1)), false), false);
  assert.equal(clampsWithin(1, segmentOf(deltas(-1)), true), false);
  assert.equal(clampsWithin(0, segmentOf(deltas(-1)), true), true);
});
