import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createToken } from '../src/tenants/tokens.ts';
import { CHROME_UA, createSite, query, settledZone } from './helpers/analytics.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

let beacon: TestBeacon;
before(async () => {
  beacon = await startTestBeacon({ 'analytics.addressPerSecond': 0 });
});
after(async () => {
  await beacon?.destroy();
});

/** Posts to /v1/collect the way the agent does: text/plain JSON, no token. */
function collect(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(beacon.url + '/v1/collect', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const pageview = (url: string, extra: Record<string, unknown> = {}) => ({ n: 'pageview', u: url, ...extra });

async function totals(site: string, token?: string): Promise<number[]> {
  const r = await query(
    beacon,
    site,
    { metrics: ['visitors', 'visits', 'pageviews', 'events'], dateRange: 'day' },
    token,
  );
  // Before the sink has projected anything, a totals query has no row yet.
  return r.body.results[0]?.metrics ?? [0, 0, 0, 0];
}

describe('collection', () => {
  test('bad input gets a clear code and collection goes on', async () => {
    const site = await createSite(beacon, { domain: 'shop.example', timezone: settledZone() });
    const cases: [unknown, number, string][] = [
      ['{not json', 400, 'BAD_JSON'],
      [{ e: [pageview('https://shop.example/')] }, 400, 'COLLECT_INVALID'],
      [{ s: site, e: [] }, 400, 'COLLECT_INVALID'],
      [{ s: site, e: [{ n: 'pageview', u: 'javascript:alert(1)' }] }, 400, 'COLLECT_INVALID'],
      [{ s: site, e: [pageview('https://shop.example/', { p: { 'bad key!': 1 } })] }, 400, 'COLLECT_INVALID'],
      [{ s: 'st_nope', e: [pageview('https://shop.example/')] }, 404, 'SITE_UNKNOWN'],
      [{ s: site, e: [pageview('https://evil.example/')] }, 403, 'SITE_DOMAIN_DENIED'],
      [
        { s: site, e: Array.from({ length: 51 }, () => pageview('https://shop.example/')) },
        400,
        'COLLECT_INVALID',
      ],
      ['x'.repeat(20_000), 413, 'BODY_TOO_LARGE'],
    ];
    for (const [body, status, code] of cases) {
      const res = await collect(body);
      assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 80)} → ${status}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code);
    }
    const wrongOrigin = await collect(
      { s: site, e: [pageview('https://shop.example/')] },
      { origin: 'https://evil.example' },
    );
    assert.equal(wrongOrigin.status, 403);
    const ok = await collect(
      { s: site, e: [pageview('https://www.shop.example/a')] },
      { origin: 'https://shop.example' },
    );
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { accepted: 1, ignored: 0 });
    await eventually(async () => ((await totals(site))[2] === 1 ? true : undefined), 60_000, 'the page view');
  });

  test('bots and, when the site asks, DNT/GPC browsers are answered 202 and not counted', async () => {
    const site = await createSite(beacon, {
      domain: 'dnt.example',
      respectDnt: true,
      timezone: settledZone(),
    });
    const event = { s: site, e: [pageview('https://dnt.example/')] };
    assert.deepEqual(
      await (
        await collect(event, { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' })
      ).json(),
      {
        accepted: 0,
        ignored: 1,
      },
    );
    assert.deepEqual(await (await collect(event, { dnt: '1' })).json(), { accepted: 0, ignored: 1 });
    assert.deepEqual(await (await collect(event, { 'sec-gpc': '1' })).json(), { accepted: 0, ignored: 1 });
    assert.deepEqual(await (await collect(event)).json(), { accepted: 1, ignored: 0 });
    await eventually(async () => ((await totals(site))[2] === 1 ? true : undefined), 60_000, 'one page view');
  });

  test('a resent event (same id) is counted once; sessions split after 30 minutes', async () => {
    // A zone and a salt under which the 40-minute-old view is today's and the same visitor's.
    const site = await createSite(beacon, {
      domain: 'once.example',
      timezone: settledZone(),
      saltRotation: 'monthly',
    });
    const event = { s: site, e: [pageview('https://once.example/', { i: 'evt-00000001' })] };
    assert.equal((await collect(event)).status, 202);
    assert.equal((await collect(event)).status, 202);
    // Two page views 40 minutes apart (by age) from one visitor: two visits.
    await collect({
      s: site,
      e: [pageview('https://once.example/old', { a: 40 * 60_000 }), pageview('https://once.example/new')],
    });
    const [visitors, visits, pageviews] = await eventually(
      async () => {
        const t = await totals(site);
        return t[2] === 3 ? t : undefined;
      },
      60_000,
      'three page views',
    );
    assert.equal(pageviews, 3);
    assert.equal(visitors, 1);
    assert.equal(visits, 2);
  });

  test('per-site rate limit answers 429 with Retry-After', async () => {
    const limited = await startTestBeacon({ 'analytics.siteBurst': 2, 'analytics.sitePerSecond': 0.01 });
    try {
      const site = await createSite(limited, { domain: 'busy.example' });
      const send = () =>
        fetch(limited.url + '/v1/collect', {
          method: 'POST',
          headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA },
          body: JSON.stringify({ s: site, e: [pageview('https://busy.example/')] }),
        });
      assert.equal((await send()).status, 202);
      assert.equal((await send()).status, 202);
      const third = await send();
      assert.equal(third.status, 429);
      assert.ok(Number(third.headers.get('retry-after')) >= 1);
    } finally {
      await limited.destroy();
    }
  });
});

