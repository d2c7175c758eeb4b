import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageLog, toEntry } from './message-log.ts';

const at = (ms: number, id: string) => toEntry(id, new Date(ms).toISOString(), { id }, false);
const ids = (log: MessageLog) => log.entries.map((e) => e.id);

test('entries are newest first, by receivedAt then id, whatever order they arrive in', () => {
  const log = new MessageLog(10);
  log.add([at(2000, 'b'), at(1000, 'a')]);
  log.add([at(3000, 'd'), at(2000, 'c')]);
  log.add([at(1500, 'x')]);
  assert.deepEqual(ids(log), ['d', 'c', 'b', 'x', 'a']);
  assert.equal(log.newest?.id, 'd');
  assert.equal(log.oldest?.id, 'a');
});

test('an id already held is not added again, and add counts only new ones', () => {
  const log = new MessageLog(10);
  assert.equal(log.add([at(1000, 'a'), at(2000, 'b')]), 2);
  assert.equal(log.add([at(1000, 'a'), at(3000, 'c'), at(3000, 'c')]), 1);
  assert.deepEqual(ids(log), ['c', 'b', 'a']);
  assert.ok(log.has('a'));
});

test('past capacity the oldest are dropped and may come back later', () => {
  const log = new MessageLog(3);
  log.add([at(1000, 'a'), at(2000, 'b'), at(3000, 'c')]);
  assert.ok(log.full);
  log.add([at(4000, 'd')]);
  assert.deepEqual(ids(log), ['d', 'c', 'b']);
  assert.equal(log.has('a'), false);
  assert.equal(log.add([at(5000, 'a')]), 1);
  assert.deepEqual(ids(log), ['a', 'd', 'c']);
});

test('entries is a new array after each change, so a renderer can keep the old one', () => {
  const log = new MessageLog(5);
  log.add([at(1000, 'a')]);
  const before = log.entries;
  log.add([at(2000, 'b')]);
  assert.notEqual(log.entries, before);
  assert.deepEqual(
    before.map((e) => e.id),
    ['a'],
  );
  const unchanged = log.entries;
  log.add([at(2000, 'b')]);
  assert.equal(log.entries, unchanged);
});

test('a preview is compact JSON, cut short for huge payloads', () => {
  assert.equal(toEntry('a', '2026-11-23T12:00:00.123Z', { n: 1, s: 'x' }, true).preview, '{"n":1,"s":"x"}');
  const big = toEntry('b', '2026-11-23T12:00:00.123Z', { s: 'x'.repeat(5000) }, true).preview;
  assert.ok(big.length <= 1001 && big.endsWith('…'));
});
