import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLocal, fromLocal, isTimeZone, startOfMonth, startOfWeek, toLocal } from './time-zone.ts';

test('local wall-clock time follows the zone, daylight saving included', () => {
  // Berlin is UTC+1 in winter and UTC+2 in summer.
  assert.equal(
    formatLocal(toLocal(Date.UTC(2026, 0, 15, 23, 30), 'Europe/Berlin'), true),
    '2026-01-16 00:30',
  );
  assert.equal(
    formatLocal(toLocal(Date.UTC(2026, 6, 15, 22, 30), 'Europe/Berlin'), true),
    '2026-07-16 00:30',
  );
  // Kolkata is UTC+5:30 all year; Kathmandu +5:45.
  assert.equal(formatLocal(toLocal(Date.UTC(2026, 0, 1, 0, 0), 'Asia/Kolkata'), true), '2026-01-01 05:30');
  assert.equal(formatLocal(toLocal(Date.UTC(2026, 0, 1, 0, 0), 'Asia/Kathmandu'), true), '2026-01-01 05:45');
});

test('fromLocal inverts toLocal', () => {
  for (const ts of [Date.UTC(2026, 2, 29, 0, 30), Date.UTC(2026, 6, 1, 12), Date.UTC(2026, 9, 25, 3)]) {
    assert.equal(fromLocal(toLocal(ts, 'Europe/Berlin'), 'Europe/Berlin'), ts);
  }
});

test('weeks start on Monday and months on the first', () => {
  assert.equal(formatLocal(startOfWeek(Date.UTC(2026, 10, 23, 15)), false), '2026-11-23');
  assert.equal(formatLocal(startOfWeek(Date.UTC(2026, 10, 29, 15)), false), '2026-11-23');
  assert.equal(formatLocal(startOfMonth(Date.UTC(2026, 10, 29, 15)), false), '2026-11-01');
});

test('only IANA zones are zones', () => {
  assert.equal(isTimeZone('America/New_York'), true);
  assert.equal(isTimeZone('Mars/Olympus'), false);
});