describe('stats API', () => {
  test('closed periods are cacheable for an hour, open ones are not; bad queries say why', async () => {
    const site = await createSite(beacon, { domain: 'cache.example', timezone: 'America/New_York' });
    const open = await query(beacon, site, { metrics: ['visitors'], dateRange: '7d' });
    assert.equal(open.status, 200);
    assert.equal(open.headers.get('cache-control'), 'no-store');
    const closed = await query(beacon, site, {
      metrics: ['visitors'],
      dateRange: ['2020-01-01', '2020-01-31'],
      interval: 'week',
    });
    assert.equal(closed.status, 200);
    assert.equal(closed.headers.get('cache-control'), 'public, max-age=3600');
    assert.equal(closed.body.results[0]!.dimensions[0], '2019-12-30', 'weeks start on Monday');
    for (const bad of [
      { metrics: ['nope'], dateRange: 'day' },
      { metrics: ['visitors'], dateRange: 'yesterday-ish' },
      { metrics: ['visitors'], dimensions: ['visit:nope'], dateRange: 'day' },
      { metrics: ['conversion_rate'], dateRange: 'day' },
      { metrics: ['visitors'], dateRange: 'day', filters: [['like', 'event:page', ['/']]] },
    ]) {
      const r = await query(beacon, site, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.error?.code, 'QUERY_INVALID');
    }
  });

  test('filters, intervals and breakdowns in the site time zone', async () => {
    const site = await createSite(beacon, { domain: 'tz.example', timezone: 'Asia/Kolkata' });
    await collect({
      s: site,
      e: [
        pageview('https://tz.example/?utm_source=news&utm_campaign=launch', {
          r: 'https://www.google.com/search?q=x',
        }),
        pageview('https://tz.example/docs'),
        { n: 'signup', u: 'https://tz.example/docs', p: { plan: 'pro' } },
      ],
    });
    await collect(
      { s: site, e: [pageview('https://tz.example/docs')] },
      { 'user-agent': CHROME_UA.replace('X11; Linux x86_64', 'Windows NT 10.0; Win64; x64') },
    );
    await eventually(async () => ((await totals(site))[2] === 3 ? true : undefined), 60_000, 'page views');
    const sources = await query(beacon, site, {
      metrics: ['visitors', 'visits', 'bounce_rate'],
      dimensions: ['visit:utm_source'],
      dateRange: 'day',
    });
    assert.deepEqual(sources.body.results, [{ dimensions: ['news'], metrics: [1, 1, 0] }]);
    const filtered = await query(beacon, site, {
      metrics: ['visitors', 'pageviews'],
      dimensions: ['visit:os'],
      filters: [['is', 'event:page', ['/docs']]],
      dateRange: 'day',
    });
    assert.equal(filtered.body.meta.source, 'events');
    assert.deepEqual(filtered.body.results, [
      { dimensions: ['Linux'], metrics: [1, 1] },
      { dimensions: ['Windows'], metrics: [1, 1] },
    ]);
    const goal = await query(beacon, site, {
      metrics: ['visitors', 'conversion_rate'],
      filters: [['is', 'event:name', ['signup']]],
      dateRange: 'day',
    });
    assert.deepEqual(goal.body.results[0]!.metrics, [1, 50]);
    const hours = await query(beacon, site, { metrics: ['pageviews'], dateRange: 'day', interval: 'hour' });
    assert.equal(hours.body.results.length, 24);
    assert.equal(
      hours.body.results.reduce((n, r) => n + r.metrics[0]!, 0),
      3,
    );
    const minutes = await query(beacon, site, {
      metrics: ['pageviews'],
      dateRange: 'realtime',
      interval: 'minute',
    });
    assert.equal(
      minutes.body.results.reduce((n, r) => n + r.metrics[0]!, 0),
      3,
    );
  });
});

