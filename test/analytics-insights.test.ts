// Goals, segments, funnels, journeys, retention, shared dashboards, imports and bulk provisioning
// through the HTTP API of a running Beacon: what a client sees, and what another tenant or a shared
// link cannot see. The shared-link isolation runs on SQLite and PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureFiles } from './contract/analytics-insights.contract.ts';
import { CHROME_UA, createSite, query, settledZone } from './helpers/analytics.ts';
import { freshDatabase } from './helpers/postgres.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

const FIREFOX_UA = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** Posts events to /v1/collect as the agent does, from one browser (user agent). */
async function collect(beacon: TestBeacon, site: string, ua: string, events: unknown[]): Promise<void> {
  const res = await fetch(beacon.url + '/v1/collect', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', 'user-agent': ua },
    body: JSON.stringify({ s: site, e: events }),
  });
  assert.equal(res.status, 202, await res.text());
}

/** A page view (or event `n`) of `path` on shop.example, `age` ms ago. */
const e = (path: string, age: number, extra: Record<string, unknown> = {}) => ({
  n: 'pageview',
  u: `https://shop.example${path}`,
  a: age,
  ...extra,
});

async function json<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

/** A second tenant with its own admin token. */
async function otherTenant(beacon: TestBeacon, id: string): Promise<string> {
  const made = await json<{ adminToken: string }>(
    await beacon.request('/v1/tenants', { method: 'POST', json: { id, name: id } }),
    201,
  );
  return made.adminToken;
}

