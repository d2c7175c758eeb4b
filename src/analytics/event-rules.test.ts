import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionRow, Site } from './model.ts';
import { projectEvents, type CollectedEvent } from './event-rules.ts';

const site: Site = {
  id: 'st_1',
  tenant: 't1',
  domain: 'shop.example',
  allowedDomains: [],
  timezone: 'Europe/Berlin',
  respectDnt: false,
  saltRotation: 'daily',
  currency: 'USD',
  createdAt: 0,
};
const T0 = Date.UTC(2026, 10, 23, 9, 0); // 10:00 in Berlin
const MIN = 60_000;
let n = 0;
const ev = (minutes: number, page = '/', name = 'pageview', visitor = 'v1'): CollectedEvent => ({
  key: `k${n++}`,
  ts: T0 + minutes * MIN,
  visitor,
  name,
  url: `https://shop.example${page}`,
  referrer: 'https://www.google.com/',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  props: {},
});

/** Day-grain totals of a projection, with every (cell, visitor) counted as new. */
function dayTotals(events: CollectedEvent[], prior = new Map<string, SessionRow>()) {
  const batch = projectEvents(site, events, prior);
  batch.rollups.countVisitors(batch.rollups.seen());
  const cell = batch.rollups.deltas().find((d) => d.grain === 'day' && d.dim === '')!;
  return { totals: cell.counters, batch, deltas: batch.rollups.deltas() };
}

test('a gap of 30 minutes or less continues the visit; more starts a new one', () => {
  const { totals, batch } = dayTotals([ev(0), ev(30), ev(61)]);
  assert.equal(totals.visits, 2);
  assert.equal(totals.pageviews, 3);
  assert.equal(totals.visitors, 1);
  assert.equal(batch.sessions.length, 2);
  assert.equal(totals.duration, 30 * MIN, 'the first visit lasted 30 minutes; the second is a bounce of 0');
  assert.equal(totals.bounces, 1);
});

test('a single page view is a bounce; a second one (or an event) takes it back', () => {
  assert.equal(dayTotals([ev(0)]).totals.bounces, 1);
  assert.equal(dayTotals([ev(0), ev(1)]).totals.bounces, 0);
  assert.equal(dayTotals([ev(0), ev(1, '/', 'signup')]).totals.bounces, 0);
});

test('exit page moves with the visit; entry page and source stay with its start', () => {
  const { deltas } = dayTotals([ev(0, '/a'), ev(1, '/b'), ev(2, '/c')]);
  const visits = (dim: string) =>
    Object.fromEntries(
      deltas.filter((d) => d.dim === dim && d.counters.visits !== 0).map((d) => [d.value, d.counters.visits]),
    );
  assert.deepEqual(visits('visit:exit_page'), { '/c': 1 });
  assert.deepEqual(visits('visit:entry_page'), { '/a': 1 });
  assert.deepEqual(visits('visit:source'), { Google: 1 });
  assert.deepEqual(visits('visit:browser'), { Firefox: 1 });
});

test('batches continue sessions through the prior map, out of order events included', () => {
  const prior = new Map<string, SessionRow>();
  const first = dayTotals([ev(0)], prior).totals;
  const second = dayTotals([ev(-45), ev(10)], prior).totals;
  assert.equal(first.visits, 1);
  assert.equal(
    second.visits,
    1,
    'the late event 45 minutes earlier is its own visit; the later one continues the first',
  );
  assert.equal(prior.get('v1')!.lastAt, T0 + 10 * MIN);
});

test('days are the site’s days: 23:30 UTC is the next day in Berlin', () => {
  const late = { ...ev(0), ts: Date.UTC(2026, 10, 23, 23, 30) };
  const { deltas } = dayTotals([late]);
  const day = deltas.find((d) => d.grain === 'day' && d.dim === '')!;
  assert.equal(new Date(day.bucket).toISOString(), '2026-11-24T00:00:00.000Z');
});

test('session ids are stable, so reprocessing the same events gives the same sessions', () => {
  const a = projectEvents(site, [ev(0, '/', 'pageview', 'v9')], new Map()).sessions[0]!.id;
  const b = projectEvents(site, [ev(0, '/', 'pageview', 'v9')], new Map()).sessions[0]!.id;
  assert.equal(a, b);
});
