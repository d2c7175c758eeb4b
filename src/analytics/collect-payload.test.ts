import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCollect } from './collect-payload.ts';

test('a valid payload is read with defaults, and ages are clamped to an hour', () => {
  const p = parseCollect(
    { s: 'st_1', e: [{ n: 'pageview', u: 'https://a.example/', a: 10 * 3_600_000 }] },
    50,
  );
  assert.deepEqual(p, {
    site: 'st_1',
    events: [
      {
        name: 'pageview',
        url: 'https://a.example/',
        referrer: '',
        props: {},
        ageMs: 3_600_000,
        id: undefined,
        revenue: undefined,
      },
    ],
  });
  const props = parseCollect(
    { s: 'st_1', e: [{ n: 'x', u: 'https://a.example/', p: { n: 1, b: true } }] },
    50,
  );
  assert.deepEqual(props.events[0]!.props, { n: '1', b: 'true' });
});

test('each bad field is named', () => {
  const bad: [unknown, RegExp][] = [
    [null, /JSON object/],
    [{ s: 'st_1' }, /e \(the events\)/],
    [{ s: 'st_1', e: [{ u: 'https://a.example/' }] }, /e\[0\]\.n/],
    [{ s: 'st_1', e: [{ n: 'x', u: 'ftp://a.example/' }] }, /e\[0\]\.u/],
    [{ s: 'st_1', e: [{ n: 'x', u: 'https://a.example/', p: { k: { deep: 1 } } }] }, /e\[0\]\.p\.k/],
    [{ s: 'st_1', e: [{ n: 'x', u: 'https://a.example/', i: 'short' }] }, /e\[0\]\.i/],
    [{ s: 'st_1', e: [{ n: 'x\u0000', u: 'https://a.example/' }] }, /e\[0\]\.n/],
    [{ s: 'st_1', e: [{ n: 'buy', u: 'https://a.example/', m: 5 }] }, /e\[0\]\.m /],
    [{ s: 'st_1', e: [{ n: 'buy', u: 'https://a.example/', m: { a: '1e3', c: 'EUR' } }] }, /e\[0\]\.m\.a/],
    [{ s: 'st_1', e: [{ n: 'buy', u: 'https://a.example/', m: { a: 1, c: 'eur' } }] }, /e\[0\]\.m\.c/],
    [{ s: 'st_1', e: [{ n: 'pageview', u: 'https://a.example/', m: { a: 1, c: 'EUR' } }] }, /page views/],
  ];
  for (const [body, message] of bad)
    assert.throws(() => parseCollect(body, 50), { code: 'COLLECT_INVALID', message });
});

test('a custom event may carry revenue: an amount and an ISO 4217 currency', () => {
  const p = parseCollect(
    { s: 'st_1', e: [{ n: 'purchase', u: 'https://a.example/', m: { a: '19.99', c: 'EUR' } }] },
    50,
  );
  assert.deepEqual(p.events[0]!.revenue, { milli: 19990, currency: 'EUR' });
});
