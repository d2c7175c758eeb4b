// Tenant B's admin token, sent to every route of the OpenAPI document against tenant A's objects,
// finds nothing of A's: reads answer 404 (never a hint that the object exists), lists hold none of
// A's items, writes and deletes change nothing of A's, and creating objects with A's ids makes B's
// own. The WebSocket, the stats query and OAuth2 access tokens are tried too. A route this suite does
// not know fails it: a new route must say here how it is tried.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { CHROME_UA } from './helpers/analytics.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

/** Every text A's objects carry, so B's answers can be searched for any of them. */
const MARK = 'alpha-secret';

let beacon: TestBeacon;
let bToken: string;
/** A's ids by the path segment that addresses them. */
const a: Record<string, string> = {
  targets: 'web',
  spaces: 'hall',
  doorways: 'main',
  sensors: 'door',
  tenants: 'default',
  channels: 'ops-hook',
  'alert-rules': 'page-ops',
  'maintenance-windows': 'sundays',
  'status-pages': 'alpha-status',
};

/** Calls as A (the default tenant's admin), failing unless the status is `expect`. */
async function asA<T>(method: string, path: string, json?: unknown, expect = 201): Promise<T> {
  const response = await beacon.request(path, { method, json });
  const text = await response.text();
  assert.equal(response.status, expect, `${method} ${path}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

before(async () => {
  beacon = await startTestBeacon();
  const created = await asA<{ adminToken: string }>('POST', '/v1/tenants', { id: 'beta', name: 'Beta' });
  bToken = created.adminToken;
  await asA('POST', '/v1/targets', {
    id: a.targets,
    name: `${MARK} web`,
    url: 'http://127.0.0.1:9/',
    intervalSeconds: 60,
  });
  await asA('POST', '/v1/channels', {
    id: a.channels,
    name: `${MARK} hook`,
    url: 'json://127.0.0.1:9/alpha-hook',
  });
  await asA('POST', '/v1/alert-rules', {
    id: a['alert-rules'],
    name: `${MARK} rule`,
    targets: [a.targets],
    tags: [],
    channels: [a.channels],
  });
  await asA('POST', '/v1/maintenance-windows', {
    id: a['maintenance-windows'],
    title: `${MARK} window`,
    targets: [a.targets],
    tags: [],
    start: '2020-01-05T02:00',
    rrule: 'FREQ=WEEKLY;BYDAY=SU',
    durationMinutes: 60,
    timeZone: 'UTC',
  });
  await asA('POST', '/v1/status-pages', {
    id: a['status-pages'],
    slug: 'alpha-status',
    title: `${MARK} status`,
    groups: [{ name: 'Web', targets: [a.targets] }],
  });
  await asA('POST', `/v1/status-pages/${a['status-pages']}/updates`, {
    id: 'any',
    title: `${MARK} update`,
    status: 'investigating',
  });
  await asA('POST', '/v1/spaces', { id: a.spaces, name: `${MARK} hall` });
  await asA('POST', '/v1/doorways', { id: a.doorways, name: `${MARK} door`, a: a.spaces, b: null });
  await asA('POST', '/v1/sensors', { id: a.sensors, name: `${MARK} sensor` });
  a.placements = (
    await asA<{ id: string }>('POST', '/v1/placements', {
      sensor: a.sensors,
      doorway: a.doorways,
      positive: 'a',
      from: '2020-01-01T00:00:00.000Z',
    })
  ).id;
  a.sites = (await asA<{ id: string }>('POST', '/v1/sites', { domain: 'alpha-secret.example' })).id;
  const client = await asA<{ clientId: string; clientSecret: string }>('POST', '/v1/oauth/clients', {
    name: `${MARK} client`,
  });
  a['oauth/clients'] = client.clientId;
  a.oauthSecret = client.clientSecret;
  await asA('POST', '/v1/messages', { note: MARK }, 202);
  await asA(
    'POST',
    '/v1/sensor-events',
    [{ sensor: a.sensors, direction: 1, id: `${MARK}-1`, ts: new Date().toISOString() }],
    202,
  );
  const collected = await fetch(`${beacon.url}/v1/collect`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA },
    body: JSON.stringify({
      s: a.sites,
      e: [{ n: 'pageview', u: 'https://alpha-secret.example/alpha-secret' }],
    }),
  });
  assert.equal(collected.status, 202);
  await beacon.store.transaction((tx) =>
    tx.saveDeadLetter({
      group: 'sink-messages',
      stream: 'messages',
      partition: 0,
      offset: 1,
      tenant: 'default',
      id: 'dead-1',
      key: 'dead-1',
      error: MARK,
      record: `{"v":1,"note":"${MARK}"}`,
      failedAt: Date.now(),
    }),
  );
  const letters = await asA<{ items: { id: string }[] }>('GET', '/v1/dead-letters', undefined, 200);
  a['dead-letters'] = letters.items[0]!.id;
  // Wait until A's records are stored, so a leak would have something to show.
  await eventually(async () => {
    const counts = await asA<{ items: unknown[] }>('GET', '/v1/counts?limit=10', undefined, 200);
    const messages = await asA<{ items: unknown[] }>('GET', '/v1/messages?limit=10', undefined, 200);
    return counts.items.length > 0 && messages.items.length > 0 ? true : undefined;
  });
});
after(async () => {
  await beacon?.destroy();
});

/** Values for query parameters a route requires; ids name A's objects, to try to reach them. */
const QUERY: Record<string, string> = {
  from: '2020-01-01T00:00:00.000Z',
  to: '2030-01-01T00:00:00.000Z',
  at: new Date().toISOString(),
  interval: '24h',
  bucket: 'day',
  limit: '100',
  sensor: 'door',
  stream: 'messages',
};

/** Bodies for the routes that take one: schema-valid, naming A's objects wherever they can. */
function bodyFor(method: string, path: string): unknown {
  const bodies: Record<string, unknown> = {
    'POST /v1/messages': { from: 'beta' },
    'POST /v1/messages/batch': [{ from: 'beta' }],
    // Creating with A's ids makes B's own objects; referring to A's is refused.
    'POST /v1/spaces': { id: a.spaces, name: 'Beta hall', parent: null },
    'POST /v1/doorways': { id: 'beta-door', name: 'Beta door', a: a.spaces, b: null },
    'POST /v1/sensors': { id: a.sensors, name: 'Beta sensor' },
    'POST /v1/placements': {
      sensor: a.sensors,
      doorway: a.doorways,
      positive: 'a',
      from: '2020-01-01T00:00:00.000Z',
    },
    'POST /v1/sensor-events': [{ sensor: a.sensors, direction: 1, ts: new Date().toISOString() }],
    'POST /v1/sites': { domain: 'beta.example' },
    'POST /v1/oauth/clients': { name: 'beta client' },
    'POST /v1/targets': { id: a.targets, url: 'http://127.0.0.1:9/', intervalSeconds: 60 },
    'POST /v1/channels': { id: a.channels, name: 'Beta hook', url: 'json://127.0.0.1:9/beta-hook' },
    'PATCH /v1/channels/{id}': { name: 'taken by beta', url: 'json://127.0.0.1:9/beta-hook' },
    // Naming A's target and channel: a channel B lacks is refused; A's target is only a name to B.
    'POST /v1/alert-rules': {
      id: a['alert-rules'],
      targets: [a.targets],
      tags: [],
      channels: [a.channels],
    },
    'PATCH /v1/alert-rules/{id}': { name: 'taken by beta', targets: [a.targets], tags: [], channels: [] },
    'POST /v1/maintenance-windows': {
      id: a['maintenance-windows'],
      title: 'Beta window',
      targets: [a.targets],
      tags: [],
      start: '2020-01-05T02:00',
      end: '2020-01-05T03:00',
      timeZone: 'UTC',
    },
    'PATCH /v1/maintenance-windows/{id}': {
      title: 'taken by beta',
      targets: [],
      tags: [],
      start: '2020-01-05T02:00',
      end: '2020-01-05T03:00',
      timeZone: 'UTC',
    },
    // B's own page, naming A's target (only a name to B); A's slug is public and stays A's.
    'POST /v1/status-pages': {
      id: a['status-pages'],
      slug: 'beta-status',
      title: 'Beta status',
      groups: [{ name: 'Web', targets: [a.targets] }],
    },
    'PUT /v1/status-pages/{id}': { slug: 'beta-status-2', title: 'taken by beta', groups: [] },
    'POST /v1/status-pages/{id}/updates': { title: 'by beta', status: 'resolved' },
    'PUT /v1/status-pages/{id}/updates/{update}': { title: 'by beta', status: 'resolved' },
    'PATCH /v1/spaces/{id}': { name: 'taken by beta' },
    'PATCH /v1/doorways/{id}': { name: 'taken by beta' },
    'PATCH /v1/sensors/{id}': { name: 'taken by beta' },
    'PATCH /v1/placements/{id}': { to: '2021-01-01T00:00:00.000Z' },
    'PATCH /v1/sites/{id}': { domain: 'taken-by-beta.example' },
    'PATCH /v1/targets/{id}': { name: 'taken by beta' },
    // A's target by id: not B's, so missing; a push check of A's id judges B's pushes (none).
    'POST /v1/targets/bulk': { action: 'pause', ids: [a.targets] },
    'POST /v1/targets/check': { id: a.targets, kind: 'push' },
    // Sent as JSON by this loop, so refused (415); import reads only YAML of the caller's own tenant.
    'POST /v1/targets/import': 'targets: []',
    'POST /v1/sites/{id}/query': { metrics: ['visitors', 'pageviews'], dateRange: 'day' },
    'POST /v1/tenants': { id: 'gamma', name: 'Gamma' },
    'POST /v1/spaces/{id}/moves': { parent: null, at: '2024-01-01T00:00:00.000Z' },
    'POST /v1/spaces/{id}/corrections': { at: new Date().toISOString(), count: 3, note: 'beta' },
    'POST /v1/sites/bulk': { sites: [{ domain: 'beta-bulk.example' }] },
    'PATCH /v1/sites/bulk': { sites: [{ id: a.sites, domain: 'taken-by-beta.example' }] },
    'POST /v1/sites/{id}/funnel': { steps: [{ page: '/' }, { page: '/alpha-secret' }], dateRange: '30d' },
    'POST /v1/sites/{id}/journeys': { page: '/', dateRange: '30d' },
    'POST /v1/sites/{id}/retention': { period: 'day', dateRange: '30d' },
    'POST /v1/sites/{id}/goals': { name: 'beta goal', page: '/' },
    'PATCH /v1/sites/{id}/goals/{item}': { name: 'taken by beta' },
    'POST /v1/sites/{id}/segments': { name: 'beta segment', filters: [] },
    'PATCH /v1/sites/{id}/segments/{item}': { name: 'taken by beta' },
    'POST /v1/sites/{id}/shared-links': { name: 'beta link' },
    'POST /v1/sites/{id}/reports': { frequency: 'weekly', recipients: ['beta@example.com'] },
    'PATCH /v1/sites/{id}/reports/{report}': { frequency: 'monthly' },
    'POST /v1/sites/{id}/imports': { source: 'plausible', files: {} },
    // The shared dashboard's routes take a link's secret, not a bearer token: B's token opens nothing.
    'POST /v1/shared/unlock': { password: 'not-the-password' },
    'POST /v1/shared/query': { metrics: ['visitors'], dateRange: 'day' },
    'POST /v1/shared/funnel': { steps: [{ page: '/' }, { page: '/x' }], dateRange: 'day' },
    'POST /v1/shared/journeys': { page: '/', dateRange: 'day' },
    'POST /v1/shared/retention': { period: 'day', dateRange: 'day' },
  };
  const key = `${method} ${path}`;
  assert.ok(key in bodies, `tenant-isolation.test.ts does not know how to try ${key}: add a body for it`);
  return bodies[key];
}

/**
 * Routes tried elsewhere in this file, or that need no token (a push's token is its credential; a
 * badge's is the tenant's badge token, and test/badges.test.ts tries another tenant's).
 */
const ELSEWHERE = new Set([
  'GET /badge/{target}/{kind}.svg',
  'GET /v1/stream',
  'POST /v1/collect',
  'POST /oauth/token',
  'GET /v1/push/{token}',
  'POST /v1/push/{token}',
  // Public by design: a status page is for anyone who has its slug (test/status-pages.test.ts).
  'GET /status/{slug}.json',
]);

test('every route, with tenant B’s admin token, finds nothing of tenant A', async () => {
  const doc = (await (await fetch(`${beacon.url}/openapi.json`)).json()) as {
    paths: Record<
      string,
      Record<
        string,
        { parameters?: { name: string; in: string; required?: boolean }[]; requestBody?: unknown }
      >
    >;
  };
  let tried = 0;
  // Routes that address one of A's objects go first: the creates that follow make B objects of its
  // own with A's ids, which B may then address.
  const routes = Object.entries(doc.paths)
    .flatMap(([template, operations]) =>
      Object.entries(operations).map(([lower, op]) => [template, lower, op] as const),
    )
    .sort(([x], [y]) => Number(y.includes('{')) - Number(x.includes('{')));
  {
    for (const [template, lower, operation] of routes) {
      const method = lower.toUpperCase();
      if (!['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].includes(method)) continue;
      if (ELSEWHERE.has(`${method} ${template}`)) continue;
      const resource = /^\/v1\/(.+?)\/\{id\}/.exec(template)?.[1];
      if (template.includes('{')) {
        assert.ok(
          resource && a[resource],
          `tenant-isolation.test.ts does not know A's object for ${template}`,
        );
      }
      // A's object by {id}; a second parameter (a goal, a move's time…) names one that would be A's.
      const path = (resource ? template.replace('{id}', encodeURIComponent(a[resource]!)) : template).replace(
        /\{(\w+)\}/g,
        (_, name: string) => (name === 'at' ? '2024-01-01T00:00:00.000Z' : 'any'),
      );
      const query = new URLSearchParams();
      for (const p of operation.parameters ?? [])
        if (p.in === 'query' && QUERY[p.name]) query.set(p.name, QUERY[p.name]!);
      const body = operation.requestBody ? bodyFor(method, template) : undefined;
      const response = await beacon.request(`${path}${query.size > 0 ? `?${query}` : ''}`, {
        method,
        token: bToken,
        json: body,
      });
      const text = await response.text();
      const what = `${method} ${template} → ${response.status} ${text.slice(0, 200)}`;
      tried += 1;
      assert.ok(!text.includes(MARK), `B saw A's data: ${what}`);
      assert.ok(response.status < 500, what);
      if (resource) {
        // Addressing A's object: as if it did not exist (the operator routes need a scope B lacks).
        assert.ok([404, 403].includes(response.status), what);
        if (response.status === 403) assert.match(text, /SCOPE_DENIED/, what);
      }
    }
  }
  assert.ok(tried >= 45, `${tried} operations tried`);

  // A's objects are all still A's, unchanged.
  for (const [resource, id] of Object.entries(a)) {
    if (['tenants', 'oauthSecret', 'dead-letters'].includes(resource)) continue;
    const response = await beacon.request(
      resource === 'oauth/clients' ? '/v1/oauth/clients' : `/v1/${resource}/${encodeURIComponent(id)}`,
    );
    assert.equal(response.status, 200, `A's ${resource}/${id}`);
    const text = await response.text();
    if (!['placements', 'sites', 'oauth/clients'].includes(resource))
      assert.match(text, new RegExp(MARK), resource);
  }
  assert.equal(
    (await asA<{ items: unknown[] }>('GET', '/v1/dead-letters', undefined, 200)).items.length,
    1,
    'B could not dismiss A’s dead letter',
  );
});

