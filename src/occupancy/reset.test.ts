import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lastResetAtOrBefore, nextResetAtOrAfter, parseDailyReset, resetsBetween } from './reset.ts';

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

test('the last and next resets are the nearest of every reset, across zones, DST gaps and overlaps (property)', () => {
  const zones = [
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'Australia/Lord_Howe',
    'Pacific/Apia',
    'Asia/Kolkata',
  ];
  const times = ['00:00', '02:30', '03:00', '04:00', '23:59', '01:30'];
  const DAY = 86_400_000;
  fc.assert(
    fc.property(
      fc.constantFrom(...zones),
      fc.constantFrom(...times),
      // 2010-2030: Apia skipped 30 December 2011 altogether.
      fc.oneof(
        fc.integer({ min: Date.UTC(2010, 0, 1), max: Date.UTC(2030, 0, 1) }),
        fc.integer({ min: Date.UTC(2011, 11, 28), max: Date.UTC(2012, 0, 2) }),
      ),
      fc.integer({ min: -90_000_000, max: 90_000_000 }),
      (zone, time, t, near) => {
        const reset = parseDailyReset(time, zone)!;
        // Every reset of the week around t, from the calendar one local day at a time.
        const all = resetsBetween(t - 8 * DAY, t + 8 * DAY, reset);
        const last = (at: number) => all.filter((r) => r <= at).at(-1);
        // A second time within a day of the first, so cached days are reused, and the edges of a reset.
        for (const at of [t, t + near, last(t)! - 1, last(t)!, last(t)! + 1]) {
          assert.equal(lastResetAtOrBefore(at, reset), last(at), `${zone} ${time} ${iso(at)}`);
          assert.equal(
            nextResetAtOrAfter(at, reset),
            all.find((r) => r >= at),
            `${zone} ${time} ${iso(at)}`,
          );
        }
      },
    ),
    { numRuns: 1500 },
  );
});
