import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  afterDelta,
  afterSegment,
  clampsWithin,
  compareKeys,
  compose,
  concat,
  EMPTY,
  segmentOf,
} from './segment.ts';

const deltas = (...ds: (1 | -1)[]) => ds.map((delta, i) => ({ delta, late: false, ts: i * 10 }));

test('segmentOf sums deltas and keeps the lowest and highest running sum and the area', () => {
  assert.deepEqual(segmentOf(deltas(1, 1, -1, -1, -1, 1), 60), {
    net: 0,
    min: -1,
    max: 2,
    entries: 3,
    exits: 3,
    late: 0,
    // +1 held 60 ms, +1 50, −1 40, −1 30, −1 20, +1 10.
    area: 60 + 50 - 40 - 30 - 20 + 10,
  });
  assert.deepEqual(segmentOf([], 60), EMPTY);
});

test('transfers move the count but are neither entries, exits nor late events', () => {
  const s = segmentOf(
    [
      { delta: 5, late: false, ts: 0, transfer: true },
      { delta: -1, late: true, ts: 30 },
    ],
    60,
  );
  assert.deepEqual([s.net, s.min, s.max, s.entries, s.exits, s.late, s.area], [4, 0, 5, 0, 1, 1, 300 - 30]);
});

test('afterSegment with the clamp equals applying each delta with the clamp', () => {
  const cases: (1 | -1)[][] = [[-1, -1, 1], [1, -1, -1, -1, 1, 1], [-1], [1, 1], [-1, 1, -1, 1, -1]];
  for (const ds of cases) {
    for (const start of [0, 1, 2, 5]) {
      const stepwise = ds.reduce((c, d) => afterDelta(c, d, true), start);
      assert.equal(
        afterSegment(start, segmentOf(deltas(...ds), 100), true),
        stepwise,
        `${start} + ${ds.join(',')}`,
      );
    }
  }
});

test('without the clamp a segment just adds its net change', () => {
  assert.equal(afterSegment(0, segmentOf(deltas(-1, -1), 100), false), -2);
  assert.equal(clampsWithin(0, segmentOf(deltas(-1), 100), false), false);
  assert.equal(clampsWithin(1, segmentOf(deltas(-1), 100), true), false);
  assert.equal(clampsWithin(0, segmentOf(deltas(-1), 100), true), true);
});

test('composing rows gives the segment of all their deltas, area included', () => {
  const delta = fc.record({ ts: fc.integer({ min: 0, max: 599 }), delta: fc.constantFrom(1, -1) });
  fc.assert(
    fc.property(fc.array(delta, { maxLength: 40 }), (raw) => {
      const all = [...raw].sort((a, b) => a.ts - b.ts).map((d) => ({ ...d, late: false }));
      // Ten rows of 60 ms each under a parent of 600 ms.
      const rows: [number, ReturnType<typeof segmentOf>][] = [];
      for (let start = 0; start < 600; start += 60) {
        const inside = all.filter((d) => d.ts >= start && d.ts < start + 60);
        if (inside.length > 0) rows.push([start, segmentOf(inside, start + 60)]);
      }
      assert.deepEqual(compose(rows, 60, 600) ?? EMPTY, segmentOf(all, 600));
      // Extending a row by later deltas of its own period adds the areas as they are.
      const [a, b] = [all.slice(0, all.length >> 1), all.slice(all.length >> 1)];
      assert.deepEqual(concat(segmentOf(a, 600), segmentOf(b, 600), 0), segmentOf(all, 600));
    }),
  );
});

test('keys compare as their UTF-8 bytes do, as both stores order them', () => {
  const keys = ['a', 'b', '\uffff', '\u{10000}', '\ue000', 'é', '', 'ab'];
  const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...keys].sort(compareKeys), bytes);
});
