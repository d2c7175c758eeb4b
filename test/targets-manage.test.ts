import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { createToken } from '../src/tenants/tokens.ts';
import { startFarm, type TargetFarm } from './helpers/farm.ts';
import { eventually, startTestBeacon, type TestBeacon } from './helpers/server.ts';

interface TargetItem {
  id: string;
  state: string;
  paused?: boolean;
  tags: string[];
  uptime: { h24: number | null };
}
interface Page {
  items: TargetItem[];
  next: string | null;
  total: number;
}

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

describe('managing many targets: filtered lists, pause, bulk actions, check now, YAML', () => {
  let farm: TargetFarm;
  let beacon: TestBeacon;
  const list = (query: string) => json<Page>(beacon.request(`/v1/targets?${query}`));
  const ids = async (query: string) => (await list(query)).items.map((t) => t.id);

  before(async () => {
    farm = await startFarm();
    beacon = await startTestBeacon({ 'monitor.refreshMs': 200, 'monitor.perHost': 50 });
    const make = async (json: Record<string, unknown>) =>
      assert.equal((await beacon.request('/v1/targets', { method: 'POST', json })).status, 201);
    await make({
      id: 'shop-api',
      name: 'Shop API',
      url: `${farm.http}/ok`,
      intervalSeconds: 1,
      timeoutMs: 800,
      tags: ['shop'],
    });
    await make({
      id: 'shop-web',
      url: `${farm.http}/status/500`,
      intervalSeconds: 1,
      timeoutMs: 800,
      tags: ['shop', 'web'],
    });
    await make({
      id: 'db',
      kind: 'tcp',
      host: '127.0.0.1',
      port: farm.closedPort,
      intervalSeconds: 3600,
      tags: ['infra'],
    });
    await make({ id: 'beat', kind: 'push', intervalSeconds: 3600, tags: [] });
  });
  after(async () => {
    await beacon.destroy();
    await farm.close();
  });

  test('the list filters by text, state, tag and kind on the server and counts what passes', async () => {
    await eventually(async () => ((await ids('state=up')).includes('shop-api') ? true : undefined));
    await eventually(async () => ((await ids('state=down')).includes('shop-web') ? true : undefined));
    assert.deepEqual(await ids('q=SHOP'), ['shop-api', 'shop-web']);
    assert.deepEqual(await ids(`q=${encodeURIComponent('127.0.0.1')}`), ['db', 'shop-api', 'shop-web']);
    assert.deepEqual(await ids('tag=web'), ['shop-web']);
    assert.deepEqual(await ids('kind=push'), ['beat']);
    assert.deepEqual(await ids('kind=http&state=up'), ['shop-api']);
    const first = await list('limit=2');
    assert.equal(first.total, 4);
    assert.deepEqual(
      first.items.map((t) => t.id),
      ['beat', 'db'],
    );
    const second = await list(`limit=2&after=${first.next}`);
    assert.deepEqual(
      second.items.map((t) => t.id),
      ['shop-api', 'shop-web'],
    );
    assert.equal(second.next, null);
    assert.equal((await beacon.request('/v1/targets?state=sleepy')).status, 400);
    assert.equal((await beacon.request('/v1/targets?kind=ftp')).status, 400);
  });

  test('a paused target is not checked and reads paused until resumed', async () => {
    const res = await beacon.request('/v1/targets/shop-api', { method: 'PATCH', json: { paused: true } });
    assert.equal(res.status, 200);
    assert.equal((await json<TargetItem>(res)).state, 'paused');
    assert.deepEqual(await ids('state=paused'), ['shop-api']);
    assert.deepEqual(await ids('state=up'), []);
    // Twice: a reload already under way when the pause was stored may have read the targets before it.
    await beacon.monitor!.prober.refresh();
    await beacon.monitor!.prober.refresh();
    const hits = () => farm.hits.get('/ok') ?? 0;
    const settled = hits();
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(hits() - settled <= 1, 'a paused target is no longer checked (one may have been in flight)');
    await beacon.request('/v1/targets/shop-api', { method: 'PATCH', json: { paused: null } });
    await eventually(() => Promise.resolve(hits() > settled + 1 ? true : undefined));
    assert.equal((await json<TargetItem>(beacon.request('/v1/targets/shop-api'))).paused, undefined);
  });

  test('bulk actions act on every target with a tag, or on listed ids, and count what they did', async () => {
    const bulk = (json: unknown, token?: string) =>
      beacon.request('/v1/targets/bulk', { method: 'POST', json, ...(token ? { token } : {}) });
    const paused = await json<Record<string, unknown>>(bulk({ action: 'pause', tag: 'shop' }));
    assert.deepEqual(paused, { matched: 2, changed: 2, unchanged: 0, readOnly: 0, missing: 0, failed: [] });
    assert.deepEqual(await ids('state=paused'), ['shop-api', 'shop-web']);
    const again = await json<Record<string, unknown>>(bulk({ action: 'pause', ids: ['shop-api', 'nope'] }));
    assert.deepEqual(again, { matched: 1, changed: 0, unchanged: 1, readOnly: 0, missing: 1, failed: [] });
    await bulk({ action: 'resume', tag: 'shop' });
    assert.deepEqual(await ids('state=paused'), []);
    await bulk({ action: 'addTag', tag: 'shop', value: 'checkout' });
    assert.deepEqual(await ids('tag=checkout'), ['shop-api', 'shop-web']);
    await bulk({ action: 'removeTag', ids: ['shop-web'], value: 'checkout' });
    assert.deepEqual(await ids('tag=checkout'), ['shop-api']);
    assert.equal((await bulk({ action: 'pause' })).status, 400, 'neither tag nor ids');
    assert.equal((await bulk({ action: 'addTag', tag: 'shop' })).status, 400, 'addTag without value');
    assert.equal((await bulk({ action: 'explode', tag: 'shop' })).status, 400);
    const { secret } = await createToken(beacon.store.tenants, {
      tenant: 'default',
      name: 'reader',
      scopes: ['read'],
    });
    assert.equal((await bulk({ action: 'delete', tag: 'shop' }, secret)).status, 403);
    assert.equal((await ids('tag=shop')).length, 2);
  });

  test('check now runs one real check of a spec, validated as create is, and stores nothing', async () => {
    const check = (json: unknown) => beacon.request('/v1/targets/check', { method: 'POST', json });
    const good = await json<{ check: Record<string, unknown> }>(
      check({ id: 'preview-ok', url: `${farm.http}/text/hello+world`, pattern: 'hello', timeoutMs: 2000 }),
    );
    assert.equal(good.check.state, 'up');
    assert.equal(good.check.status, 200);
    assert.equal(good.check.patternMatched, true);
    assert.equal(typeof (good.check.phases as { ttfbMs: number }).ttfbMs, 'number');
    const missing = await json<{ check: Record<string, unknown> }>(
      check({ url: `${farm.http}/text/hello`, pattern: 'goodbye' }),
    );
    assert.deepEqual(
      [missing.check.state, (missing.check.error as { class: string }).class],
      ['down', 'pattern'],
    );
    const slow = await json<{ check: Record<string, unknown> }>(
      check({ url: `${farm.http}/slow/2000`, timeoutMs: 300, intervalSeconds: 1 }),
    );
    assert.equal((slow.check.error as { class: string }).class, 'timeout', 'the spec’s timeout holds');
    const refused = await json<{ check: Record<string, unknown> }>(
      check({ kind: 'tcp', host: '127.0.0.1', port: farm.closedPort }),
    );
    assert.equal((refused.check.error as { class: string }).class, 'refused');
    const bad = { url: 'ftp://nowhere', intervalSeconds: 'often' };
    const [asCheck, asCreate] = await Promise.all([
      json<{ error: { code: string; message: string } }>(check(bad)),
      json<{ error: { code: string; message: string } }>(
        beacon.request('/v1/targets', { method: 'POST', json: bad }),
      ),
    ]);
    assert.equal(asCheck.error.code, 'TARGET_INVALID');
    assert.deepEqual(asCheck.error, asCreate.error);
    assert.equal((await beacon.request('/v1/targets/preview-ok')).status, 404, 'nothing stored');
  });

  test('targets export as YAML and import back; an invalid item names its line and field and stores nothing', async () => {
    const res = await beacon.request('/v1/targets.yaml');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/yaml/);
    const text = await res.text();
    const doc = parse(text) as { targets: { id: string; kind: string; pushToken?: string }[] };
    assert.deepEqual(
      doc.targets.map((t) => `${t.id}:${t.kind}`),
      ['beat:push', 'db:tcp', 'shop-api:http', 'shop-web:http'],
    );
    assert.ok(doc.targets[0]!.pushToken, 'push targets carry their token');

    // Round trip into another tenant: every target comes back with the same spec.
    await beacon.store.tenants.ensure({ id: 'acme', name: 'Acme', createdAt: Date.now() });
    const { secret } = await createToken(beacon.store.tenants, {
      tenant: 'acme',
      name: 'admin',
      scopes: ['read', 'admin'],
    });
    const beatless = text.replace(/pushToken: .*/, 'pushToken: acme-token-0123456789');
    const imported = await beacon.request('/v1/targets/import', {
      method: 'POST',
      body: beatless,
      headers: { 'content-type': 'application/yaml' },
      token: secret,
    });
    assert.deepEqual(await imported.json(), { created: 4, updated: 0, unchanged: 0 });
    const back = await (await beacon.request('/v1/targets.yaml', { token: secret })).text();
    assert.equal(back, beatless);

    const changed = `targets:\n  - id: db\n    kind: tcp\n    host: 127.0.0.1\n    port: 1\n  - id: fresh\n    url: ${farm.http}/ok\n`;
    const upserted = await beacon.request('/v1/targets/import', {
      method: 'POST',
      body: changed,
      headers: { 'content-type': 'text/yaml' },
      token: secret,
    });
    assert.deepEqual(await upserted.json(), { created: 1, updated: 1, unchanged: 0 });

    const invalid = `targets:\n  - id: ok-one\n    url: ${farm.http}/ok\n  - id: bad-one\n    url: ${farm.http}/ok\n    intervalSeconds: fast\n`;
    const refused = await beacon.request('/v1/targets/import', {
      method: 'POST',
      body: invalid,
      headers: { 'content-type': 'application/yaml' },
      token: secret,
    });
    assert.equal(refused.status, 400);
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'TARGET_INVALID');
    assert.match(error.message, /import:6: targets\[1\]\.intervalSeconds/);
    assert.equal(
      (await beacon.request('/v1/targets/ok-one', { token: secret })).status,
      404,
      'nothing stored',
    );
    for (const empty of ['', '{}\n', 'null\n']) {
      const res = await beacon.request('/v1/targets/import', {
        method: 'POST',
        body: empty,
        headers: { 'content-type': 'application/yaml' },
        token: secret,
      });
      assert.equal(res.status, 400, `an import of ${JSON.stringify(empty)} names no targets`);
    }
    const json415 = await beacon.request('/v1/targets/import', { method: 'POST', json: {}, token: secret });
    assert.equal(json415.status, 415);
  });
});
