// Status pages through the API: managed under /v1/status-pages by a tenant's tokens, public at
// /status/{slug} without one: HTML, JSON and Atom, cached with ETags, rate-limited per address, a
// custom domain at `/`. Bad input, other tenants and unknown slugs are refused with their codes.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startTestBeacon, type TestBeacon } from './helpers/server.ts';
import { seedHistory } from './helpers/status-pages.ts';

let beacon: TestBeacon;
let betaToken: string;

const DAY = 86_400_000;

async function call<T>(path: string, init: Parameters<TestBeacon['request']>[1] = {}, expect = 200) {
  const response = await beacon.request(path, init);
  const text = await response.text();
  assert.equal(response.status, expect, `${init.method ?? 'GET'} ${path}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** GET with a Host header of our choosing (fetch sets its own). */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

const errorCode = async (response: Response) =>
  ((await response.json()) as { error: { code: string } }).error.code;

before(async () => {
  beacon = await startTestBeacon({
    'monitor.enabled': false,
    'monitor.statusPages.rateLimitPerMinute': 0,
    'monitor.statusPages.maxTargets': 5,
  });
  betaToken = (
    await call<{ adminToken: string }>(
      '/v1/tenants',
      { method: 'POST', json: { id: 'beta', name: 'Beta' } },
      201,
    )
  ).adminToken;
  for (const [id, tags] of [
    ['shop', ['web']],
    ['api', ['web']],
    ['db', ['internal']],
  ] as const)
    await call(
      '/v1/targets',
      {
        method: 'POST',
        json: { id, name: `The ${id}`, url: `https://${id}.internal.example/health`, tags, paused: false },
      },
      201,
    );
  await seedHistory(beacon.store, {
    tenant: 'default',
    targets: ['shop', 'api', 'db'],
    days: 90,
    down: ['api'],
    downOf: (target, ago) => (target === 'shop' && ago === 3 ? 144 : 0),
  });
});
after(() => beacon?.destroy());

const spec = {
  slug: 'acme',
  title: 'Acme status',
  description: 'How Acme runs',
  groups: [
    { name: 'Web', tag: 'web' },
    { name: 'Data', targets: ['db'] },
  ],
};

