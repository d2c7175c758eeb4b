import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckRow } from './model.ts';
import { advanceIncidents } from './incidents.ts';

const check = (scheduledAt: number, ok: boolean): CheckRow => ({
  tenant: 't',
  target: 'a',
  region: 'eu',
  slot: scheduledAt,
  scheduledAt,
  ok,
  startedAt: scheduledAt,
  durationMs: 10,
  phases: { dnsMs: 0, connectMs: 0, tlsMs: 0, ttfbMs: 0, transferMs: 0 },
  status: ok ? 200 : null,
  httpVersion: ok ? '1.1' : null,
  bytes: 0,
  tlsExpiresAt: null,
  patternMatched: null,
  redirects: 0,
  error: ok ? null : { class: 'refused', detail: 'ECONNREFUSED' },
});
const limits = () => ({ downAfter: 3, upAfter: 2 });

test('down after N failures in a row, dated from the first; up after M successes', () => {
  const pattern = [true, false, false, true, false, false, false, false, true, false, true, true, true];
  const checks = pattern.map((ok, i) => check(i * 1000, ok));
  const first = advanceIncidents([], checks.slice(0, 7), limits);
  assert.deepEqual(
    first.opened.map((i) => [i.startedAt, i.cause]),
    [[4000, 'refused']],
    'the one blip of two failures opens nothing',
  );
  // A second batch continues from the stored state.
  const second = advanceIncidents(first.states, checks.slice(7), limits);
  assert.equal(second.opened.length, 0);
  assert.deepEqual(second.closed, [
    { key: { tenant: 't', target: 'a', region: 'eu', startedAt: 4000 }, endedAt: 10_000 },
  ]);
  assert.equal(second.states[0]!.down, false);
});

test('late checks do not move the state, and targets without thresholds are ignored', () => {
  const s = advanceIncidents([], [check(5000, true)], limits).states;
  const late = advanceIncidents(s, [check(1000, false), check(2000, false), check(3000, false)], limits);
  assert.equal(late.opened.length, 0);
  const none = advanceIncidents([], [check(1, false), check(2, false), check(3, false)], () => undefined);
  assert.deepEqual(none, { states: [], opened: [], closed: [] });
});
