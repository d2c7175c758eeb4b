import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Counter } from '../src/occupancy/counter.ts';
import { countBefore, series, type CountSettings } from '../src/occupancy/figures.ts';
import type { Placement, SensorEvent } from '../src/occupancy/model.ts';
import { recountFor } from '../src/occupancy/placements.ts';
import { lastResetAtOrBefore } from '../src/occupancy/reset.ts';
import { DAY_MS, HOUR_MS, segmentOf } from '../src/occupancy/segment.ts';
import { freshPostgres, freshSqlite, type FreshStore } from './helpers/occupancy-stores.ts';

/**
 * count?at=T against a brute-force recount: random placements (some added after the events), random
 * crossings with duplicates, delivered in random batches and order, under random corrections.
 */

const TENANT = 't';
const T0 = Date.parse('2026-03-28T00:00:00.000Z'); // spans the Europe/Berlin DST change on 29 March
const SPAN = 3 * 86_400_000;
const SPACES: Record<string, string | null> = { B: null, F: 'B', R1: 'F', R2: 'F', X: null };
const DOORWAYS: Record<string, [string, string | null]> = {
  d0: ['B', null],
  d1: ['F', 'B'],
  d2: ['R1', 'F'],
  d3: ['R2', 'F'],
  d4: ['R1', 'R2'],
  d5: ['X', null],
};
const SENSORS = ['s0', 's1', 's2', 's3'];

/** 1 when a person in `where` is inside `space` (the space itself or anything within it). */
function inside(space: string, where: string | null): number {
  for (let s = where; s !== null; s = SPACES[s]!) if (s === space) return 1;
  return 0;
}

interface Crossing {
  sensor: string;
  ts: number;
  direction: 1 | -1;
  sequence: number;
}
const keyOf = (c: Crossing) => `seq:${c.sensor}:${c.ts}:${c.direction}:${c.sequence}`;

/** The change a crossing makes to `space` under the placements, computed from scratch. */
function change(space: string, c: Crossing, placements: readonly Placement[]): number {
  const p = placements.find((q) => q.sensor === c.sensor && q.from <= c.ts && (q.to === null || c.ts < q.to));
  if (!p) return 0;
  const [a, b] = DOORWAYS[p.doorway]!;
  const positive = p.positive === 'a' ? a : b;
  const negative = p.positive === 'a' ? b : a;
  const [from, to] = c.direction === 1 ? [negative, positive] : [positive, negative];
  return inside(space, to) - inside(space, from);
}

/** Raw and corrected counts at T (inclusive), by replaying every crossing in (ts, key) order. */
function bruteForce(
  space: string,
  T: number,
  crossings: readonly Crossing[],
  placements: readonly Placement[],
  s: CountSettings,
) {
  // Two crossings with one key are one event (the generator can draw the same crossing twice).
  const unique = [...new Map(crossings.map((c) => [keyOf(c), c])).values()];
  const sorted = unique.sort((x, y) => x.ts - y.ts || (keyOf(x) < keyOf(y) ? -1 : 1));
  const origin = s.reset ? lastResetAtOrBefore(T, s.reset) : -Infinity;
  let raw = 0;
  let corrected = 0;
  for (const c of sorted) {
    if (c.ts > T) break;
    const d = change(space, c, placements);
    raw += d;
    if (c.ts >= origin && d !== 0) corrected = s.neverNegative ? Math.max(0, corrected + d) : corrected + d;
  }
  return { raw, corrected };
}

const placementPlan = fc.array(
  fc.record({
    sensor: fc.constantFrom(...SENSORS),
    doorway: fc.constantFrom(...Object.keys(DOORWAYS)),
    positive: fc.constantFrom<'a' | 'b'>('a', 'b'),
    start: fc.integer({ min: -3_600_000, max: SPAN }),
    length: fc.option(fc.integer({ min: 60_000, max: SPAN }), { nil: null }),
    late: fc.boolean(),
  }),
  { maxLength: 8 },
);

const crossing = fc.record({
  sensor: fc.constantFrom(...SENSORS),
  // Coarse times make collisions (same minute, same ms) likely.
  ts: fc.integer({ min: 0, max: SPAN / 20_000 }).map((n) => T0 + n * 20_000 + (n % 3)),
  direction: fc.constantFrom<1 | -1>(1, -1),
  sequence: fc.integer({ min: 0, max: 1 }),
});

const settings = fc.record({
  neverNegative: fc.boolean(),
  reset: fc.option(
    fc.record({
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.constantFrom(0, 30, 59),
      timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
    }),
    { nil: undefined },
  ),
  provisionalWindowMs: fc.constant(0),
});

test('count?at=T equals a brute-force recount over random event streams', () => property(freshSqlite, 150));

// The same property on PostgreSQL (fewer runs: every statement is a round trip to the server).
test('count?at=T equals a brute-force recount over random event streams (PostgreSQL)', () =>
  property(freshPostgres(), 40));

