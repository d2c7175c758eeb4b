import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createToken } from '../src/tenants/tokens.ts';
import { CHROME_UA, createSite, query } from './helpers/analytics.ts';
import { freshDatabase } from './helpers/postgres.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

/**
 * Site management and OAuth2 client revocation through the real server, on each store backend: what an
 * admin changes is what collection and the stats API do next.
 */
for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`sites and OAuth2 clients (${backend})`, () => {
    let beacon: TestBeacon;
    let acmeAdmin: string;
    let readOnly: string;
    before(async () => {
      const store = backend === 'postgres' ? (await freshDatabase()).url : 'sqlite';
      beacon = await startTestBeacon({ store, 'analytics.addressPerSecond': 0 });
      await beacon.store.tenants.ensure({ id: 'acme', name: 'Acme', createdAt: Date.now() });
      acmeAdmin = (await createToken(beacon.store.tenants, { tenant: 'acme', name: 'a', scopes: ['admin'] }))
        .secret;
      readOnly = (await createToken(beacon.store.tenants, { tenant: 'default', name: 'r', scopes: ['read'] }))
        .secret;
    });
    after(async () => {
      await beacon?.destroy();
    });

    const collect = async (site: string, url: string, headers: Record<string, string> = {}) => {
      const res = await fetch(beacon.url + '/v1/collect', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA, ...headers },
        body: JSON.stringify({ s: site, e: [{ n: 'pageview', u: url }] }),
      });
      const body = (await res.json()) as { error?: { code: string } };
      return { status: res.status, code: body.error?.code };
    };
    const pageviews = async (site: string) =>
      (await query(beacon, site, { metrics: ['pageviews'], dateRange: 'day' })).body.results[0]?.metrics[0] ??
      0;
    const errorCode = async (res: Response) =>
      ((await res.json()) as { error?: { code: string } }).error?.code;

    test('PATCH changes only the fields sent, and collection follows the new domains at once', async () => {
      const site = await createSite(beacon, { domain: 'old.example', allowedDomains: ['cdn.old.example'] });
      assert.equal((await collect(site, 'https://old.example/')).status, 202);

      const res = await beacon.request(`/v1/sites/${site}`, {
        method: 'PATCH',
        json: { domain: 'https://www.New.example/', timezone: 'Europe/Berlin', respectDnt: true },
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(
        { ...body, createdAt: undefined },
        {
          id: site,
          domain: 'new.example',
          allowedDomains: ['cdn.old.example'],
          timezone: 'Europe/Berlin',
          respectDnt: true,
          saltRotation: 'daily',
          currency: 'USD',
          createdAt: undefined,
        },
      );
      assert.deepEqual(await (await beacon.request(`/v1/sites/${site}`)).json(), body);

      // The old main domain is refused at once; the new one and the kept allowed domain are accepted;
      // DNT is now respected.
      assert.deepEqual(await collect(site, 'https://old.example/'), {
        status: 403,
        code: 'SITE_DOMAIN_DENIED',
      });
      assert.equal((await collect(site, 'https://new.example/')).status, 202);
      assert.equal((await collect(site, 'https://cdn.old.example/')).status, 202);
      const dnt = await fetch(beacon.url + '/v1/collect', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'user-agent': CHROME_UA, dnt: '1' },
        body: JSON.stringify({ s: site, e: [{ n: 'pageview', u: 'https://new.example/' }] }),
      });
      assert.deepEqual(await dnt.json(), { accepted: 0, ignored: 1 });

      const cleared = await beacon.request(`/v1/sites/${site}`, {
        method: 'PATCH',
        json: { allowedDomains: [] },
      });
      assert.deepEqual(((await cleared.json()) as { allowedDomains: string[] }).allowedDomains, []);
      assert.equal((await collect(site, 'https://cdn.old.example/')).status, 403);
    });

    test('concurrent changes to one site all succeed, and one of them is what is stored', async () => {
      const site = await createSite(beacon, { domain: 'busy.example' });
      const zones = ['UTC', 'Europe/Berlin', 'Asia/Tokyo', 'America/Chicago', 'Europe/Paris'];
      const answers = await Promise.all(
        zones.map((timezone) => beacon.request(`/v1/sites/${site}`, { method: 'PATCH', json: { timezone } })),
      );
      assert.deepEqual(
        answers.map((r) => r.status),
        zones.map(() => 200),
      );
      const stored = (await (await beacon.request(`/v1/sites/${site}`)).json()) as { timezone: string };
      assert.ok(zones.includes(stored.timezone));
    });

    test('PATCH refuses bad settings with a code that names the problem, and other tenants get 404', async () => {
      const site = await createSite(beacon, { domain: 'keep.example' });
      const cases: [unknown, number, string][] = [
        [{ domain: 'not a host' }, 400, 'SITE_INVALID'],
        [{ allowedDomains: ['ok.example', 'bad host'] }, 400, 'SITE_INVALID'],
        [{ timezone: 'Mars/Olympus' }, 400, 'SITE_INVALID'],
        [{}, 400, 'VALIDATION_FAILED'],
        [{ timeZone: 'UTC' }, 400, 'VALIDATION_FAILED'],
        [{ respectDnt: 'yes' }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [json, status, code] of cases) {
        const res = await beacon.request(`/v1/sites/${site}`, { method: 'PATCH', json });
        assert.equal(res.status, status, JSON.stringify(json));
        assert.equal(await errorCode(res), code, JSON.stringify(json));
      }
      const theirs = await beacon.request(`/v1/sites/${site}`, {
        method: 'PATCH',
        json: { domain: 'stolen.example' },
        token: acmeAdmin,
      });
      assert.equal(theirs.status, 404);
      assert.equal(await errorCode(theirs), 'SITE_UNKNOWN');
      const reader = await beacon.request(`/v1/sites/${site}`, {
        method: 'PATCH',
        json: { domain: 'x.example' },
        token: readOnly,
      });
      assert.equal(reader.status, 403);
      assert.equal(
        ((await (await beacon.request(`/v1/sites/${site}`)).json()) as { domain: string }).domain,
        'keep.example',
        'nothing changed',
      );
      assert.equal(
        (await beacon.request('/v1/sites/st_nope', { method: 'PATCH', json: { respectDnt: true } })).status,
        404,
      );
    });

    test('DELETE stops collection at once and removes the site with its data; another tenant cannot', async () => {
      const site = await createSite(beacon, { domain: 'gone.example' });
      const kept = await createSite(beacon, { domain: 'kept.example' });
      assert.equal((await collect(site, 'https://gone.example/')).status, 202);
      assert.equal((await collect(kept, 'https://kept.example/')).status, 202);
      await eventually(
        async () => ((await pageviews(site)) === 1 ? true : undefined),
        60_000,
        'the page view',
      );

      const theirs = await beacon.request(`/v1/sites/${site}`, { method: 'DELETE', token: acmeAdmin });
      assert.equal(theirs.status, 404);
      assert.equal(
        (await beacon.request(`/v1/sites/${site}`, { method: 'DELETE', token: readOnly })).status,
        403,
      );
      assert.equal((await beacon.request(`/v1/sites/${site}`)).status, 200, 'still there');

      const res = await beacon.request(`/v1/sites/${site}`, { method: 'DELETE' });
      assert.equal(res.status, 204);
      // The collect right after is refused: the cached site was forgotten.
      assert.deepEqual(await collect(site, 'https://gone.example/'), { status: 404, code: 'SITE_UNKNOWN' });
      assert.equal((await beacon.request(`/v1/sites/${site}`)).status, 404);
      const q = await query(beacon, site, { metrics: ['pageviews'], dateRange: 'day' });
      assert.equal(q.status, 404);
      assert.equal(await beacon.store.analytics.countEvents('default', site), 0);
      const listed = (await (await beacon.request('/v1/sites')).json()) as { items: { id: string }[] };
      assert.ok(!listed.items.some((s) => s.id === site));
      assert.ok(listed.items.some((s) => s.id === kept));
      const again = await beacon.request(`/v1/sites/${site}`, { method: 'DELETE' });
      assert.equal(again.status, 404);
      assert.equal(await errorCode(again), 'SITE_UNKNOWN');

      // The other site is untouched and still collects.
      assert.equal((await collect(kept, 'https://kept.example/b')).status, 202);
      await eventually(
        async () => ((await pageviews(kept)) === 2 ? true : undefined),
        60_000,
        'kept page views',
      );
    });

    test('admins list and revoke OAuth2 clients; a revoked client gets no token and its tokens stop working', async () => {
      const make = async (name: string, token?: string) => {
        const res = await beacon.request('/v1/oauth/clients', { method: 'POST', json: { name }, token });
        return (await res.json()) as { clientId: string; clientSecret: string };
      };
      const grant = (c: { clientId: string; clientSecret: string }) =>
        fetch(beacon.url + '/oauth/token', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            grant_type: 'client_credentials',
            client_id: c.clientId,
            client_secret: c.clientSecret,
          }),
        });
      const site = await createSite(beacon, { domain: 'oauth.example' });
      const reporting = await make('reporting');
      const other = await make('other');
      const acme = await make('acme', acmeAdmin);

      const list = async (token?: string) =>
        (
          (await (await beacon.request('/v1/oauth/clients', { token })).json()) as {
            items: { clientId: string; name: string; revokedAt: string | null }[];
          }
        ).items;
      const mine = await list();
      assert.deepEqual(
        mine.map((c) => [c.clientId, c.name, c.revokedAt]),
        [
          [reporting.clientId, 'reporting', null],
          [other.clientId, 'other', null],
        ],
      );
      assert.ok(!JSON.stringify(mine).includes(reporting.clientSecret), 'secrets are never listed');
      assert.deepEqual(
        (await list(acmeAdmin)).map((c) => c.clientId),
        [acme.clientId],
      );
      assert.equal((await beacon.request('/v1/oauth/clients', { token: readOnly })).status, 403);

      const jwt = ((await (await grant(reporting)).json()) as { access_token: string }).access_token;
      assert.equal((await query(beacon, site, { metrics: ['visitors'], dateRange: 'day' }, jwt)).status, 200);

      // Another tenant cannot revoke it; unknown ids are 404 too.
      const theirs = await beacon.request(`/v1/oauth/clients/${reporting.clientId}`, {
        method: 'DELETE',
        token: acmeAdmin,
      });
      assert.equal(theirs.status, 404);
      assert.equal(await errorCode(theirs), 'OAUTH_CLIENT_UNKNOWN');
      assert.equal((await grant(reporting)).status, 200);

      assert.equal(
        (await beacon.request(`/v1/oauth/clients/${reporting.clientId}`, { method: 'DELETE' })).status,
        204,
      );
      const refused = await grant(reporting);
      assert.equal(refused.status, 401);
      assert.equal(await errorCode(refused), 'OAUTH_INVALID_CLIENT');
      const late = await query(beacon, site, { metrics: ['visitors'], dateRange: 'day' }, jwt);
      assert.equal(late.status, 401, 'a token issued before the revocation is refused');
      // Revoking again is harmless; the other client is unaffected.
      assert.equal(
        (await beacon.request(`/v1/oauth/clients/${reporting.clientId}`, { method: 'DELETE' })).status,
        204,
      );
      assert.equal((await grant(other)).status, 200);
      const after = await list();
      assert.equal(typeof after[0]!.revokedAt, 'string');
      assert.equal(after[1]!.revokedAt, null);
      assert.equal((await beacon.request('/v1/oauth/clients/bcc_nope', { method: 'DELETE' })).status, 404);
    });
  });
}
