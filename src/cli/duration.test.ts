import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from './duration.ts';

test('durations read as operators write them', () => {
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration(' 7d '), 604_800_000);
  assert.equal(parseDuration('2w'), 1_209_600_000);
});

test('anything else is refused with the reason', () => {
  for (const bad of ['', '10', 'h', '-1h', '1y', '1 h', '1e3s', 'ten minutes']) {
    assert.throws(() => parseDuration(bad), /a duration is a number and a unit/, bad);
  }
});