describe('goals, segments, funnels, journeys and retention over the API', () => {
  let beacon: TestBeacon;
  let site: string;
  before(async () => {
    beacon = await startTestBeacon({ 'analytics.addressPerSecond': 0 });
    site = await createSite(beacon, {
      domain: 'shop.example',
      currency: 'EUR',
      saltRotation: 'monthly',
      timezone: settledZone(),
    });
    // Two browsers: Chrome walks the whole funnel and buys; Firefox stops at the pricing page.
    await collect(beacon, site, CHROME_UA, [
      e('/', 600_000),
      e('/pricing', 540_000),
      e('/pricing', 480_000, { n: 'signup', p: { plan: 'pro' } }),
      e('/checkout', 300_000, { n: 'purchase', m: { a: '49.90', c: 'EUR' } }),
    ]);
    await collect(beacon, site, FIREFOX_UA, [e('/', 400_000), e('/pricing', 370_000), e('/docs', 100_000)]);
    await eventually(
      async () =>
        (await query(beacon, site, { metrics: ['events'], dateRange: 'day' })).body.results[0]?.metrics[0] ===
        2
          ? true
          : undefined,
      60_000,
      'the events projected',
    );
  });
  after(() => beacon?.destroy());

  test('goals are made, refused when bad or named twice, and counted with revenue', async () => {
    const goal = (body: unknown) => beacon.request(`/v1/sites/${site}/goals`, { method: 'POST', json: body });
    const signup = await json<{ id: string; description: string }>(
      await goal({ name: 'Pro signup', event: 'signup', props: [['is', 'plan', ['pro']]] }),
      201,
    );
    assert.equal(signup.description, 'signup where plan is pro');
    await json(await goal({ name: 'Purchase', event: 'purchase' }), 201);
    await json(await goal({ name: 'Pricing', page: '/pricing' }), 201);
    assert.equal((await goal({ name: 'Pricing', page: '/other' })).status, 409);
    const bad = await json<{ error: { code: string } }>(await goal({ name: 'x', page: 'nope' }), 400);
    assert.equal(bad.error.code, 'GOAL_INVALID');
    assert.equal((await goal({ name: 'x', page: 5 })).status, 400, 'a number is not a pattern');

    const r = await query(beacon, site, {
      metrics: ['conversions', 'conversion_rate', 'events', 'total_revenue', 'revenue_per_visitor'],
      dimensions: ['event:goal'],
      dateRange: 'day',
    });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.results.map((x) => [x.dimensions[0], ...x.metrics]),
      [
        ['Pricing', 2, 100, 2, 0, 0],
        ['Pro signup', 1, 50, 1, 0, 0],
        ['Purchase', 1, 50, 1, 49.9, 24.95],
      ],
    );
    assert.equal(r.body.meta.currency, 'EUR');

    const renamed = await beacon.request(`/v1/sites/${site}/goals/${signup.id}`, {
      method: 'PATCH',
      json: { name: 'Any signup', event: 'signup' },
    });
    assert.equal((await json<{ description: string }>(renamed)).description, 'signup');
    const list = await json<{ items: { name: string }[] }>(await beacon.request(`/v1/sites/${site}/goals`));
    assert.deepEqual(
      list.items.map((g) => g.name),
      ['Any signup', 'Pricing', 'Purchase'],
    );
    assert.equal(
      (await beacon.request(`/v1/sites/${site}/goals/${signup.id}`, { method: 'DELETE' })).status,
      204,
    );
    assert.equal(
      (await beacon.request(`/v1/sites/${site}/goals/${signup.id}`, { method: 'DELETE' })).status,
      404,
    );
  });

  test('a funnel, journeys and retention answer through the API, with a segment as a filter', async () => {
    const segment = await json<{ id: string }>(
      await beacon.request(`/v1/sites/${site}/segments`, {
        method: 'POST',
        json: { name: 'Chrome', filters: [['is', 'visit:browser', ['Chrome']]] },
      }),
      201,
    );
    const funnel = (body: Record<string, unknown>) =>
      beacon.request(`/v1/sites/${site}/funnel`, {
        method: 'POST',
        json: {
          steps: [{ page: '/' }, { page: '/pricing' }, { event: 'purchase' }],
          dateRange: 'day',
          ...body,
        },
      });
    const all = await json<{
      steps: { visitors: number; dropoff: number; medianSecondsToNext: number | null }[];
    }>(await funnel({}));
    assert.deepEqual(
      all.steps.map((s) => [s.visitors, s.dropoff, s.medianSecondsToNext]),
      [
        [2, 0, 45],
        [2, 0, 240],
        [1, 1, null],
      ],
    );
    const chrome = await json<{ steps: { visitors: number }[] }>(
      await funnel({ filters: [['is', 'segment', [segment.id]]] }),
    );
    assert.deepEqual(
      chrome.steps.map((s) => s.visitors),
      [1, 1, 1],
    );
    assert.equal((await funnel({ steps: [{ page: '/' }] })).status, 400);
    assert.equal((await funnel({ within: '90d' })).status, 400);

    const journeys = await json<{ visits: number; next: { paths: { pages: string[]; visits: number }[] } }>(
      await beacon.request(`/v1/sites/${site}/journeys`, {
        method: 'POST',
        json: { page: '/pricing', depth: 2, dateRange: 'day' },
      }),
    );
    assert.equal(journeys.visits, 2);
    assert.deepEqual(
      journeys.next.paths.map((p) => [p.pages, p.visits]),
      [
        // The purchase at /checkout is a custom event, not a page view.
        [['(exit)'], 1],
        [['/docs', '(exit)'], 1],
      ],
    );

    const retention = await json<{
      cohorts: { visitors: number; shares: number[] }[];
      meta: { saltRotation: string };
    }>(
      await beacon.request(`/v1/sites/${site}/retention`, {
        method: 'POST',
        json: { period: 'day', dateRange: 'day' },
      }),
    );
    assert.equal(retention.meta.saltRotation, 'monthly');
    assert.deepEqual(
      retention.cohorts.map((c) => [c.visitors, c.shares]),
      [[2, [100]]],
    );
  });

  test("another tenant's token finds none of it: 404, never 403", async () => {
    const token = await otherTenant(beacon, 'intruder');
    for (const [method, path, body] of [
      ['GET', `/v1/sites/${site}/goals`, undefined],
      ['POST', `/v1/sites/${site}/goals`, { name: 'x', page: '/' }],
      ['GET', `/v1/sites/${site}/segments`, undefined],
      ['POST', `/v1/sites/${site}/funnel`, { steps: [{ page: '/' }, { page: '/x' }], dateRange: 'day' }],
      ['POST', `/v1/sites/${site}/journeys`, { page: '/', dateRange: 'day' }],
      ['POST', `/v1/sites/${site}/retention`, { period: 'day', dateRange: 'day' }],
      ['GET', `/v1/sites/${site}/shared-links`, undefined],
      ['POST', `/v1/sites/${site}/shared-links`, { name: 'x' }],
      ['GET', `/v1/sites/${site}/reports`, undefined],
      ['GET', `/v1/sites/${site}/imports`, undefined],
      ['PATCH', '/v1/sites/bulk', { sites: [{ id: site, timezone: 'UTC' }] }],
    ] as const) {
      const res = await beacon.request(path, { method, json: body, token });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
  });
});

