import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_WATCHERS, WatcherCache, watchersOf } from './watchers.ts';

test('watchers are kept by tenant and space at one model version; a newer version drops the tenant’s', () => {
  const cache = new WatcherCache(2);
  cache.set('t1', 'room', watchersOf(3, ['s1']));
  cache.set('t1', 'floor', watchersOf(3, ['s1', 's2']));
  assert.deepEqual(cache.get('t1', 'room'), { version: 3, sensors: ['s1'] });
  cache.seen('t1', 3);
  assert.ok(cache.get('t1', 'floor'), 'the same version keeps them');
  cache.seen('t1', 4);
  assert.equal(cache.get('t1', 'room'), undefined, 'a newer version drops every space of the tenant');
  cache.set('t1', 'room', watchersOf(4, ['s1', 's3']));
  cache.set('t1', 'floor', watchersOf(5, ['s2']));
  assert.equal(cache.get('t1', 'room'), undefined, 'a read at another version replaces the tenant’s');
  assert.deepEqual(cache.get('t1', 'floor'), { version: 5, sensors: ['s2'] });
});

test('at most so many tenants are kept, the least recently used dropped first', () => {
  const cache = new WatcherCache(2);
  cache.set('a', 'x', watchersOf(1, []));
  cache.set('b', 'x', watchersOf(1, []));
  cache.get('a', 'x');
  cache.set('c', 'x', watchersOf(1, []));
  assert.equal(cache.size, 2);
  assert.ok(cache.get('a', 'x'));
  assert.equal(cache.get('b', 'x'), undefined);
});

test('a space with more than MAX_WATCHERS sensors keeps none: its minutes are read whole', () => {
  const many = Array.from({ length: MAX_WATCHERS + 1 }, (_, i) => `s${i}`);
  assert.equal(watchersOf(1, many).sensors, undefined);
  assert.equal(watchersOf(1, many.slice(1)).sensors?.length, MAX_WATCHERS);
});
