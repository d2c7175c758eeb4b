import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor, page } from './cursor.ts';

test('a cursor round-trips its key', () => {
  const cursor = encodeCursor([1732363200123, '0190-abc']);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(decodeCursor(cursor, ['number', 'string']), [1732363200123, '0190-abc']);
});

test('foreign or malformed cursors are BAD_CURSOR', () => {
  for (const bad of [
    '!!!',
    encodeCursor(['x', 'y']),
    encodeCursor([1]),
    Buffer.from('{"a":1}').toString('base64url'),
  ]) {
    assert.throws(() => decodeCursor(bad, ['number', 'string']), { code: 'BAD_CURSOR', status: 400 });
  }
});

test('a page shows `limit` rows and a cursor only when a further row was read', () => {
  const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  const full = page(
    rows,
    2,
    (r) => [r.id],
    (r) => r.id.toUpperCase(),
  );
  assert.deepEqual(full.items, ['A', 'B']);
  assert.deepEqual(decodeCursor(full.next!, ['string']), ['b']);
  assert.deepEqual(
    page(
      rows,
      3,
      (r) => [r.id],
      (r) => r.id,
    ),
    { items: ['a', 'b', 'c'], next: null },
  );
  assert.deepEqual(
    page(
      [],
      3,
      (r: { id: string }) => [r.id],
      (r) => r,
    ),
    { items: [], next: null },
  );
});