for (const backend of ['sqlite', 'postgres'] as const) {
  test(`a shared link on ${backend} opens its one site read-only, behind its password, until revoked`, async () => {
    const flags: Record<string, unknown> = {};
    if (backend === 'postgres') flags.store = (await freshDatabase()).url;
    const beacon = await startTestBeacon(flags);
    try {
      const mine = await createSite(beacon, { domain: 'shop.example' });
      const sibling = await createSite(beacon, { domain: 'secret.example' });
      const other = await createSite(
        beacon,
        { domain: 'other.example' },
        await otherTenant(beacon, 'neighbour'),
      );
      await collect(beacon, mine, CHROME_UA, [e('/', 0)]);
      await collect(beacon, sibling, CHROME_UA, [
        { n: 'pageview', u: 'https://secret.example/', a: 0 },
        { n: 'pageview', u: 'https://secret.example/x', a: 0 },
      ]);
      const made = await json<{ id: string; secret: string; path: string; passwordProtected: boolean }>(
        await beacon.request(`/v1/sites/${mine}/shared-links`, { method: 'POST', json: { name: 'Public' } }),
        201,
      );
      assert.equal(made.path, `/share#${made.secret}`);
      const shared = (
        path: string,
        init: { method?: string; json?: unknown; secret?: string; token?: string } = {},
      ) =>
        fetch(beacon.url + path, {
          method: init.method ?? 'POST',
          headers: {
            'content-type': 'application/json',
            'x-beacon-share': init.secret ?? made.secret,
            ...(init.token && { authorization: `Bearer ${init.token}` }),
          },
          body: init.json === undefined ? undefined : JSON.stringify(init.json),
        });
      const info = await json<{ domain: string; locked: boolean }>(
        await shared('/v1/shared', { method: 'GET' }),
      );
      assert.deepEqual([info.domain, info.locked], ['shop.example', false]);
      const pageviews = async (init: { secret?: string; token?: string } = {}) =>
        shared('/v1/shared/query', { ...init, json: { metrics: ['pageviews'], dateRange: 'day' } });
      const seen = await eventually(
        async () =>
          (await json<{ results: { metrics: number[] }[] }>(await pageviews())).results[0]?.metrics[0] === 1
            ? true
            : undefined,
        60_000,
        'the shared site’s page view',
      );
      assert.equal(seen, true);
      await eventually(
        async () =>
          (await query(beacon, sibling, { metrics: ['pageviews'], dateRange: 'day' })).body.results[0]
            ?.metrics[0] === 2
            ? true
            : undefined,
        60_000,
        'the sibling’s page views',
      );

      // Nothing in a shared request names a site: a site id in the body is refused, and the site
      // routes answer the link's secret with nothing.
      const smuggled = await shared('/v1/shared/query', {
        json: { metrics: ['pageviews'], dateRange: 'day', site: sibling },
      });
      assert.equal(smuggled.status, 400);
      for (const id of [sibling, other, mine]) {
        const res = await shared(`/v1/sites/${id}/query`, {
          json: { metrics: ['pageviews'], dateRange: 'day' },
        });
        assert.equal(res.status, 401, `the secret opens no /v1/sites route (${id})`);
      }
      const funnel = await json<{ steps: { visitors: number }[] }>(
        await shared('/v1/shared/funnel', {
          json: { steps: [{ page: '/' }, { page: '/x' }], dateRange: 'day' },
        }),
      );
      assert.deepEqual(
        funnel.steps.map((s) => s.visitors),
        [1, 0],
        "the sibling's /x visit is not this site's",
      );
      // Read-only: nothing writes through a link.
      for (const [method, path] of [
        ['POST', `/v1/sites/${mine}/goals`],
        ['DELETE', `/v1/sites/${mine}`],
        ['POST', `/v1/sites/${mine}/shared-links`],
      ] as const)
        assert.equal((await shared(path, { method, json: {} })).status, 401, `${method} ${path}`);
      assert.equal((await shared('/v1/shared/query', { secret: 'shr_guessed', json: {} })).status, 404);

      // A password-protected link: locked until unlocked, and its token unlocks it alone.
      const locked = await json<{ id: string; secret: string; passwordProtected: boolean }>(
        await beacon.request(`/v1/sites/${mine}/shared-links`, {
          method: 'POST',
          json: { name: 'Board', password: 'correct horse' },
        }),
        201,
      );
      assert.equal(locked.passwordProtected, true);
      const lockedInfo = await json<Record<string, unknown>>(
        await shared('/v1/shared', { method: 'GET', secret: locked.secret }),
      );
      assert.deepEqual(lockedInfo, { name: 'Board', domain: 'shop.example', locked: true });
      const refused = await json<{ error: { code: string } }>(
        await pageviews({ secret: locked.secret }),
        401,
      );
      assert.equal(refused.error.code, 'SHARE_LOCKED');
      const wrong = await json<{ error: { code: string } }>(
        await shared('/v1/shared/unlock', { secret: locked.secret, json: { password: 'wrong horse' } }),
        401,
      );
      assert.equal(wrong.error.code, 'SHARE_PASSWORD_WRONG');
      const { token } = await json<{ token: string }>(
        await shared('/v1/shared/unlock', { secret: locked.secret, json: { password: 'correct horse' } }),
      );
      assert.equal((await pageviews({ secret: locked.secret, token })).status, 200);
      const siblingLink = await json<{ secret: string }>(
        await beacon.request(`/v1/sites/${sibling}/shared-links`, {
          method: 'POST',
          json: { name: 'Sibling', password: 'another secret' },
        }),
        201,
      );
      assert.equal(
        (await pageviews({ secret: siblingLink.secret, token })).status,
        401,
        "one link's unlock token does not open another",
      );
      const asStatsToken = await beacon.request(`/v1/sites/${mine}/query`, {
        method: 'POST',
        token,
        json: { metrics: ['pageviews'], dateRange: 'day' },
      });
      assert.equal(asStatsToken.status, 401, 'an unlock token is no API token');

      // Revoked: gone at once.
      assert.equal(
        (await beacon.request(`/v1/sites/${mine}/shared-links/${made.id}`, { method: 'DELETE' })).status,
        204,
      );
      const revoked = await json<{ error: { code: string } }>(await pageviews(), 404);
      assert.equal(revoked.error.code, 'SHARE_UNKNOWN');
      const links = await json<{ items: { id: string; revokedAt: string | null }[] }>(
        await beacon.request(`/v1/sites/${mine}/shared-links`, { method: 'GET' }),
      );
      assert.ok(links.items.find((l) => l.id === made.id)?.revokedAt);
      assert.ok(!JSON.stringify(links).includes(made.secret), 'secrets are never listed');
    } finally {
      await beacon.destroy();
    }
  });
}