test('a page is created, listed, read, replaced and deleted; the public page shows states, 90 bars and updates', async () => {
  const created = await call<{ id: string; url: string; theme: string; showTargetUrls: boolean }>(
    '/v1/status-pages',
    { method: 'POST', json: { id: 'main', ...spec } },
    201,
  );
  assert.equal(created.url, '/status/acme');
  assert.equal(created.theme, 'light');
  assert.equal(created.showTargetUrls, false);
  const list = await call<{ items: { id: string }[] }>('/v1/status-pages');
  assert.deepEqual(
    list.items.map((p) => p.id),
    ['main'],
  );
  await call(
    '/v1/status-pages/main/updates',
    {
      method: 'POST',
      json: {
        id: 'u1',
        title: 'API errors',
        body: 'We see **503s** <script>alert(1)</script> [details](javascript:alert(1))',
        status: 'investigating',
      },
    },
    201,
  );

  const html = await fetch(`${beacon.url}/status/acme`);
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type')!, /text\/html/);
  assert.match(html.headers.get('cache-control')!, /public, max-age=30/);
  assert.equal(html.headers.get('content-encoding'), 'gzip', 'sent gzipped to a client that takes it');
  const text = await html.text();
  assert.match(text, /Acme status/);
  assert.match(text, /Some systems are down/);
  assert.match(text, /The shop[\s\S]*Operational/);
  assert.match(text, /The api[\s\S]*Outage/);
  assert.equal(text.match(/<li class="d-/g)?.length, 3 * 90, '90 bars per target');
  assert.match(text, /title="[^"]*: 90% up \(1440 checks\)/, 'the day with failures tells its uptime');
  assert.match(text, /<strong>503s<\/strong>/);
  assert.ok(!text.includes('<script>alert'), 'raw HTML is escaped');
  assert.ok(!text.includes('href="javascript'), 'unsafe links are dropped');
  assert.ok(!text.includes('internal.example'), 'target URLs stay private by default');

  const json = await call<{
    state: string;
    groups: {
      name: string;
      state: string;
      targets: { name: string; address: string | null; days: unknown[] }[];
    }[];
    incidents: { name: string }[];
    updates: { title: string; html: string }[];
  }>('/status/acme.json', { token: null });
  assert.equal(json.state, 'down');
  assert.deepEqual(
    json.groups.map((g) => [g.name, g.state, g.targets.map((t) => t.name)]),
    [
      ['Web', 'down', ['The api', 'The shop']],
      ['Data', 'up', ['The db']],
    ],
  );
  assert.equal(json.groups[0]!.targets[0]!.days.length, 90);
  assert.equal(json.groups[0]!.targets[0]!.address, null);
  assert.deepEqual(
    json.incidents.map((i) => i.name),
    ['The api'],
  );
  assert.equal(json.updates[0]!.title, 'API errors');

  const feed = await fetch(`${beacon.url}/status/acme/feed.atom`);
  assert.match(feed.headers.get('content-type')!, /application\/atom\+xml/);
  const atom = await feed.text();
  assert.match(atom, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
  assert.match(atom, /\[investigating\] API errors/);
  assert.match(atom, /The api: down \(status\)/);

  // Replaced whole (PUT): URLs shown, dark, response times.
  const replaced = await call<{ theme: string; domain?: string }>(
    '/v1/status-pages/main',
    {
      method: 'PUT',
      json: {
        ...spec,
        theme: 'dark',
        showTargetUrls: true,
        showResponseTimes: true,
        domain: 'status.acme.test',
      },
    },
    200,
  );
  assert.equal(replaced.theme, 'dark');
  const shown = await (await fetch(`${beacon.url}/status/acme`)).text();
  assert.match(shown, /<body class="dark">/, 'a write shows at once on this process');
  assert.match(shown, /https:\/\/shop\.internal\.example\/health/);
  assert.match(shown, /40 ms average today/);

  // The custom domain serves the page at `/`; other hosts still get the dashboard's redirect.
  const custom = await getWithHost(`${beacon.url}/`, 'status.acme.test');
  assert.equal(custom.status, 200);
  assert.match(custom.body, /Acme status/);
  assert.equal(
    (await getWithHost(`${beacon.url}/`, 'STATUS.acme.test:8080')).status,
    200,
    'any case, any port',
  );
  const plain = await fetch(`${beacon.url}/`, { redirect: 'manual' });
  assert.equal(plain.status, 302);

  // Updates: list, edit, delete.
  const edited = await call<{ status: string; title: string }>(
    '/v1/status-pages/main/updates/u1',
    { method: 'PUT', json: { title: 'API fixed', body: 'Rolled back.', status: 'resolved' } },
    200,
  );
  assert.equal(edited.status, 'resolved');
  await call(
    '/v1/status-pages/main/updates',
    { method: 'POST', json: { title: 'Later', status: 'monitoring' } },
    201,
  );
  const updates = await call<{ items: { title: string }[]; next: string | null }>(
    '/v1/status-pages/main/updates?limit=1',
  );
  assert.equal(updates.items.length, 1);
  assert.ok(updates.next);
  const rest = await call<{ items: { title: string }[] }>(
    `/v1/status-pages/main/updates?limit=5&after=${updates.next}`,
  );
  assert.equal(rest.items.length, 1);
  await call('/v1/status-pages/main/updates/u1', { method: 'DELETE' }, 204);
  await call('/v1/status-pages/main/updates/u1', { method: 'DELETE' }, 404);

  await call('/v1/status-pages/main', { method: 'DELETE' }, 204);
  const gone = await fetch(`${beacon.url}/status/acme`);
  assert.equal(gone.status, 404);
  assert.equal(await errorCode(gone), 'STATUS_PAGE_NOT_FOUND');
});

test('wrong types are 400 with a code, never coerced; bad groups and too many targets are refused', async () => {
  for (const body of [
    { ...spec, slug: 'types', title: 42 },
    { ...spec, slug: 'types', showResponseTimes: 'true' },
    { ...spec, slug: 'Not A Slug' },
    { ...spec, slug: 'types', theme: 'blue' },
    { ...spec, slug: 'types', groups: [{ name: 'x', targets: 'db' }] },
    { ...spec, slug: 'types', extra: 1 },
  ]) {
    const response = await beacon.request('/v1/status-pages', { method: 'POST', json: body });
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(await errorCode(response), 'VALIDATION_FAILED');
  }
  const both = await beacon.request('/v1/status-pages', {
    method: 'POST',
    json: { ...spec, slug: 'both', groups: [{ name: 'x', targets: ['db'], tag: 'web' }] },
  });
  assert.equal(both.status, 400);
  assert.equal(await errorCode(both), 'STATUS_PAGE_INVALID');

  // maxTargets is 5 here: six listed ids, or four listed and a tag of two more, are too many.
  for (const groups of [
    [{ name: 'x', targets: ['a', 'b', 'c', 'd', 'e', 'f'] }],
    [
      { name: 'x', targets: ['a', 'b', 'c', 'd'] },
      { name: 'y', tag: 'web' },
    ],
  ]) {
    const response = await beacon.request('/v1/status-pages', {
      method: 'POST',
      json: { ...spec, slug: 'many', groups },
    });
    assert.equal(response.status, 400);
    assert.equal(await errorCode(response), 'STATUS_PAGE_TOO_MANY_TARGETS');
    assert.match((await beacon.request('/v1/status-pages/many')).status.toString(), /404/);
  }
  const update = await beacon.request('/v1/status-pages/nope/updates', {
    method: 'POST',
    json: { title: 'x', status: 'fine' },
  });
  assert.equal(update.status, 400);
  assert.equal(await errorCode(update), 'VALIDATION_FAILED');
});

test('a slug and a domain are the instance’s: taken ones are 409, whichever tenant holds them', async () => {
  await call(
    '/v1/status-pages',
    { method: 'POST', json: { ...spec, slug: 'taken', domain: 'status.taken.test' } },
    201,
  );
  const sameSlug = await beacon.request('/v1/status-pages', {
    method: 'POST',
    token: betaToken,
    json: { ...spec, slug: 'taken', groups: [] },
  });
  assert.equal(sameSlug.status, 409);
  assert.equal(await errorCode(sameSlug), 'STATUS_PAGE_TAKEN');
  const sameDomain = await beacon.request('/v1/status-pages', {
    method: 'POST',
    token: betaToken,
    json: { ...spec, slug: 'beta', domain: 'status.taken.test', groups: [] },
  });
  assert.equal(sameDomain.status, 409);
  assert.equal(await errorCode(sameDomain), 'STATUS_PAGE_TAKEN');
});

test('another tenant can neither see nor change a page, and its own page never shows the first’s targets', async () => {
  const a = await call<{ id: string }>(
    '/v1/status-pages',
    { method: 'POST', json: { ...spec, slug: 'alpha' } },
    201,
  );
  await call(
    `/v1/status-pages/${a.id}/updates`,
    { method: 'POST', json: { id: 'u', title: 'Alpha', status: 'identified' } },
    201,
  );
  for (const [method, path, json] of [
    ['GET', `/v1/status-pages/${a.id}`],
    ['PUT', `/v1/status-pages/${a.id}`, { ...spec, slug: 'alpha', title: 'stolen' }],
    ['DELETE', `/v1/status-pages/${a.id}`],
    ['GET', `/v1/status-pages/${a.id}/updates`],
    ['POST', `/v1/status-pages/${a.id}/updates`, { title: 'x', status: 'resolved' }],
    ['PUT', `/v1/status-pages/${a.id}/updates/u`, { title: 'x', status: 'resolved' }],
    ['DELETE', `/v1/status-pages/${a.id}/updates/u`],
  ] as const) {
    const response = await beacon.request(path, { method, token: betaToken, json });
    assert.equal(response.status, 404, `${method} ${path}`);
  }
  assert.deepEqual((await call<{ items: unknown[] }>('/v1/status-pages', { token: betaToken })).items, []);
  // B's page naming A's targets and tag shows nothing of A's.
  await call(
    '/v1/status-pages',
    { method: 'POST', token: betaToken, json: { ...spec, slug: 'beta-page' } },
    201,
  );
  const beta = await call<{ groups: { targets: unknown[] }[] }>('/status/beta-page.json', { token: null });
  assert.deepEqual(
    beta.groups.map((g) => g.targets.length),
    [0, 0],
  );
  // A disabled tenant's pages go dark.
  await call('/v1/tenants/beta/disable', { method: 'POST' }, 200);
  const dark = await fetch(`${beacon.url}/status/beta-page/feed.atom`);
  assert.equal(dark.status, 404);
  assert.equal(await errorCode(dark), 'STATUS_PAGE_NOT_FOUND');
  await call('/v1/tenants/beta/enable', { method: 'POST' }, 200);
  const alpha = await call<{ title: string; updates: unknown[] }>('/status/alpha.json', { token: null });
  assert.equal(alpha.title, 'Acme status');
  assert.equal(alpha.updates.length, 1);
});

test('unknown slugs are 404 with a code; an ETag gives 304; the cap is said on the page', async () => {
  for (const path of [
    '/status/no-such-page',
    '/status/no-such-page.json',
    '/status/no-such-page/feed.atom',
    '/status/NOT..valid',
  ]) {
    const response = await fetch(beacon.url + path);
    assert.equal(response.status, 404, path);
    assert.equal(await errorCode(response), 'STATUS_PAGE_NOT_FOUND', path);
  }
  await call('/v1/status-pages', { method: 'POST', json: { ...spec, slug: 'etag' } }, 201);
  for (const path of ['/status/etag', '/status/etag.json', '/status/etag/feed.atom']) {
    const first = await fetch(beacon.url + path);
    const etag = first.headers.get('etag');
    assert.ok(etag, path);
    const again = await fetch(beacon.url + path, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304, path);
    assert.equal(await again.text(), '');
    const stale = await fetch(beacon.url + path, { headers: { 'if-none-match': '"old"' } });
    assert.equal(stale.status, 200, path);
    if (path.endsWith('.json')) assert.equal(stale.headers.get('access-control-allow-origin'), '*');
  }

  // Tags grow after the page was saved: the page shows the cap's worth and says how many are left.
  for (const id of ['w1', 'w2', 'w3', 'w4'])
    await call(
      '/v1/targets',
      { method: 'POST', json: { id, url: `https://${id}.example/`, tags: ['grow'] } },
      201,
    );
  await call(
    '/v1/status-pages',
    { method: 'POST', json: { ...spec, slug: 'grow', groups: [{ name: 'All', tag: 'grow' }] } },
    201,
  );
  for (const id of ['w5', 'w6', 'w7'])
    await call(
      '/v1/targets',
      { method: 'POST', json: { id, url: `https://${id}.example/`, tags: ['grow'] } },
      201,
    );
  const grown = await call<{ omitted: number; groups: { targets: unknown[] }[] }>('/status/grow.json', {
    token: null,
  });
  assert.equal(grown.groups[0]!.targets.length, 5);
  assert.equal(grown.omitted, 2);
  assert.match(await (await fetch(`${beacon.url}/status/grow`)).text(), /2 more targets not shown/);
});

test('public pages are rate-limited per client address: 429 with Retry-After and a code', async () => {
  const limited = await startTestBeacon({
    'monitor.enabled': false,
    'monitor.statusPages.rateLimitPerMinute': 3,
  });
  try {
    const created = await limited.request('/v1/status-pages', {
      method: 'POST',
      json: { ...spec, groups: [] },
    });
    assert.equal(created.status, 201);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${limited.url}/status/acme${i % 2 === 0 ? '' : '.json'}`);
      statuses.push(last.status);
      if (last.status === 429) break;
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.ok(Number(last!.headers.get('retry-after')) >= 1);
    assert.equal(await errorCode(last!), 'STATUS_PAGE_RATE_LIMITED');
    // The management API is not counted against it.
    assert.equal((await limited.request('/v1/status-pages')).status, 200);
  } finally {
    await limited.destroy();
  }
});

test('a day bar’s title tells the incidents that touched it', async () => {
  await call('/v1/status-pages', { method: 'POST', json: { ...spec, slug: 'bars' } }, 201);
  const text = await (await fetch(`${beacon.url}/status/bars`)).text();
  const today = new Date(Date.now() - (Date.now() % DAY)).toISOString().slice(0, 10);
  assert.match(text, new RegExp(`title="${today}: [^"]*1 incident:\\nstatus in eu from [^"]*ongoing"`));

  // A maintenance window in force over the db: the db reads maintenance and the page names the window.
  await call(
    '/v1/maintenance-windows',
    {
      method: 'POST',
      json: {
        title: 'Database upgrade',
        targets: ['db'],
        start: new Date(Date.now() - 3_600_000).toISOString(),
        end: new Date(Date.now() + 3_600_000).toISOString(),
      },
    },
    201,
  );
  await call('/v1/status-pages', { method: 'POST', json: { ...spec, slug: 'maintained' } }, 201);
  const json = await call<{
    groups: { name: string; state: string }[];
    maintenance: { title: string; active: boolean }[];
  }>('/status/maintained.json', { token: null });
  assert.deepEqual(
    json.groups.map((g) => [g.name, g.state]),
    [
      ['Web', 'down'],
      ['Data', 'maintenance'],
    ],
  );
  assert.deepEqual(json.maintenance, [{ ...json.maintenance[0], title: 'Database upgrade', active: true }]);
  assert.match(
    await (await fetch(`${beacon.url}/status/maintained`)).text(),
    /Database upgrade<\/strong>: in progress/,
  );
});
