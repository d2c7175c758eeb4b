import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextDue, periodEndingAt } from './report-schedule.ts';

test('weekly reports are due when Monday begins in the site zone and cover the week before', () => {
  // Wednesday 25 November 2026, 10:00 UTC; Berlin is UTC+1 then.
  const now = Date.UTC(2026, 10, 25, 10);
  const due = nextDue('weekly', 'Europe/Berlin', now);
  assert.equal(new Date(due).toISOString(), '2026-11-29T23:00:00.000Z');
  assert.equal(periodEndingAt('weekly', 'Europe/Berlin', due).label, '2026-11-23/2026-11-29');
  assert.equal(nextDue('weekly', 'Europe/Berlin', due), due + 7 * 86_400_000, 'the next one a week on');
});

test('monthly reports are due on the 1st in the site zone and cover the calendar month', () => {
  const now = Date.UTC(2026, 9, 31, 12);
  const due = nextDue('monthly', 'America/New_York', now);
  assert.equal(new Date(due).toISOString(), '2026-11-01T04:00:00.000Z');
  const period = periodEndingAt('monthly', 'America/New_York', due);
  assert.equal(period.label, '2026-10-01/2026-10-31');
  assert.equal(
    new Date(nextDue('monthly', 'America/New_York', due)).toISOString(),
    '2026-12-01T05:00:00.000Z',
  );
});
