import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree, countFrame, localDay } from './occupancy.ts';

test('buildTree nests spaces under their parents, sorted by name, orphans at the top', () => {
  const tree = buildTree([
    { id: 'r2', name: 'Room B', parent: 'f1' },
    { id: 'hq', name: 'HQ', parent: null },
    { id: 'f1', name: 'Floor 1', parent: 'hq' },
    { id: 'r1', name: 'Room A', parent: 'f1' },
    { id: 'lost', name: 'Annex', parent: 'deleted' },
  ]);
  const shape = (nodes: ReturnType<typeof buildTree>): unknown =>
    nodes.map((n) => [n.space.id, shape(n.children)]);
  assert.deepEqual(shape(tree), [
    ['lost', []],
    [
      'hq',
      [
        [
          'f1',
          [
            ['r1', []],
            ['r2', []],
          ],
        ],
      ],
    ],
  ]);
});

test('countFrame reads count frames and ignores others', () => {
  const frame = { type: 'count', space: 'hq', count: 3, raw: 4, asOf: '2026-11-23T00:00:00.000Z' };
  assert.deepEqual(countFrame(frame), { space: 'hq', count: 3, raw: 4, asOf: frame.asOf });
  assert.equal(countFrame({ type: 'record', space: 'hq' }), undefined);
});

test('localDay spans one local calendar day', () => {
  const { from, to } = localDay(new Date(2026, 10, 23, 15, 30));
  assert.deepEqual([from.getDate(), from.getHours(), to.getDate(), to.getHours()], [23, 0, 24, 0]);
});
