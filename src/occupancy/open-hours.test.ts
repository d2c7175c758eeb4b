import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOpenAt, openHoursProblem, openTimeBetween } from './open-hours.ts';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;
const weekdays = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, from: '08:00', to: '18:00' }];

test('open time counts only the opening hours of each local day', () => {
  // Friday 2026-03-06 16:00 to Monday 10:00 in Berlin (UTC+1): 2 h Friday, 2 h Monday.
  const open = openTimeBetween(
    weekdays,
    'Europe/Berlin',
    at('2026-03-06T15:00:00Z'),
    at('2026-03-09T09:00:00Z'),
    Infinity,
  );
  assert.equal(open, 4 * HOUR);
  assert.equal(openTimeBetween(null, 'UTC', 0, 5 * HOUR, Infinity), 5 * HOUR, 'no hours: always open');
  assert.equal(openTimeBetween([], 'UTC', 0, 5 * HOUR, Infinity), 0, 'no openings: never open');
});

test('the walk stops at the cap, and an opening past midnight runs into the next day', () => {
  const night = [{ days: ['sat'] as const, from: '22:00', to: '02:00' }];
  assert.equal(
    openTimeBetween(night, 'UTC', at('2026-03-07T00:00:00Z'), at('2026-03-09T00:00:00Z'), Infinity),
    4 * HOUR,
  );
  assert.equal(openTimeBetween(weekdays, 'UTC', 0, 365 * 24 * HOUR, 3 * HOUR), 3 * HOUR);
  assert.equal(isOpenAt(night, 'UTC', at('2026-03-08T01:00:00Z')), true);
  assert.equal(isOpenAt(night, 'UTC', at('2026-03-08T03:00:00Z')), false);
});

test('a daylight-saving day keeps the wall-clock hours', () => {
  // Berlin moves to UTC+2 on Sunday 29 March 2026; Monday 30 opens 06:00–16:00 UTC.
  const open = openTimeBetween(
    weekdays,
    'Europe/Berlin',
    at('2026-03-30T00:00:00Z'),
    at('2026-03-30T07:00:00Z'),
    Infinity,
  );
  assert.equal(open, HOUR);
});

test('bad hours are named', () => {
  assert.match(openHoursProblem([{ days: [], from: '08:00', to: '09:00' }]) ?? '', /at least one day/);
  assert.match(openHoursProblem([{ days: ['mon'], from: '8:00', to: '09:00' }]) ?? '', /HH:MM/);
  assert.equal(openHoursProblem(weekdays), undefined);
});
