import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate, version } from 'uuid';
import { uuidv7 } from './ids.ts';

test('ids are valid RFC 9562 version 7 UUIDs carrying the millisecond timestamp', () => {
  const now = Date.UTC(2026, 10, 23, 2, 0, 0, 123);
  const id = uuidv7(now);
  assert.ok(validate(id), id);
  assert.equal(version(id), 7);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), now);
});

test('ids rise strictly within a process, also past 4,096 ids in one millisecond', () => {
  const now = Date.now() + 60_000;
  const ids = Array.from({ length: 10_000 }, () => uuidv7(now));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  assert.equal(new Set(ids).size, ids.length);
  // The counter overflowed at least once, so later ids moved to the next milliseconds.
  assert.ok(parseInt(ids.at(-1)!.slice(0, 8) + ids.at(-1)!.slice(9, 13), 16) > now);
});

test('a clock that steps back does not make ids fall', () => {
  const a = uuidv7(Date.now() + 120_000);
  const b = uuidv7(Date.now());
  assert.ok(a < b);
});
