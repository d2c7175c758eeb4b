import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckRow } from './model.ts';
import { addToRollups, quantile, STORED_ROLLUP_SIZES, summarize } from './rollup.ts';

const check = (scheduledAt: number, ok: boolean, durationMs: number, region = 'eu'): CheckRow => ({
  tenant: 't',
  target: 'a',
  region,
  slot: 0,
  scheduledAt,
  ok,
  startedAt: scheduledAt,
  durationMs,
  phases: { dnsMs: 0, connectMs: 0, tlsMs: 0, ttfbMs: 0, transferMs: 0 },
  status: ok ? 200 : 503,
  httpVersion: '1.1',
  bytes: 1,
  tlsExpiresAt: null,
  patternMatched: null,
  redirects: 0,
  error: ok ? null : { class: 'status', detail: '503' },
});

test('rollups count checks into minute, hour and day buckets, and merge with stored ones', () => {
  const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);
  const first = addToRollups([], [check(t0, true, 40), check(t0 + 30_000, false, 900)]);
  assert.equal(first.length, 3);
  const again = addToRollups(first, [check(t0 + 61_000, true, 60)]);
  const minute = again.filter((r) => r.size === 'minute').sort((a, b) => a.start - b.start);
  assert.deepEqual(
    minute.map((r) => [r.checks, r.up]),
    [
      [2, 1],
      [1, 1],
    ],
  );
  const hour = again.find((r) => r.size === 'hour')!;
  assert.equal(hour.checks, 3);
  assert.equal(hour.errors.status, 1);
  assert.equal(hour.latencySumMs, 1000);
});

test('rollups of the sizes asked for only, counted into copies: the stored rows stay as they were', () => {
  const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);
  const stored = addToRollups([], [check(t0, false, 900)], STORED_ROLLUP_SIZES);
  assert.deepEqual(stored.map((r) => r.size).sort(), ['day', 'hour']);
  const before = structuredClone(stored);
  const after = addToRollups(
    stored,
    [check(t0 + 1000, false, 20), check(t0 + 2000, true, 30)],
    STORED_ROLLUP_SIZES,
  );
  assert.deepEqual(stored, before);
  assert.deepEqual(
    after.map((r) => [r.size, r.checks, r.up, r.latencySumMs, r.errors.status]),
    [
      ['hour', 3, 1, 950, 2],
      ['day', 3, 1, 950, 2],
    ],
  );
  assert.deepEqual(after[0]!.latency.slice(0, 4), [0, 0, 1, 1]);
});

test('summaries merge regions and report uptime, latency quantiles and errors', () => {
  const t0 = Date.UTC(2026, 0, 1, 10, 0, 0);
  const checks = [
    ...Array.from({ length: 98 }, (_, i) => check(t0 + i * 1000, true, 30, i % 2 ? 'eu' : 'us')),
    check(t0 + 98_000, false, 2500),
    check(t0 + 99_000, false, 2500),
  ];
  const rollups = addToRollups([], checks).filter((r) => r.size === 'hour');
  const { buckets, total } = summarize(rollups, { tenant: 't', target: 'a', size: 'hour' });
  assert.equal(buckets.length, 1);
  assert.equal(total.checks, 100);
  assert.equal(total.uptime, 98);
  assert.equal(total.latencyMs.p50, 50);
  assert.equal(total.latencyMs.p99, 3000);
  assert.deepEqual(total.errors, { status: 2 });
});

test('quantile of an empty histogram is null', () => {
  assert.equal(quantile([0, 0, 0], 0.5), null);
});
