import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { afterSegment, concat, DAY_MS, HOUR_MS, MINUTE_MS, segmentOf } from './segment.ts';
import { spansOf } from './spans.ts';

const SIZE = { day: DAY_MS, hour: HOUR_MS, minute: MINUTE_MS } as const;

test('spansOf covers [from, to) exactly, in order, with whole rows and few spans', () => {
  const time = fc.integer({ min: -3 * DAY_MS, max: 40 * DAY_MS });
  fc.assert(
    fc.property(time, time, (a, b) => {
      const [from, to] = a <= b ? [a, b] : [b, a];
      const spans = spansOf(from, to, false);
      if (from === to) return assert.deepEqual(spans, []);
      assert.equal(spans[0]!.from, from);
      assert.equal(spans.at(-1)!.to, to);
      for (const [i, span] of spans.entries()) {
        assert.ok(span.from < span.to);
        if (i > 0) assert.equal(span.from, spans[i - 1]!.to, 'contiguous');
        if (span.level !== 'delta') {
          assert.ok(span.from % SIZE[span.level] === 0, 'starts on a whole row');
          assert.ok(span.to % SIZE[span.level] === 0, 'ends on a whole row');
        } else {
          assert.ok(span.to - span.from < 2 * MINUTE_MS, 'deltas only where no whole minute fits');
        }
      }
      assert.ok(spans.length <= 7);
      const hours = spans.filter((s) => s.level === 'hour');
      assert.ok(hours.every((s) => s.to - s.from < 2 * DAY_MS));
    }),
  );
});

test('clamped steps compose: one segment of two folds like the two in turn', () => {
  const run = fc.array(fc.constantFrom<1 | -1>(1, -1), { maxLength: 30 });
  fc.assert(
    fc.property(run, run, fc.nat(5), (x, y, start) => {
      const a = segmentOf(
        x.map((delta) => ({ delta, late: false, ts: 0 })),
        1,
      );
      const b = segmentOf(
        y.map((delta) => ({ delta, late: false, ts: 1 })),
        2,
      );
      assert.equal(
        afterSegment(start, concat(a, b, 1), true),
        afterSegment(afterSegment(start, a, true), b, true),
      );
    }),
  );
});
