import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BeaconError } from '../src/errors/catalog.ts';
import { Counter } from '../src/occupancy/counter.ts';
import { countBefore, series, type CountSettings } from '../src/occupancy/figures.ts';
import type { Correction, SensorEvent, SpaceMove } from '../src/occupancy/model.ts';
import { moveSpace, undoMove } from '../src/occupancy/moves.ts';
import { lastResetAtOrBefore } from '../src/occupancy/reset.ts';
import { freshPostgres, freshSqlite, type FreshStore } from './helpers/occupancy-stores.ts';

/**
 * Re-parenting keeps history exact: spaces move (and moves are taken back) before and after the
 * events they affect arrive, and headcount corrections are recorded, and every count and series
 * still equals a brute-force count of the people inside each space at each time, made from the
 * crossings alone: a person is inside a space when they are in it or in any space inside it, in
 * the tree as it stood at that time.
 */

const TENANT = 't';
const T0 = Date.parse('2026-03-28T00:00:00.000Z'); // spans the Europe/Berlin DST change on 29 March
const SPAN = 2 * 86_400_000;
const STEP = 20_000;
/** Spaces and the parent each is created with. */
const SPACES: Record<string, string | null> = { B: null, F1: 'B', F2: 'B', R1: 'F1', R2: 'F2', X: null };
const MOVABLE = ['F1', 'F2', 'R1', 'R2', 'X'];
/** Each sensor watches one doorway for all time; +1 enters side a. */
const DOORS: Record<string, [string, string | null]> = {
  s0: ['B', null],
  s1: ['F1', 'B'],
  s2: ['R1', 'F1'],
  s3: ['R2', 'F2'],
  s4: ['R1', 'R2'],
  s5: ['X', null],
};

interface Crossing {
  sensor: string;
  ts: number;
  direction: 1 | -1;
  sequence: number;
}
const keyOf = (c: Crossing) => `seq:${c.sensor}:${c.ts}:${c.direction}:${c.sequence}`;
/** The space a crossing leaves and the one it enters (null: outside). */
function sides(c: Crossing): [string | null, string | null] {
  const [a, b] = DOORS[c.sensor]!;
  return c.direction === 1 ? [b, a] : [a, b];
}

/** The tree of the moves that stand: parent of a space at t. */
function parentAt(moves: readonly SpaceMove[], space: string, t: number): string | null {
  let parent: string | null = SPACES[space]!;
  for (const m of [...moves].sort((x, y) => x.at - y.at))
    if (m.space === space && m.at <= t) parent = m.parent;
  return parent;
}
function inside(moves: readonly SpaceMove[], space: string, where: string | null, t: number): boolean {
  for (let s = where, n = 0; s !== null && n < 10; s = parentAt(moves, s, t), n++)
    if (s === space) return true;
  return false;
}

/** People directly in each space (not counting spaces inside it) after every crossing before `t`. */
function directBefore(crossings: readonly Crossing[], t: number): Map<string | null, number> {
  const direct = new Map<string | null, number>();
  for (const c of crossings) {
    if (c.ts >= t) continue;
    const [from, to] = sides(c);
    direct.set(from, (direct.get(from) ?? 0) - 1);
    direct.set(to, (direct.get(to) ?? 0) + 1);
  }
  return direct;
}

/**
 * The changes of a space's count in fold order, from scratch: at each move instant the people of every
 * space whose ancestors changed go with the lowest space that moved above them (one step per moved
 * space, in space order), then each crossing at its own time.
 */
