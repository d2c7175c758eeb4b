import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBuckets } from './rate-limit.ts';

test('a burst is allowed, then the rate applies, with a Retry-After', () => {
  const buckets = new TokenBuckets({ perSecond: 2, burst: 3 });
  const t = 1000;
  assert.equal(buckets.take('a', t), 0);
  assert.equal(buckets.take('a', t), 0);
  assert.equal(buckets.take('a', t), 0);
  assert.equal(buckets.take('a', t), 1);
  assert.equal(buckets.take('a', t + 500), 0, 'half a second refills one token at 2/s');
  assert.equal(buckets.take('a', t + 500), 1);
});

test('keys are independent and a zero rate disables limiting', () => {
  const buckets = new TokenBuckets({ perSecond: 1, burst: 1 });
  assert.equal(buckets.take('a', 0), 0);
  assert.equal(buckets.take('b', 0), 0);
  assert.equal(buckets.take('a', 0), 1);
  const off = new TokenBuckets({ perSecond: 0, burst: 1 });
  for (let i = 0; i < 100; i++) assert.equal(off.take('a', 0), 0);
});

test('a slow rate asks for a longer wait', () => {
  const buckets = new TokenBuckets({ perSecond: 0.1, burst: 1 });
  assert.equal(buckets.take('a', 0), 0);
  assert.equal(buckets.take('a', 0), 10);
});
