import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { CHROME_UA, createSite, query } from './helpers/analytics.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

/**
 * Behind a reverse proxy every request comes from the proxy's address. `http.trustProxy` decides whether
 * X-Forwarded-For names the client instead: the visitor id and the per-address collect limit use it.
 */
const beacons: TestBeacon[] = [];
after(() => Promise.all(beacons.map((b) => b.destroy())));

async function run(trustProxy: string | undefined) {
  const beacon = await startTestBeacon({
    'analytics.addressPerSecond': 0.001,
    'analytics.addressBurst': 2,
    ...(trustProxy === undefined ? {} : { 'http.trustProxy': trustProxy }),
  });
  beacons.push(beacon);
  const site = await createSite(beacon, { domain: 'proxied.example' });
  const collect = async (forwardedFor: string, page: string) =>
    (
      await fetch(beacon.url + '/v1/collect', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA, 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ s: site, e: [{ n: 'pageview', u: `https://proxied.example/${page}` }] }),
      })
    ).status;
  const statuses = [
    await collect('203.0.113.1', 'a'),
    await collect('203.0.113.1', 'b'),
    await collect('203.0.113.1', 'c'),
    await collect('198.51.100.7, 203.0.113.2', 'd'),
  ];
  const accepted = statuses.filter((s) => s === 202).length;
  const totals = await eventually(async () => {
    const r = await query(beacon, site, { metrics: ['visitors', 'pageviews'], dateRange: 'day' });
    const m = r.body.results[0]?.metrics;
    return m && m[1] === accepted ? m : undefined;
  }, 60_000);
  return { statuses, visitors: totals[0] };
}

test('by default X-Forwarded-For is ignored: one address, one visitor, one limit', async () => {
  const { statuses, visitors } = await run(undefined);
  assert.deepEqual(statuses, [202, 202, 429, 429]);
  assert.equal(visitors, 1);
});

test('with the proxy trusted, each forwarded client is its own visitor with its own limit', async () => {
  const { statuses, visitors } = await run('127.0.0.1');
  assert.deepEqual(statuses, [202, 202, 429, 202]);
  // 203.0.113.1 and 203.0.113.2 (the nearest untrusted hop; 198.51.100.7 could be forged by the client).
  assert.equal(visitors, 2);
});

test('a hop count trusts that many proxies', async () => {
  const { statuses, visitors } = await run('1');
  assert.deepEqual(statuses, [202, 202, 429, 202]);
  assert.equal(visitors, 2);
});