test('the live stream shows B none of A’s records, whatever entity B names', async () => {
  const frames: string[] = [];
  const socket = new WebSocket(
    `${beacon.url.replace('http', 'ws')}/v1/stream?streams=messages,sensor-events,pageviews,checks&entity=${a.sensors}`,
    { headers: { authorization: `Bearer ${bToken}` } },
  );
  const all = new WebSocket(`${beacon.url.replace('http', 'ws')}/v1/stream`, {
    headers: { authorization: `Bearer ${bToken}` },
  });
  socket.on('message', (d: Buffer) => frames.push(d.toString()));
  all.on('message', (d: Buffer) => frames.push(d.toString()));
  await Promise.all([socket, all].map((s) => new Promise((resolve) => s.once('open', resolve))));
  try {
    await asA('POST', '/v1/messages', { note: MARK }, 202);
    await asA(
      'POST',
      '/v1/sensor-events',
      [{ sensor: a.sensors, direction: -1, id: `${MARK}-2`, ts: new Date().toISOString() }],
      202,
    );
    // B's own message, accepted after A's: once it arrives, A's would have arrived before it.
    const own = await beacon.request('/v1/messages', {
      method: 'POST',
      token: bToken,
      json: { mine: 'beta-own' },
    });
    assert.equal(own.status, 202);
    await eventually(() => Promise.resolve(frames.some((f) => f.includes('beta-own')) ? true : undefined));
    assert.ok(!frames.some((f) => f.includes(MARK)), frames.join('\n'));
  } finally {
    socket.close();
    all.close();
  }
});

