import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { series } from './figures.ts';
import type { Delta, Segment } from './model.ts';
import { parseDailyReset } from './reset.ts';
import { afterSegment, concat, DAY_MS, HOUR_MS, MINUTE_MS, segmentOf } from './segment.ts';
import { spansOf } from './spans.ts';
import type { OccupancyReader, Period, Span, SpaceTime } from './store/repositories.ts';

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

/**
 * A reader over one space's deltas held in memory, with its minute, hour and day rows, that counts
 * the reads a series makes.
 */
function memoryReader(deltas: readonly Delta[], readsAhead = true) {
  const reads = { deltas: 0, segments: 0, deltasIn: 0, rowsIn: 0, minutesOpened: 0 };
  const rowsOf = (level: Period | 'delta', from: number, to: number): [number, Segment][] => {
    if (level === 'delta') return [];
    const size = SIZE[level];
    const starts = [...new Set(deltas.map((d) => Math.floor(d.ts / size) * size))];
    return starts
      .filter((at) => at >= from && at < to)
      .sort((a, b) => a - b)
      .map((at) => [at, segmentOf(deltaRange(at, at + size), at + size)]);
  };
  const deltaRange = (from: number, to: number) => deltas.filter((d) => d.ts >= from && d.ts < to);
  const reader = {
    readsAhead,
    steps: (_tenant: string, _space: string, spans: readonly Span[]) =>
      Promise.resolve(
        spans.map((span) => {
          const steps =
            span.level === 'delta'
              ? deltaRange(span.from, span.to).map((d) => [d.delta, Math.min(d.delta, 0)])
              : rowsOf(span.level, span.from, span.to).map(([, s]) => [s.net, s.min]);
          return span.total ? [steps.reduce((n, [net]) => n + net!, 0)] : steps.flat();
        }),
      ),
    segments: (level: Period, _tenant: string, _space: string, from: number, to: number) => {
      reads.segments += 1;
      return Promise.resolve(rowsOf(level, from, to));
    },
    deltas: (_tenant: string, _space: string, from: number, to: number) => {
      reads.deltas += 1;
      return Promise.resolve(deltaRange(from, to));
    },
    deltasIn: (_tenant: string, minutes: readonly SpaceTime[]) => {
      reads.deltasIn += 1;
      reads.minutesOpened += minutes.length;
      return Promise.resolve(minutes.map((m) => deltaRange(m.at, m.at + MINUTE_MS)));
    },
    rowsIn: (period: 'minute' | 'hour', _tenant: string, parents: readonly SpaceTime[], size: number) => {
      reads.rowsIn += 1;
      return Promise.resolve(parents.map((p) => rowsOf(period, p.at, p.at + size)));
    },
    correctionBefore: () => Promise.resolve(undefined),
    countRead: async (tenant: string, space: string, _before: number, spans: readonly Span[]) => ({
      exists: true,
      correction: undefined,
      steps: await reader.steps(tenant, space, spans),
    }),
    corrections: () => Promise.resolve([]),
  };
  return { reader: reader as unknown as OccupancyReader, reads };
}

test('a month of hours of a space near zero reads each level below the hours in one statement', async () => {
  // A room whose count keeps touching zero: the clamp engages in many hours and minutes, each of
  // which the walk must open. Read one by one, that was a round trip each on a server database.
  const start = Date.UTC(2026, 3, 1);
  const rnd = fc.sample(fc.boolean(), { numRuns: 3000, seed: 7 });
  const deltas: Delta[] = rnd.map((up, i) => ({
    space: 'room',
    ts: start + i * 577_000,
    key: `k${i}`,
    delta: up ? 1 : -1,
    late: false,
  }));
  const { reader, reads } = memoryReader(deltas);
  const settings = { neverNegative: true, reset: parseDailyReset('04:00', 'UTC'), provisionalWindowMs: 0 };
  const range = { from: start, to: start + 30 * DAY_MS, interval: HOUR_MS, now: 0, capacity: null };
  const buckets = await series(reader, 'default', 'room', range, settings);

  // The figures are those of applying every delta in turn.
  let corrected = 0;
  let next = 0;
  for (const bucket of buckets) {
    if (new Date(bucket.start).getUTCHours() === 4) corrected = 0;
    assert.equal(bucket.startCount.corrected, corrected);
    for (; next < deltas.length && deltas[next]!.ts < bucket.end; next++)
      corrected = Math.max(0, corrected + deltas[next]!.delta);
    assert.equal(bucket.endCount.corrected, corrected);
  }
  const { minutesOpened, ...statements } = reads;
  assert.ok(minutesOpened > 50, `minutes whose deltas were read: ${minutesOpened}`);
  assert.deepEqual(statements, { segments: 1, deltas: 0, rowsIn: 1, deltasIn: 1 });

  // A reader that does not read ahead (an embedded database) opens each row as the walk meets it,
  // with the same figures.
  const embedded = memoryReader(deltas, false);
  assert.deepEqual(await series(embedded.reader, 'default', 'room', range, settings), buckets);
  assert.equal(embedded.reads.rowsIn + embedded.reads.deltasIn, 0);
  assert.ok(embedded.reads.deltas > 50, `minutes read one by one: ${embedded.reads.deltas}`);
});
