import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inShard, nextSlot, parseShard, slotAt, slotOffset, slotStart } from './schedule.ts';

test('slots are aligned to the interval plus a stable per-target offset', () => {
  const interval = 60_000;
  const offset = slotOffset('default/site-a', interval);
  assert.equal(offset, slotOffset('default/site-a', interval), 'same target, same offset');
  assert.ok(offset >= 0 && offset < interval);
  const t = 1_700_000_000_123;
  const slot = slotAt(t, interval, offset);
  const start = slotStart(slot, interval, offset);
  assert.ok(start <= t && t < start + interval);
  assert.equal(nextSlot(start, interval, offset), slot, 'a slot start is its own next slot');
  assert.equal(nextSlot(start + 1, interval, offset), slot + 1);
});

test('offsets spread targets across the interval', () => {
  const interval = 60_000;
  const perTenSeconds = new Array<number>(6).fill(0);
  for (let i = 0; i < 6000; i++) perTenSeconds[Math.floor(slotOffset(`t/${i}`, interval) / 10_000)]! += 1;
  for (const n of perTenSeconds) assert.ok(n > 800 && n < 1200, `uneven spread: ${perTenSeconds.join(',')}`);
});

test('shards partition targets, and adding a shard moves only about 1/n of them', () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `t/${i}`);
  const owner = (count: number) =>
    keys.map((k) => [...Array(count).keys()].filter((index) => inShard(k, { index, count })));
  const three = owner(3);
  for (const owners of three) assert.equal(owners.length, 1, 'each target has exactly one shard');
  const four = owner(4);
  const moved = keys.filter((_, i) => three[i]![0] !== four[i]![0]).length;
  assert.ok(moved < keys.length * 0.35 && moved > keys.length * 0.15, `moved ${moved}`);
  for (let i = 0; i < keys.length; i++) {
    if (three[i]![0] !== four[i]![0]) assert.equal(four[i]![0], 3, 'targets move only to the new shard');
  }
});

test('parseShard accepts i/n and rejects the rest', () => {
  assert.deepEqual(parseShard('1/3'), { index: 1, count: 3 });
  assert.throws(() => parseShard('3/3'), /0 ≤ i < n/);
  assert.throws(() => parseShard('a/b'), /i\/n/);
});
