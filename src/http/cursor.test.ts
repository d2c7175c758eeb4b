import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor } from './cursor.ts';

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