async function property(fresh: FreshStore, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      placementPlan,
      fc.array(crossing, { minLength: 1, maxLength: 120 }),
      fc.integer({ min: 1, max: 6 }),
      settings,
      fc.array(fc.integer({ min: -60_000, max: SPAN + 60_000 }), { minLength: 1, maxLength: 6 }),
      async (plan, crossings, batches, s, probes) => {
        const { store, dispose } = await fresh();
        try {
          // Keep the placements that do not overlap an earlier one of the same sensor.
          const placements: (Placement & { late: boolean })[] = [];
          plan.forEach((p, i) => {
            const from = T0 + p.start;
            const to = p.length === null ? null : from + p.length;
            const clash = placements.some(
              (q) => q.sensor === p.sensor && q.from < (to ?? Infinity) && from < (q.to ?? Infinity),
            );
            if (!clash) {
              placements.push({
                id: `p${i}`,
                sensor: p.sensor,
                doorway: p.doorway,
                positive: p.positive,
                from,
                to,
                createdAt: 0,
                late: p.late,
              });
            }
          });
          await store.transaction(async (tx) => {
            const o = tx.occupancy;
            for (const [id, parent] of Object.entries(SPACES))
              await o.insertSpace(TENANT, { id, name: id, parent, createdAt: 0 });
            for (const [id, [a, b]] of Object.entries(DOORWAYS))
              await o.insertDoorway(TENANT, { id, name: id, a, b, createdAt: 0 });
            for (const id of SENSORS) await o.insertSensor(TENANT, { id, name: id, createdAt: 0 });
            for (const p of placements.filter((q) => !q.late)) await o.insertPlacement(TENANT, p);
          });
          // Deliver the crossings (with every fifth one repeated) in shuffled batches.
          const delivered = [...crossings, ...crossings.filter((_, i) => i % 5 === 0)];
          const size = Math.ceil(delivered.length / batches);
          for (let i = 0; i < delivered.length; i += size) {
            const events: SensorEvent[] = delivered
              .slice(i, i + size)
              .reverse()
              .map((c) => ({
                key: keyOf(c),
                sensor: c.sensor,
                ts: c.ts,
                direction: c.direction,
                receivedAt: c.ts,
                late: false,
                placement: null,
              }));
            await store.transaction(async (tx) => {
              const counter = new Counter(tx.occupancy, TENANT);
              await counter.add(events);
              await counter.flush();
            });
          }
          // Placements added after their events were stored count those events then.
          for (const p of placements.filter((q) => q.late)) {
            await store.transaction(async (tx) => {
              await tx.occupancy.insertPlacement(TENANT, p);
              await recountFor(tx.occupancy, TENANT, p.sensor, [p]);
            });
          }
          const times = [...probes.map((p) => T0 + p), ...crossings.slice(0, 4).map((c) => c.ts)];
          for (const space of Object.keys(SPACES)) {
            // Every hour and day row is the segment of the deltas under it, however they arrived.
            const whole = { from: T0 - DAY_MS, to: T0 + SPAN + DAY_MS };
            const deltas = await store.occupancy.deltas(TENANT, space, whole.from, whole.to);
            for (const [level, size] of [
              ['hour', HOUR_MS],
              ['day', DAY_MS],
            ] as const) {
              const expected: number[] = [];
              for (let i = 0; i < deltas.length;) {
                const period = Math.floor(deltas[i]!.ts / size);
                let j = i;
                while (j < deltas.length && Math.floor(deltas[j]!.ts / size) === period) j += 1;
                const s = segmentOf(deltas.slice(i, j), 0);
                expected.push(s.net, s.min);
                i = j;
              }
              const [got] = await store.occupancy.steps(TENANT, space, [{ level, ...whole, total: false }]);
              assert.deepEqual(got, expected, `${level} rows of ${space}`);
            }
            for (const T of times) {
              const got = await countBefore(store.occupancy, TENANT, space, T + 1, s);
              assert.deepEqual(
                got,
                bruteForce(space, T, crossings, placements, s),
                `space ${space} at ${new Date(T).toISOString()}`,
              );
            }
            const buckets = await series(
              store.occupancy,
              TENANT,
              space,
              { from: T0, to: T0 + SPAN, interval: 6 * 3_600_000, now: 0, capacity: null },
              s,
            );
            for (const b of buckets) {
              assert.deepEqual(
                b.endCount,
                bruteForce(space, b.end - 1, crossings, placements, s),
                `series end ${new Date(b.end).toISOString()}`,
              );
              assert.ok(b.peak.raw >= Math.max(b.startCount.raw, b.endCount.raw));
              assert.ok(b.peak.corrected >= Math.max(b.startCount.corrected, b.endCount.corrected));
            }
          }
        } finally {
          await dispose();
        }
      },
    ),
    { numRuns },
  );
}
