import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BeaconError } from '../errors/catalog.ts';
import {
  covers,
  currentOrNext,
  occurrenceAt,
  parseMaintenanceSpec,
  type MaintenanceWindow,
} from './maintenance.ts';

const win = (input: Record<string, unknown>, updatedAt = 0): MaintenanceWindow => ({
  tenant: 't',
  id: `w${updatedAt}`,
  source: 'api',
  createdAt: 0,
  updatedAt,
  ...parseMaintenanceSpec({ title: 'Works', ...input }),
});

test('a weekly window follows local time across DST: 02:00 Berlin is 01:00 UTC in winter, 00:00 in summer', () => {
  const w = win({
    start: '2026-03-22T02:00',
    rrule: 'FREQ=WEEKLY;BYDAY=SU',
    durationMinutes: 90,
    timeZone: 'Europe/Berlin',
  });
  assert.deepEqual(occurrenceAt(w, Date.parse('2026-03-22T01:30:00Z')), {
    start: Date.parse('2026-03-22T01:00:00Z'),
    end: Date.parse('2026-03-22T02:30:00Z'),
  });
  assert.equal(occurrenceAt(w, Date.parse('2026-03-22T02:31:00Z')), undefined);
  // 29 March: the clocks go forward at 02:00, so 02:00 does not exist that day and, as RFC 5545 says, it is skipped.
  assert.equal(occurrenceAt(w, Date.parse('2026-03-29T00:30:00Z')), undefined);
  assert.deepEqual(occurrenceAt(w, Date.parse('2026-04-05T00:10:00Z')), {
    start: Date.parse('2026-04-05T00:00:00Z'),
    end: Date.parse('2026-04-05T01:30:00Z'),
  });
  assert.deepEqual(currentOrNext(w, Date.parse('2026-04-06T00:00:00Z')), {
    start: Date.parse('2026-04-12T00:00:00Z'),
    end: Date.parse('2026-04-12T01:30:00Z'),
  });
});

test('one-off windows, local or with an offset; covers by id, tag, or everything', () => {
  const local = win({ start: '2026-07-01T09:00', end: '2026-07-01T10:00', timeZone: 'America/New_York' }, 1);
  assert.ok(occurrenceAt(local, Date.parse('2026-07-01T13:30:00Z')));
  assert.equal(occurrenceAt(local, Date.parse('2026-07-01T14:00:00Z')), undefined, 'the end is exclusive');
  const instant = win({ start: '2026-07-01T09:00:00Z', end: '2026-07-01T11:00:00+01:00' }, 2);
  assert.deepEqual(occurrenceAt(instant, Date.parse('2026-07-01T09:30:00Z')), {
    start: Date.parse('2026-07-01T09:00:00Z'),
    end: Date.parse('2026-07-01T10:00:00Z'),
  });
  assert.equal(currentOrNext(instant, Date.parse('2026-08-01T00:00:00Z')), undefined, 'over');
  assert.ok(covers({ targets: [], tags: [] }, 'any', []));
  assert.ok(covers({ targets: ['a'], tags: [] }, 'a', []));
  assert.ok(covers({ targets: [], tags: ['db'] }, 'x', ['web', 'db']));
  assert.ok(!covers({ targets: ['a'], tags: ['db'] }, 'x', ['web']));
});

test('what is not a window is refused, naming the field', () => {
  for (const [input, message] of [
    [{ start: '2026-07-01T09:00' }, /needs an end/],
    [{ start: 'next monday', end: '2026-07-01T10:00' }, /start is not a date/],
    [{ start: '2026-07-01T09:00', rrule: 'FREQ=DAILY' }, /durationMinutes/],
    [{ start: '2026-07-01T09:00', rrule: 'FREQ=SOMETIMES', durationMinutes: 5 }, /rrule/],
    [{ start: '2026-07-01T09:00', rrule: 'FREQ=DAILY\nDTSTART:2020', durationMinutes: 5 }, /one RRULE line/],
    [{ start: '2026-07-01T09:00', end: '2026-07-01T10:00', timeZone: 'Mars/Base' }, /IANA time zone/],
    [{ start: '2026-07-01T09:00', end: '2026-07-01T10:00', targets: 'web' }, /targets/],
    [{ start: '2026-07-01T09:00', end: '2026-07-01T10:00', color: 'red' }, /color is not a known field/],
  ] as const) {
    assert.throws(
      () => parseMaintenanceSpec({ title: 'x', ...input }),
      (err: unknown) =>
        err instanceof BeaconError && err.code === 'MAINTENANCE_INVALID' && message.test(err.message),
      JSON.stringify(input),
    );
  }
});