test('imports through the API: progress, the same export twice is one import, deletion', async () => {
  const beacon = await startTestBeacon({ 'analytics.workerPollMs': 100 });
  try {
    const site = await createSite(beacon, { domain: 'shop.example' });
    const files = Object.fromEntries(fixtureFiles('plausible').map((f) => [f.name, f.content]));
    const upload = () =>
      beacon.request(`/v1/sites/${site}/imports`, { method: 'POST', json: { source: 'plausible', files } });
    const first = await json<{ id: string; status: string }>(await upload(), 202);
    assert.equal(first.status, 'queued');
    const done = await eventually(
      async () => {
        const i = await json<{
          status: string;
          done: number;
          total: number;
          firstDay: string;
          lastDay: string;
        }>(await beacon.request(`/v1/sites/${site}/imports/${first.id}`));
        return i.status === 'completed' ? i : undefined;
      },
      30_000,
      'the import to complete',
    );
    assert.deepEqual(
      [done.firstDay, done.lastDay, done.done, done.done === done.total],
      ['2026-10-01', '2026-10-02', done.total, true],
    );
    const totals = async () =>
      (
        await query(beacon, site, {
          metrics: ['visitors', 'pageviews'],
          dateRange: ['2026-10-01', '2026-10-02'],
        })
      ).body;
    assert.deepEqual((await totals()).results, [{ dimensions: [], metrics: [18, 45] }]);
    const again = await json<{ id: string }>(await upload(), 200);
    assert.equal(again.id, first.id, 'the same files are the same import');
    assert.deepEqual((await totals()).results, [{ dimensions: [], metrics: [18, 45] }]);

    const bad = await json<{ error: { code: string } }>(
      await beacon.request(`/v1/sites/${site}/imports`, {
        method: 'POST',
        json: { source: 'plausible', files: { 'notes.txt': 'x' } },
      }),
      400,
    );
    assert.equal(bad.error.code, 'IMPORT_INVALID');
    const broken = await json<{ id: string }>(
      await beacon.request(`/v1/sites/${site}/imports`, {
        method: 'POST',
        json: { source: 'plausible', files: { 'imported_visitors.csv': 'date,visitors\n2026-09-01,many\n' } },
      }),
      202,
    );
    const failed = await eventually(
      async () => {
        const i = await json<{ status: string; error: string }>(
          await beacon.request(`/v1/sites/${site}/imports/${broken.id}`),
        );
        return i.status === 'failed' ? i : undefined;
      },
      30_000,
      'the broken import to fail',
    );
    assert.match(failed.error, /imported_visitors\.csv: line 2: visitors is not a count/);

    assert.equal(
      (await beacon.request(`/v1/sites/${site}/imports/${first.id}`, { method: 'DELETE' })).status,
      204,
    );
    assert.deepEqual((await totals()).results, []);
    assert.equal((await beacon.request(`/v1/sites/${site}/imports/${first.id}`)).status, 404);
  } finally {
    await beacon.destroy();
  }
});

