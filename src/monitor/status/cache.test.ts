import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { etagOf, renderedOf, StatusCache, type Rendered } from './cache.ts';

const rendered = (body: string): Rendered => renderedOf(body, 'text/plain');

test('a page renders once per ttl, concurrent requests share the render, and a write forgets it', async () => {
  const cache = new StatusCache({ ttlMs: 1000 });
  let renders = 0;
  const render = () => Promise.resolve(rendered(`v${++renders}`));
  const [a, b] = await Promise.all([
    cache.rendered('acme', 'html', render, 0),
    cache.rendered('acme', 'html', render, 10),
  ]);
  assert.equal(a.body, 'v1');
  assert.equal(b.body, 'v1');
  assert.equal((await cache.rendered('acme', 'json', render, 20)).body, 'v2', 'each form on its own');
  assert.equal((await cache.rendered('acme', 'html', render, 999)).body, 'v1');
  assert.equal((await cache.rendered('acme', 'html', render, 1000)).body, 'v3', 'expired');
  cache.forget('acme');
  assert.equal((await cache.rendered('acme', 'html', render, 1001)).body, 'v4', 'forgotten');
  // Forgetting one slug leaves another that shares its prefix.
  await cache.rendered('acme-eu', 'html', render, 1001);
  cache.forget('acme');
  assert.equal((await cache.rendered('acme-eu', 'html', render, 1002)).body, 'v5');
});

test('a failed render is not kept; a ttl of 0 keeps nothing', async () => {
  const cache = new StatusCache({ ttlMs: 1000 });
  await assert.rejects(cache.rendered('x', 'html', () => Promise.reject(new Error('store down')), 0));
  assert.equal((await cache.rendered('x', 'html', () => Promise.resolve(rendered('ok')), 1)).body, 'ok');
  const none = new StatusCache({ ttlMs: 0 });
  let renders = 0;
  const render = () => Promise.resolve(rendered(`v${++renders}`));
  await none.rendered('x', 'html', render, 0);
  assert.equal((await none.rendered('x', 'html', render, 0)).body, 'v2');
});

test('a domain is looked up once per ttl, its absence too, and a write forgets every mapping', async () => {
  const cache = new StatusCache({ ttlMs: 1000 });
  let lookups = 0;
  const find = () => Promise.resolve(++lookups === 1 ? undefined : 'acme');
  assert.equal(await cache.domain('status.acme.test', find, 0), undefined);
  assert.equal(await cache.domain('status.acme.test', find, 500), undefined, 'absence is remembered');
  assert.equal(lookups, 1);
  cache.forget('anything');
  assert.equal(await cache.domain('status.acme.test', find, 600), 'acme');
  assert.equal(etagOf('a'), etagOf('a'));
  assert.equal(gunzipSync(renderedOf('page', 'text/html').gzip).toString(), 'page');
  assert.notEqual(etagOf('a'), etagOf('b'));
});
