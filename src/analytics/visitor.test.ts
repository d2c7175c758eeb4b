import { test } from 'node:test';
import assert from 'node:assert/strict';
import { saltPeriod, visitorId, visitorSalt } from './visitor.ts';

const dailySalt = (secret: string, ts: number) => visitorSalt(secret, saltPeriod('daily', ts));

const day = Date.UTC(2026, 10, 23, 10);

test('the salt is the same all day and for every process with the secret, and changes at midnight UTC', () => {
  assert.equal(dailySalt('s3cret', day), dailySalt('s3cret', Date.UTC(2026, 10, 23, 23, 59, 59, 999)));
  assert.notEqual(dailySalt('s3cret', day), dailySalt('s3cret', Date.UTC(2026, 10, 24)));
  assert.notEqual(dailySalt('s3cret', day), dailySalt('other', day));
});

test('the visitor id depends on salt, site, address and user agent, and does not contain the address', () => {
  const salt = dailySalt('s3cret', day);
  const id = visitorId(salt, 'st_1', '203.0.113.9', 'UA');
  assert.equal(id, visitorId(salt, 'st_1', '203.0.113.9', 'UA'), 'a replay recomputes the same id');
  assert.match(id, /^[A-Za-z0-9_-]{22}$/);
  assert.ok(!id.includes('203'));
  for (const other of [
    visitorId(dailySalt('s3cret', day + 86_400_000), 'st_1', '203.0.113.9', 'UA'),
    visitorId(salt, 'st_2', '203.0.113.9', 'UA'),
    visitorId(salt, 'st_1', '203.0.113.10', 'UA'),
    visitorId(salt, 'st_1', '203.0.113.9', 'UA2'),
  ])
    assert.notEqual(other, id);
});

test('a monthly salt lasts the UTC month, and daily ids are what they were before monthly salts came', () => {
  const monthly = (ts: number) => visitorSalt('s3cret', saltPeriod('monthly', ts));
  assert.equal(monthly(Date.UTC(2026, 10, 1)), monthly(Date.UTC(2026, 10, 30, 23, 59, 59, 999)));
  assert.notEqual(monthly(Date.UTC(2026, 10, 30)), monthly(Date.UTC(2026, 11, 1)));
  assert.notEqual(monthly(day), dailySalt('s3cret', day));
  assert.equal(saltPeriod('daily', day), '2026-11-23');
  assert.equal(saltPeriod('monthly', day), '2026-11');
});