describe('tenant isolation and OAuth2 client credentials', () => {
  test('every stats route refuses another tenant’s site, with tenant tokens and OAuth tokens alike', async () => {
    await beacon.store.tenants.ensure({ id: 'acme', name: 'Acme', createdAt: Date.now() });
    const { secret: acmeAdmin } = await createToken(beacon.store.tenants, {
      tenant: 'acme',
      name: 't',
      scopes: ['admin'],
    });
    const { secret: acmeRead } = await createToken(beacon.store.tenants, {
      tenant: 'acme',
      name: 't',
      scopes: ['read'],
    });
    const mine = await createSite(beacon, { domain: 'mine.example' });
    const theirs = await createSite(beacon, { domain: 'theirs.example' }, acmeAdmin);
    await collect({ s: theirs, e: [pageview('https://theirs.example/')] });
    await eventually(
      async () => ((await totals(theirs, acmeRead))[2] === 1 ? true : undefined),
      60_000,
      'acme page view',
    );

    const client = await beacon.request('/v1/oauth/clients', {
      method: 'POST',
      json: { name: 'reporting' },
      token: acmeAdmin,
    });
    assert.equal(client.status, 201);
    const { clientId, clientSecret } = (await client.json()) as { clientId: string; clientSecret: string };
    const tokenRes = await fetch(beacon.url + '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
      }),
    });
    assert.equal(tokenRes.status, 200);
    const issued = (await tokenRes.json()) as {
      access_token: string;
      token_type: string;
      expires_in: number;
    };
    assert.equal(issued.token_type, 'Bearer');
    assert.equal(issued.expires_in, 900);
    const jwt = issued.access_token;

    for (const token of [acmeRead, jwt]) {
      // Its own site: readable.
      assert.deepEqual(await totals(theirs, token), [1, 1, 1, 0]);
      const list = (await (await beacon.request('/v1/sites', { token })).json()) as {
        items: { id: string }[];
      };
      assert.deepEqual(
        list.items.map((s) => s.id),
        [theirs],
      );
      // The default tenant's site: as unknown as a site that does not exist, on every route.
      assert.equal((await beacon.request(`/v1/sites/${mine}`, { token })).status, 404);
      const q = await query(beacon, mine, { metrics: ['visitors'], dateRange: 'day' }, token);
      assert.equal(q.status, 404);
      assert.equal(q.body.error?.code, 'SITE_UNKNOWN');
    }
    // And the other way round.
    assert.equal((await beacon.request(`/v1/sites/${theirs}`)).status, 404);
    assert.equal((await query(beacon, theirs, { metrics: ['visitors'], dateRange: 'day' })).status, 404);

    // OAuth tokens read, never write; bad credentials and forged tokens are refused.
    assert.equal(
      (await beacon.request('/v1/sites', { method: 'POST', json: { domain: 'x.example' }, token: jwt }))
        .status,
      401,
    );
    const wrong = await fetch(beacon.url + '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: 'bcs_wrong',
      }),
    });
    assert.equal(wrong.status, 401);
    const grant = await fetch(beacon.url + '/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password' }),
    });
    assert.equal(grant.status, 400);
    const [h, p] = jwt.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), tenant: 'default' }),
    ).toString('base64url');
    const forged = `${h}.${forgedPayload}.${jwt.split('.')[2]}`;
    assert.equal(
      (await query(beacon, mine, { metrics: ['visitors'], dateRange: 'day' }, forged)).status,
      401,
    );
  });
});