function changes(space: string, crossings: readonly Crossing[], moves: readonly SpaceMove[]) {
  const out: { ts: number; order: string; delta: number }[] = [];
  for (const c of crossings) {
    const [from, to] = sides(c);
    const d = Number(inside(moves, space, to, c.ts)) - Number(inside(moves, space, from, c.ts));
    if (d !== 0) out.push({ ts: c.ts, order: `1${keyOf(c)}`, delta: d });
  }
  for (const at of new Set(moves.map((m) => m.at))) {
    const movers = moves.filter((m) => m.at === at).map((m) => m.space);
    const direct = directBefore(crossings, at);
    const bySource = new Map<string, number>();
    for (const s of Object.keys(SPACES)) {
      // The lowest moved space at or above s, in the tree just before the move.
      let mover: string | undefined;
      for (let p: string | null = s, n = 0; p !== null && n < 10; p = parentAt(moves, p, at - 1), n++) {
        if (movers.includes(p)) {
          mover = p;
          break;
        }
      }
      if (!mover) continue;
      const d = Number(inside(moves, space, s, at)) - Number(inside(moves, space, s, at - 1));
      if (d !== 0) bySource.set(mover, (bySource.get(mover) ?? 0) + d * (direct.get(s) ?? 0));
    }
    for (const [source, d] of bySource) if (d !== 0) out.push({ ts: at, order: `0${source}`, delta: d });
  }
  return out.sort((a, b) => a.ts - b.ts || (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
}

/** Raw and corrected counts at T (inclusive), folding the changes from the last anchor. */
function bruteForce(
  space: string,
  T: number,
  crossings: readonly Crossing[],
  moves: readonly SpaceMove[],
  corrections: readonly Correction[],
  s: CountSettings,
) {
  const reset = s.reset ? lastResetAtOrBefore(T, s.reset) : -Infinity;
  const headcount = corrections.filter((c) => c.space === space && c.at <= T).sort((a, b) => b.at - a.at)[0];
  const fromCorrection = headcount !== undefined && headcount.at >= reset;
  const origin = fromCorrection ? headcount.at + 1 : reset;
  let raw = 0;
  let corrected = fromCorrection ? headcount.count : 0;
  const anchored = fromCorrection || s.reset !== undefined;
  for (const c of changes(space, crossings, moves)) {
    if (c.ts > T) break;
    raw += c.delta;
    if (c.ts >= origin) corrected = s.neverNegative ? Math.max(0, corrected + c.delta) : corrected + c.delta;
  }
  return { raw, corrected: anchored || s.neverNegative ? corrected : raw };
}

const time = fc.integer({ min: 0, max: SPAN / STEP }).map((n) => T0 + n * STEP + (n % 3));
const crossing = fc.record({
  sensor: fc.constantFrom(...Object.keys(DOORS)),
  ts: time,
  direction: fc.constantFrom<1 | -1>(1, -1),
  sequence: fc.integer({ min: 0, max: 1 }),
});
const moveOf = fc.record({
  space: fc.constantFrom(...MOVABLE),
  // Often on a crossing's instant, so a transfer and crossings share a millisecond.
  at: fc.oneof(
    time,
    time.map((t) => t + 1),
  ),
  parent: fc.constantFrom('B', 'F1', 'F2', 'R1', 'R2', 'X', null),
  late: fc.boolean(),
  undo: fc.boolean(),
});
const settings = fc.record({
  neverNegative: fc.boolean(),
  reset: fc.option(
    fc.record({
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.constantFrom(0, 30, 59),
      timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Kolkata'),
    }),
    { nil: undefined },
  ),
  provisionalWindowMs: fc.constant(0),
});
const correction = fc.record({
  space: fc.constantFrom(...Object.keys(SPACES)),
  at: fc.oneof(
    time,
    time.map((t) => t - 1),
  ),
  count: fc.integer({ min: 0, max: 6 }),
});

test('re-parenting keeps every count exact before and after each move (SQLite)', () =>
  property(freshSqlite, 120));

test('re-parenting keeps every count exact before and after each move (PostgreSQL)', () =>
  property(freshPostgres(), 30));

async function property(fresh: FreshStore, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.array(crossing, { minLength: 1, maxLength: 80 }),
      fc.array(moveOf, { maxLength: 5 }),
      fc.array(correction, { maxLength: 3 }),
      fc.integer({ min: 1, max: 4 }),
      settings,
      fc.array(fc.integer({ min: -STEP, max: SPAN + STEP }), { minLength: 1, maxLength: 5 }),
      async (crossings, plannedMoves, plannedCorrections, batches, s, probes) => {
        const { store, dispose } = await fresh();
        try {
          await store.transaction(async (tx) => {
            const o = tx.occupancy;
            for (const [id, parent] of Object.entries(SPACES))
              await o.insertSpace(TENANT, { id, name: id, parent, createdAt: 0 });
            for (const [sensor, [a, b]] of Object.entries(DOORS)) {
              await o.insertDoorway(TENANT, { id: `d-${sensor}`, name: sensor, a, b, createdAt: 0 });
              await o.insertSensor(TENANT, { id: sensor, name: sensor, createdAt: 0 });
              await o.insertPlacement(TENANT, {
                id: `p-${sensor}`,
                sensor,
                doorway: `d-${sensor}`,
                positive: 'a',
                from: T0 - 86_400_000,
                to: null,
                createdAt: 0,
              });
            }
          });
          const standing: SpaceMove[] = [];
          const tryMove = async (m: (typeof plannedMoves)[number]) => {
            const move = { space: m.space, at: m.at, parent: m.parent, createdAt: 0 };
            try {
              await store.transaction((tx) => moveSpace(tx.occupancy, TENANT, move));
              standing.push(move);
            } catch (err) {
              if (
                !(err instanceof BeaconError) ||
                !['SPACE_CYCLE', 'ALREADY_EXISTS', 'VALIDATION_FAILED'].includes(err.code)
              )
                throw err;
            }
          };
          for (const m of plannedMoves.filter((p) => !p.late)) await tryMove(m);
          // Deliver the crossings (every fifth one twice) in shuffled batches.
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
          // Moves made after the events they affect, then some moves taken back.
          for (const m of plannedMoves.filter((p) => p.late)) await tryMove(m);
          for (const m of plannedMoves.filter((p) => p.undo)) {
            const i = standing.findIndex((x) => x.space === m.space && x.at === m.at);
            if (i < 0) continue;
            try {
              await store.transaction((tx) => undoMove(tx.occupancy, TENANT, m.space, m.at));
              standing.splice(i, 1);
            } catch (err) {
              if (!(err instanceof BeaconError) || err.code !== 'SPACE_CYCLE') throw err;
            }
          }
          const corrections: Correction[] = plannedCorrections.map((c, i) => ({
            ...c,
            id: `c${i}`,
            note: '',
            createdAt: 0,
            createdBy: 'test',
          }));
          await store.transaction(async (tx) => {
            for (const c of corrections) await tx.occupancy.putCorrection(TENANT, c);
          });
          // A later correction of the same space at the same time replaced the earlier one.
          const kept = corrections.filter(
            (c, i) => !corrections.some((d, j) => j > i && d.space === c.space && d.at === c.at),
          );
          const unique = [...new Map(crossings.map((c) => [keyOf(c), c])).values()];
          const times = [
            ...probes.map((p) => T0 + p),
            ...standing.flatMap((m) => [m.at - 1, m.at]),
            ...kept.flatMap((c) => [c.at, c.at + 1]),
          ];
          for (const space of Object.keys(SPACES)) {
            for (const T of times) {
              assert.deepEqual(
                await countBefore(store.occupancy, TENANT, space, T + 1, s),
                bruteForce(space, T, unique, standing, kept, s),
                `space ${space} at ${new Date(T).toISOString()}`,
              );
            }
            const buckets = await series(
              store.occupancy,
              TENANT,
              space,
              { from: T0, to: T0 + SPAN, interval: 4 * 3_600_000, now: 0, capacity: 1 },
              s,
            );
            for (const b of buckets) {
              assert.deepEqual(
                b.endCount,
                bruteForce(space, b.end - 1, unique, standing, kept, s),
                `series end ${new Date(b.end).toISOString()} of ${space}`,
              );
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
