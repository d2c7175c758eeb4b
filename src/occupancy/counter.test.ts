import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossing, enclosing, placementAt } from './counter.ts';
import type { Placement, Space } from './model.ts';

const spaces = new Map<string, Space>(
  (
    [
      ['hq', null],
      ['floor', 'hq'],
      ['room', 'floor'],
      ['annex', null],
    ] as const
  ).map(([id, parent]) => [id, { id, name: id, parent, createdAt: 0 }]),
);

test('a space is enclosed by itself and every ancestor', () => {
  assert.deepEqual(enclosing('room', spaces), ['room', 'floor', 'hq']);
  assert.deepEqual(enclosing(null, spaces), []);
});

test('a crossing changes only the spaces it enters or leaves', () => {
  assert.deepEqual(crossing('floor', 'room', spaces), [{ space: 'room', delta: 1 }]);
  assert.deepEqual(crossing(null, 'room', spaces), [
    { space: 'room', delta: 1 },
    { space: 'floor', delta: 1 },
    { space: 'hq', delta: 1 },
  ]);
  assert.deepEqual(crossing('room', 'annex', spaces), [
    { space: 'annex', delta: 1 },
    { space: 'room', delta: -1 },
    { space: 'floor', delta: -1 },
    { space: 'hq', delta: -1 },
  ]);
});

test('the placement in force is the one whose [from, to) holds the time', () => {
  const p = (id: string, from: number, to: number | null): Placement => ({
    id,
    sensor: 's',
    doorway: 'd',
    positive: 'a',
    from,
    to,
    createdAt: 0,
  });
  const placements = [p('first', 0, 100), p('second', 100, null)];
  assert.equal(placementAt(placements, 99)?.id, 'first');
  assert.equal(placementAt(placements, 100)?.id, 'second');
  assert.equal(placementAt(placements, -1), undefined);
});