test('sites at scale: 300 made in one call, listed in pages, changed in one call, all or nothing', async () => {
  const beacon = await startTestBeacon();
  try {
    const sites = Array.from({ length: 300 }, (_, i) => ({
      domain: `shop${i}.example`,
      timezone: 'Europe/Berlin',
    }));
    const made = await json<{ items: { id: string; domain: string; createdAt: string }[] }>(
      await beacon.request('/v1/sites/bulk', { method: 'POST', json: { sites } }),
      201,
    );
    assert.equal(made.items.length, 300);
    assert.deepEqual(
      made.items.slice(0, 2).map((s) => s.domain),
      ['shop0.example', 'shop1.example'],
    );
    const listed: string[] = [];
    let next: string | null = null;
    do {
      const page: { items: { id: string }[]; next: string | null } = await json(
        await beacon.request(`/v1/sites?limit=120${next ? `&after=${next}` : ''}`),
      );
      listed.push(...page.items.map((s) => s.id));
      next = page.next;
    } while (next);
    // Oldest first, and by id among sites made in the same millisecond.
    const byAge = [...made.items].sort((a, b) =>
      a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : a.createdAt < b.createdAt ? -1 : 1,
    );
    assert.deepEqual(
      listed,
      byAge.map((s) => s.id),
    );

    const bad = await json<{ error: { code: string; message: string } }>(
      await beacon.request('/v1/sites/bulk', {
        method: 'POST',
        json: { sites: [{ domain: 'ok.example' }, { domain: 'not a host' }] },
      }),
      400,
    );
    assert.deepEqual([bad.error.code, /^sites\[1\]/.test(bad.error.message)], ['SITE_INVALID', true]);

    const changes = made.items.map((s) => ({ id: s.id, saltRotation: 'monthly', currency: 'EUR' }));
    const changed = await json<{ items: { saltRotation: string; currency: string }[] }>(
      await beacon.request('/v1/sites/bulk', { method: 'PATCH', json: { sites: changes } }),
    );
    assert.ok(changed.items.every((s) => s.saltRotation === 'monthly' && s.currency === 'EUR'));
    const refused = await json<{ error: { code: string; message: string } }>(
      await beacon.request('/v1/sites/bulk', {
        method: 'PATCH',
        json: {
          sites: [
            { id: made.items[0]!.id, timezone: 'UTC' },
            { id: 'st_nope', timezone: 'UTC' },
          ],
        },
      }),
      404,
    );
    assert.match(refused.error.message, /sites\[1\]: no site st_nope/);
    const first = await json<{ timezone: string }>(await beacon.request(`/v1/sites/${made.items[0]!.id}`));
    assert.equal(first.timezone, 'Europe/Berlin', 'a refused bulk change changes nothing');
  } finally {
    await beacon.destroy();
  }
});
