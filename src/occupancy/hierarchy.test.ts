import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hierarchy } from './hierarchy.ts';
import type { Space } from './model.ts';

const space = (id: string, parent: string | null): Space => ({ id, name: id, parent, createdAt: 0 });
const spaces = [space('hq', null), space('floor', 'hq'), space('room', 'floor'), space('annex', null)];
const tree = new Hierarchy(spaces, []);

test('a space is enclosed by itself and every ancestor', () => {
  assert.deepEqual(tree.enclosing('room', 0), ['room', 'floor', 'hq']);
  assert.deepEqual(tree.enclosing(null, 0), []);
});

test('a crossing changes only the spaces it enters or leaves', () => {
  assert.deepEqual(tree.crossing('floor', 'room', 0), [{ space: 'room', delta: 1 }]);
  assert.deepEqual(tree.crossing(null, 'room', 0), [
    { space: 'room', delta: 1 },
    { space: 'floor', delta: 1 },
    { space: 'hq', delta: 1 },
  ]);
  assert.deepEqual(tree.crossing('room', 'annex', 0), [
    { space: 'annex', delta: 1 },
    { space: 'room', delta: -1 },
    { space: 'floor', delta: -1 },
    { space: 'hq', delta: -1 },
  ]);
});

test('a move changes the tree from its time on, and only then', () => {
  const moved = new Hierarchy(spaces, [{ space: 'room', at: 100, parent: 'annex', createdAt: 0 }]);
  assert.deepEqual(moved.enclosing('room', 99), ['room', 'floor', 'hq']);
  assert.deepEqual(moved.enclosing('room', 100), ['room', 'annex']);
  assert.deepEqual(moved.parentsOf('room'), [
    { parent: 'floor', from: null, to: 100 },
    { parent: 'annex', from: 100, to: null },
  ]);
  assert.deepEqual(moved.subtree('annex', 100).sort(), ['annex', 'room']);
});

test('a move that would put a space inside itself is named, at the time it would', () => {
  const moves = [{ space: 'floor', at: 50, parent: 'annex', createdAt: 0 }];
  const candidate = new Hierarchy(spaces, [
    ...moves,
    { space: 'annex', at: 10, parent: 'room', createdAt: 0 },
  ]);
  assert.match(
    candidate.cycleIf('annex', 'room', 10, null) ?? '',
    /room is inside annex at 1970-01-01T00:00:00.050Z/,
  );
  assert.equal(candidate.cycleIf('annex', 'room', 10, 50), undefined);
});