test('an OAuth2 access token of A’s reads A’s site only; B’s token cannot query A’s site', async () => {
  const token = (await (
    await fetch(`${beacon.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: a['oauth/clients']!,
        client_secret: a.oauthSecret!,
      }),
    })
  ).json()) as { access_token: string };
  const bSite = (await (
    await beacon.request('/v1/sites', {
      method: 'POST',
      token: bToken,
      json: { domain: 'beta-only.example' },
    })
  ).json()) as { id: string };
  const query = { metrics: ['visitors'], dateRange: 'day' };
  const withOauth = await beacon.request(`/v1/sites/${bSite.id}/query`, {
    method: 'POST',
    token: token.access_token,
    json: query,
  });
  assert.equal(withOauth.status, 404, 'A’s OAuth2 token cannot read B’s site');
  assert.equal(
    (
      await beacon.request(`/v1/sites/${a.sites}/query`, {
        method: 'POST',
        token: token.access_token,
        json: query,
      })
    ).status,
    200,
  );
  assert.equal(
    (await beacon.request(`/v1/sites/${a.sites}/query`, { method: 'POST', token: bToken, json: query }))
      .status,
    404,
  );
  // B's admin is no operator: it never sees the tenant list.
  assert.equal((await beacon.request('/v1/tenants', { token: bToken })).status, 403);
});
