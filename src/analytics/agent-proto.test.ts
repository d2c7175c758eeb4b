import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBatch } from '../../agent/src/proto.ts';
import { decodeBatch } from './agent-proto.ts';
import { parseCollect } from './collect-payload.ts';

test('a batch the agent encodes by hand decodes to what /v1/collect takes', () => {
  const now = 1_800_000_000_000;
  const bytes = encodeBatch(
    'st_abc',
    [
      {
        n: 'pageview',
        u: 'https://shop.example/ü',
        r: 'https://ref.example/',
        t: now - 300,
        i: 'id-000000001',
      },
      {
        n: 'signup',
        u: 'https://shop.example/',
        r: '',
        p: { plan: 'pro', seats: 3 },
        t: now - 200_000,
        i: 'id-000000002',
      },
    ],
    now,
  );
  assert.deepEqual(decodeBatch(bytes), {
    s: 'st_abc',
    e: [
      { n: 'pageview', u: 'https://shop.example/ü', r: 'https://ref.example/', a: 300, i: 'id-000000001' },
      {
        n: 'signup',
        u: 'https://shop.example/',
        p: { plan: 'pro', seats: '3' },
        a: 200_000,
        i: 'id-000000002',
      },
    ],
  });
  const payload = parseCollect(decodeBatch(bytes), 50);
  assert.equal(payload.events[1]!.ageMs, 200_000);
});

test('truncated or garbled frames are refused with COLLECT_INVALID, never a crash', () => {
  const good = encodeBatch(
    'st_abc',
    [{ n: 'pageview', u: 'https://a.example/', r: '', t: 0, i: 'id-000000001' }],
    0,
  );
  assert.throws(() => decodeBatch(good.subarray(0, good.length - 3)), { code: 'COLLECT_INVALID' });
  assert.throws(() => decodeBatch(new Uint8Array([0x0a, 0x02, 0xff, 0xfe])), { code: 'COLLECT_INVALID' });
  assert.throws(() => decodeBatch(new Uint8Array([0x0b])), { code: 'COLLECT_INVALID' });
  assert.throws(() => parseCollect(decodeBatch(new Uint8Array([])), 50), { code: 'COLLECT_INVALID' });
});

test("a custom event's revenue crosses the socket as field 7 and reads as the JSON transport's", () => {
  const now = 1_800_000_000_000;
  const bytes = encodeBatch(
    'st_abc',
    [
      {
        n: 'purchase',
        u: 'https://shop.example/',
        r: '',
        m: { a: 49.9, c: 'EUR' },
        t: now,
        i: 'id-000000003',
      },
    ],
    now,
  );
  const decoded = decodeBatch(bytes) as { e: Record<string, unknown>[] };
  assert.deepEqual(decoded.e[0]!.m, { a: '49.9', c: 'EUR' });
  assert.deepEqual(parseCollect(decoded, 50).events[0]!.revenue, { milli: 49_900, currency: 'EUR' });
});
