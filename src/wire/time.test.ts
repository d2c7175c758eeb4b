import assert from 'node:assert/strict';
import { test } from 'node:test';
import { epochMs, isoTime, isoTimeOrNull } from './time.ts';

test('wire times are ISO 8601 UTC with milliseconds and read back exactly', () => {
  for (const ms of [0, 1, 1732363200123, -86_400_001, 253402300799999]) {
    const iso = isoTime(ms);
    assert.match(iso, /^[+-]?\d{4,6}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(epochMs(iso), ms);
  }
  assert.equal(isoTime(1732363200123), '2024-11-23T12:00:00.123Z');
  // The cache of the last time answers a repeat, and a change, correctly.
  assert.equal(isoTime(1732363200123), '2024-11-23T12:00:00.123Z');
  assert.equal(isoTime(0), '1970-01-01T00:00:00.000Z');
  assert.equal(isoTimeOrNull(null), null);
  assert.equal(isoTimeOrNull(0), '1970-01-01T00:00:00.000Z');
  assert.equal(epochMs(undefined), undefined);
});
