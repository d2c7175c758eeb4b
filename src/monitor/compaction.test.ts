import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextPassIn } from './compaction.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const day = Date.UTC(2026, 11, 4);

test('the next background pass is the interval away while the open period is far from its end', () => {
  assert.equal(nextPassIn(day + 12 * 60 * MINUTE, 15 * MINUTE, 10 * MINUTE, DAY), 15 * MINUTE);
  // Just after the closed period's pass, the next one is the interval away too.
  assert.equal(nextPassIn(day + 10 * MINUTE + 5, 15 * MINUTE, 10 * MINUTE, DAY), 15 * MINUTE);
});

test('a period is compacted when it ends plus afterMinutes, not up to an interval later', () => {
  // 23:55: the day ends at 00:00, its pass is due at 00:10, 15 minutes (and a millisecond) away.
  assert.equal(nextPassIn(day + DAY - 5 * MINUTE, 60 * MINUTE, 10 * MINUTE, DAY), 15 * MINUTE + 1);
  // 00:04 the next day, with an hourly interval: 6 minutes to 00:10.
  assert.equal(nextPassIn(day + DAY + 4 * MINUTE, 60 * MINUTE, 10 * MINUTE, DAY), 6 * MINUTE + 1);
  // With no wait after a period (afterMinutes 0): at the period's end.
  assert.equal(nextPassIn(day + DAY - MINUTE, 60 * MINUTE, 0, DAY), MINUTE + 1);
});

test('a pass that fires on the due time finds its period closed, and the next is a period later at most', () => {
  const due = day + DAY + 10 * MINUTE;
  const wait = nextPassIn(due - 3 * MINUTE, DAY, 10 * MINUTE, DAY);
  // At the firing time, the horizon (now - afterMinutes) has reached the period's end.
  assert.ok(due - 3 * MINUTE + wait - 10 * MINUTE >= day + DAY);
  // Right after that pass, the next one is the following period's.
  assert.equal(nextPassIn(due + 1, 2 * DAY, 10 * MINUTE, DAY), DAY);
});
