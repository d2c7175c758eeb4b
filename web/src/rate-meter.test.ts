import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateMeter } from './rate-meter.ts';

test('the rate is events per second over the window, and decays as seconds pass empty', () => {
  const meter = new RateMeter(10);
  const t = 1_000_000_000;
  for (let s = 0; s < 10; s++) meter.mark(5, t + s * 1000);
  assert.equal(meter.rate(t + 9_500), 5);
  assert.equal(meter.rate(t + 14_000), 2.5);
  assert.equal(meter.rate(t + 60_000), 0);
});
