import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastResetAtOrBefore, parseDailyReset, resetsBetween } from './reset.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (t: number) => new Date(t).toISOString();

test('the reset follows local time across a daylight-saving change', () => {
  const reset = parseDailyReset('03:00', 'Europe/Berlin')!;
  // Berlin moves from UTC+1 to UTC+2 on 29 March 2026.
  assert.deepEqual(resetsBetween(at('2026-03-27T12:00:00Z'), at('2026-03-31T00:00:00Z'), reset).map(iso), [
    '2026-03-28T02:00:00.000Z',
    '2026-03-29T01:00:00.000Z',
    '2026-03-30T01:00:00.000Z',
  ]);
});

test('the last reset at or before a time is the same day’s, or the day before’s', () => {
  const reset = parseDailyReset('04:30', 'UTC')!;
  assert.equal(iso(lastResetAtOrBefore(at('2026-05-02T04:30:00Z'), reset)), '2026-05-02T04:30:00.000Z');
  assert.equal(iso(lastResetAtOrBefore(at('2026-05-02T04:29:59.999Z'), reset)), '2026-05-01T04:30:00.000Z');
});

test('a local time skipped by daylight saving resets at the first instant after the gap', () => {
  const reset = parseDailyReset('02:30', 'Europe/Berlin')!;
  assert.deepEqual(resetsBetween(at('2026-03-29T00:00:00Z'), at('2026-03-29T12:00:00Z'), reset).map(iso), [
    '2026-03-29T01:30:00.000Z',
  ]);
});

test('bad settings are named; an empty time means no reset', () => {
  assert.equal(parseDailyReset('', 'UTC'), undefined);
  assert.throws(() => parseDailyReset('25:00', 'UTC'), /occupancy.resetTime/);
  assert.throws(() => parseDailyReset('03:00', 'Mars/Olympus'), /occupancy.timeZone/);
});
