// What every store backend must do for status pages, their incident updates, and the two reads a
// public page makes of the monitor (targets by ids, incidents of many targets).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatusPage, StatusUpdate } from '../../src/monitor/status-page.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import { sampleTarget } from '../helpers/targets.ts';
import type { StoreContractTarget } from './store.contract.ts';

const T0 = Date.UTC(2026, 2, 10);
const DAY = 86_400_000;

const page = (id: string, patch: Partial<StatusPage> = {}): StatusPage => ({
  tenant: 't1',
  id,
  slug: `page-${id}`,
  title: `Page ${id}`,
  description: '',
  groups: [{ name: 'Web', targets: ['web'] }],
  theme: 'light',
  showResponseTimes: false,
  showTargetUrls: false,
  createdAt: T0,
  updatedAt: T0,
  ...patch,
});

const update = (id: string, at: number, patch: Partial<StatusUpdate> = {}): StatusUpdate => ({
  tenant: 't1',
  page: 'p1',
  id,
  title: `Update ${id}`,
  body: '**bold**',
  status: 'investigating',
  at,
  createdAt: at,
  updatedAt: at,
  ...patch,
});

/** Runs the status page contract against a backend. */
export function runStatusPageContract(target: StoreContractTarget): void {
  const it = (name: string, fn: (store: BeaconStore) => Promise<void>): void =>
    void test(name, async () => {
      const store = await target.create();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`Status page store contract: ${target.name}`, () => {
    it('pages: create, read back by id, slug and domain, list by keyset, replace, delete', async (store) => {
      const p1 = page('p1', { domain: 'status.example.com', theme: 'dark', description: 'All of it' });
      assert.equal(await store.statusPages.create(p1), 'ok');
      assert.equal(await store.statusPages.create(page('p2')), 'ok');
      assert.deepEqual(await store.statusPages.get('t1', 'p1'), p1);
      assert.deepEqual(await store.statusPages.bySlug('page-p1'), p1);
      assert.deepEqual(await store.statusPages.byDomain('status.example.com'), p1);
      assert.equal(await store.statusPages.bySlug('nope'), undefined);
      assert.equal(await store.statusPages.byDomain('other.example.com'), undefined);
      assert.equal(await store.statusPages.get('t2', 'p1'), undefined, 'another tenant sees nothing');

      assert.deepEqual(
        (await store.statusPages.list('t1', 1)).map((p) => p.id),
        ['p1'],
      );
      assert.deepEqual(
        (await store.statusPages.list('t1', 10, 'p1')).map((p) => p.id),
        ['p2'],
      );
      assert.deepEqual(await store.statusPages.list('t2', 10), []);

      const { tenant: _t, id: _i, createdAt: _c, updatedAt: _u, ...spec } = p1;
      const next = { ...spec, slug: 'renamed', domain: undefined, groups: [{ name: 'All', tag: 'prod' }] };
      assert.equal(await store.statusPages.update('t1', 'p1', next, T0 + 5), 'ok');
      const read = await store.statusPages.get('t1', 'p1');
      assert.equal(read?.slug, 'renamed');
      assert.equal(read?.domain, undefined);
      assert.deepEqual(read?.groups, [{ name: 'All', tag: 'prod' }]);
      assert.equal(read?.updatedAt, T0 + 5);
      assert.equal(read?.createdAt, T0);
      assert.equal(await store.statusPages.bySlug('page-p1'), undefined, 'the old slug is free again');
      assert.equal(await store.statusPages.byDomain('status.example.com'), undefined);
      assert.equal(await store.statusPages.update('t2', 'p1', next, T0), 'not-found');

      assert.equal(await store.statusPages.delete('t2', 'p1'), false);
      assert.equal(await store.statusPages.delete('t1', 'p1'), true);
      assert.equal(await store.statusPages.delete('t1', 'p1'), false);
      assert.equal(await store.statusPages.get('t1', 'p1'), undefined);
    });

    it('a slug and a domain are unique across tenants; an id only within one', async (store) => {
      assert.equal(await store.statusPages.create(page('p1', { domain: 'status.example.com' })), 'ok');
      assert.equal(await store.statusPages.create(page('p1', { slug: 'other' })), 'id-taken');
      assert.equal(
        await store.statusPages.create(page('p9', { tenant: 't2', slug: 'page-p1' })),
        'slug-taken',
      );
      assert.equal(
        await store.statusPages.create(
          page('p9', { tenant: 't2', slug: 'free', domain: 'status.example.com' }),
        ),
        'domain-taken',
      );
      assert.equal(await store.statusPages.create(page('p1', { tenant: 't2', slug: 'theirs' })), 'ok');
      const { tenant: _t, id: _i, createdAt: _c, updatedAt: _u, ...spec } = page('x');
      assert.equal(
        await store.statusPages.update('t2', 'p1', { ...spec, slug: 'page-p1' }, T0),
        'slug-taken',
      );
      assert.equal(
        await store.statusPages.update(
          't2',
          'p1',
          { ...spec, slug: 'theirs', domain: 'status.example.com' },
          T0,
        ),
        'domain-taken',
      );
      // A page keeps its own slug and domain when it is saved again.
      assert.equal(
        await store.statusPages.update(
          't1',
          'p1',
          { ...spec, slug: 'page-p1', domain: 'status.example.com' },
          T0,
        ),
        'ok',
      );
      assert.equal((await store.statusPages.bySlug('theirs'))?.tenant, 't2');
    });

    it('updates: newest first by time, keyset-paged, edited, deleted, and gone with their page', async (store) => {
      assert.equal(await store.statusPages.create(page('p1')), 'ok');
      assert.equal(await store.statusPages.addUpdate(update('a', T0)), true);
      assert.equal(await store.statusPages.addUpdate(update('b', T0 + 2000)), true);
      assert.equal(await store.statusPages.addUpdate(update('c', T0 + 2000)), true);
      assert.equal(await store.statusPages.addUpdate(update('a', T0 + 9)), false, 'an id is taken once');
      assert.equal(await store.statusPages.addUpdate(update('z', T0, { tenant: 't2' })), true);

      const all = await store.statusPages.listUpdates('t1', 'p1', 10);
      assert.deepEqual(
        all.map((u) => u.id),
        ['c', 'b', 'a'],
      );
      assert.deepEqual(all[2], update('a', T0));
      const first = await store.statusPages.listUpdates('t1', 'p1', 2);
      const rest = await store.statusPages.listUpdates('t1', 'p1', 2, { at: first[1]!.at, id: first[1]!.id });
      assert.deepEqual(
        rest.map((u) => u.id),
        ['a'],
      );

      assert.equal(
        await store.statusPages.editUpdate(
          't1',
          'p1',
          'a',
          { title: 'Fixed', body: 'done', status: 'resolved', at: T0 + 5000 },
          T0 + 6000,
        ),
        true,
      );
      const edited = await store.statusPages.getUpdate('t1', 'p1', 'a');
      assert.deepEqual(edited, {
        ...update('a', T0),
        title: 'Fixed',
        body: 'done',
        status: 'resolved',
        at: T0 + 5000,
        updatedAt: T0 + 6000,
      });
      assert.equal(
        await store.statusPages.editUpdate('t2', 'p1', 'a', { ...edited, title: 'x' }, T0),
        false,
        'another tenant cannot edit it',
      );
      assert.equal(await store.statusPages.getUpdate('t2', 'p1', 'a'), undefined);
      assert.equal(await store.statusPages.deleteUpdate('t1', 'p1', 'b'), true);
      assert.equal(await store.statusPages.deleteUpdate('t1', 'p1', 'b'), false);

      assert.equal(await store.statusPages.delete('t1', 'p1'), true);
      assert.deepEqual(await store.statusPages.listUpdates('t1', 'p1', 10), []);
      assert.equal((await store.statusPages.listUpdates('t2', 'p1', 10)).length, 1, 't2’s update stays');
    });

    it('a page reads its targets by ids with their current check, and their incidents in one query', async (store) => {
      for (const id of ['api', 'db', 'web']) assert.equal(await store.targets.create(sampleTarget(id)), true);
      assert.equal(await store.targets.create(sampleTarget('web', { tenant: 't2' })), true);
      const found = await store.monitor.searchTargets({
        tenant: 't1',
        ids: ['web', 'api', 'gone'],
        limit: 10,
      });
      assert.deepEqual(
        found.map((t) => [t.target.id, t.current]),
        [
          ['api', undefined],
          ['web', undefined],
        ],
      );
      assert.deepEqual(await store.monitor.searchTargets({ tenant: 't1', ids: [], limit: 10 }), []);

      const incident = (target: string, startedAt: number, endedAt: number | null, tenant = 't1') => ({
        tenant,
        target,
        region: 'eu',
        startedAt,
        endedAt,
        cause: 'timeout' as const,
        detail: 'timed out',
      });
      await store.transaction(async (tx) => {
        await tx.checks.openIncident(incident('web', T0 - 10 * DAY, null));
        await tx.checks.closeIncident(incident('web', T0 - 10 * DAY, null), T0 - 9 * DAY);
        await tx.checks.openIncident(incident('api', T0 - 100 * DAY, null));
        await tx.checks.closeIncident(incident('api', T0 - 100 * DAY, null), T0 - 99 * DAY);
        await tx.checks.openIncident(incident('db', T0 - DAY, null));
        await tx.checks.openIncident(incident('web', T0 - DAY, null, 't2'));
      });
      const since = T0 - 90 * DAY;
      const seen = await store.monitor.incidentsOf('t1', ['web', 'api', 'db'], since, 10);
      assert.deepEqual(
        seen.map((i) => [i.target, i.startedAt, i.endedAt]),
        [
          ['db', T0 - DAY, null],
          ['web', T0 - 10 * DAY, T0 - 9 * DAY],
        ],
      );
      assert.equal((await store.monitor.incidentsOf('t1', ['web', 'api', 'db'], since, 1)).length, 1);
      assert.deepEqual(await store.monitor.incidentsOf('t1', [], since, 10), []);
    });
  });
}
