import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckRow } from '../../src/monitor/check.ts';
import type { Target } from '../../src/monitor/target.ts';
import type { Store } from '../../src/store/store.ts';
import type { StoreContractTarget } from './store.contract.ts';

const target = (id: string, patch: Partial<Target> = {}): Target => ({
  id,
  tenant: 't1',
  source: 'api',
  createdAt: 1,
  updatedAt: 1,
  url: `https://${id}.example/`,
  intervalSeconds: 60,
  timeoutMs: 5000,
  method: 'GET',
  headers: {},
  expectStatus: ['200-399'],
  patternMustMatch: true,
  maxRedirects: 0,
  maxBodyBytes: 1024,
  ignoreTlsErrors: false,
  downAfter: 3,
  upAfter: 2,
  tags: [],
  ...patch,
});

const check = (scheduledAt: number, region = 'eu', ok = true): CheckRow => ({
  tenant: 't1',
  target: 'a',
  region,
  slot: scheduledAt / 1000,
  scheduledAt,
  startedAt: scheduledAt + 5,
  ok,
  durationMs: 12.5,
  phases: { dnsMs: 1, connectMs: 2, tlsMs: 3, ttfbMs: 4, transferMs: 2.5 },
  status: ok ? 200 : 503,
  httpVersion: '1.1',
  bytes: 42,
  tlsExpiresAt: 1_800_000_000_000,
  patternMatched: ok ? true : null,
  redirects: 0,
  error: ok ? null : { class: 'status', detail: 'status 503' },
});

/** The monitor part of the store contract: every backend stores targets, checks and rollups alike. */
export function runMonitorStoreContract(backend: StoreContractTarget): void {
  const it = (name: string, fn: (store: Store) => Promise<void>): void =>
    void test(name, async () => {
      const store = await backend.create();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`Monitor store contract: ${backend.name}`, () => {
    it('targets are tenant-scoped, created once, updated, deleted and paged by id', async (store) => {
      assert.equal(await store.targets.create(target('b')), true);
      assert.equal(await store.targets.create(target('a')), true);
      assert.equal(await store.targets.create(target('a')), false);
      assert.equal(await store.targets.create(target('a', { tenant: 't2' })), true);
      assert.deepEqual(
        (await store.monitor.listTargets('t1', 10)).map((t) => t.id),
        ['a', 'b'],
      );
      assert.deepEqual(
        (await store.monitor.listTargets('t1', 10, 'a')).map((t) => t.id),
        ['b'],
      );
      assert.equal(await store.targets.update('t1', 'a', { ...target('a'), intervalSeconds: 5 }, 2), true);
      assert.equal((await store.monitor.getTarget('t1', 'a'))?.intervalSeconds, 5);
      assert.equal((await store.monitor.getTarget('t2', 'a'))?.intervalSeconds, 60);
      assert.equal(await store.targets.delete('t1', 'b'), true);
      assert.equal(await store.monitor.getTarget('t1', 'b'), undefined);
      assert.equal((await store.monitor.allTargets()).length, 2);
    });

    it('file targets are replaced as a set and never touch API targets', async (store) => {
      await store.targets.create(target('api'));
      await store.targets.replaceFileTargets([
        target('f1', { source: 'file' }),
        target('f2', { source: 'file' }),
      ]);
      const second = await store.targets.replaceFileTargets([
        target('f2', { source: 'file', intervalSeconds: 10 }),
      ]);
      assert.deepEqual(second, { upserted: 1, deleted: 1 });
      const ids = (await store.monitor.allTargets()).map((t) => `${t.id}:${t.source}`).sort();
      assert.deepEqual(ids, ['api:api', 'f2:file']);
      assert.equal(await store.targets.sourceOf('t1', 'f2'), 'file');
    });

    it('a check is stored once per (target, region, slot) and listed newest first with every field', async (store) => {
      const fresh = await store.transaction((tx) =>
        tx.checks.insert([check(1000), check(2000), check(2000, 'us')]),
      );
      assert.equal(fresh.length, 3);
      const again = await store.transaction((tx) =>
        tx.checks.insert([check(2000), check(3000, 'eu', false)]),
      );
      assert.deepEqual(
        again.map((c) => c.scheduledAt),
        [3000],
      );
      const listed = await store.monitor.listChecks({ tenant: 't1', target: 'a', limit: 10 });
      assert.deepEqual(
        listed.map((c) => `${c.scheduledAt}/${c.region}`),
        ['3000/eu', '2000/us', '2000/eu', '1000/eu'],
      );
      assert.deepEqual(listed[3], check(1000));
      assert.deepEqual(listed[0], check(3000, 'eu', false));
      const page = await store.monitor.listChecks({
        tenant: 't1',
        target: 'a',
        limit: 10,
        before: { scheduledAt: 2000, region: 'us' },
      });
      assert.deepEqual(
        page.map((c) => `${c.scheduledAt}/${c.region}`),
        ['2000/eu', '1000/eu'],
      );
      assert.equal(await store.transaction((tx) => tx.checks.deleteChecksBefore(2000)), 1);
    });

    it('rollups, states and incidents round-trip', async (store) => {
      await store.targets.create(target('a', { downAfter: 4, upAfter: 1 }));
      const rollup = {
        tenant: 't1',
        target: 'a',
        region: 'eu',
        size: 'hour' as const,
        start: 3_600_000,
        checks: 2,
        up: 1,
        latencySumMs: 30.5,
        latency: [0, 1, 1],
        errors: { status: 1 },
      };
      await store.transaction(async (tx) => {
        await tx.checks.putRollups([rollup]);
        await tx.checks.putStates([
          {
            tenant: 't1',
            target: 'a',
            region: 'eu',
            down: true,
            streak: 1,
            streakStart: 5,
            lastScheduledAt: 6,
            incidentStart: 5,
          },
        ]);
        await tx.checks.openIncident({
          tenant: 't1',
          target: 'a',
          region: 'eu',
          startedAt: 5,
          endedAt: null,
          cause: 'refused',
          detail: 'ECONNREFUSED',
        });
        assert.deepEqual(await tx.checks.getRollups([rollup]), [rollup]);
        assert.deepEqual(
          await tx.checks.thresholds('t1', ['a', 'gone']),
          new Map([['a', { downAfter: 4, upAfter: 1 }]]),
        );
        assert.equal(
          (await tx.checks.getStates([{ tenant: 't1', target: 'a', region: 'eu' }]))[0]?.incidentStart,
          5,
        );
        await tx.checks.closeIncident({ tenant: 't1', target: 'a', region: 'eu', startedAt: 5 }, 9);
      });
      assert.deepEqual(
        await store.monitor.rollups({ tenant: 't1', target: 'a', size: 'hour', from: 0, to: 7_200_000 }),
        [rollup],
      );
      const [incident] = await store.monitor.listIncidents('t1', 'a', 10);
      assert.deepEqual(incident, {
        tenant: 't1',
        target: 'a',
        region: 'eu',
        startedAt: 5,
        endedAt: 9,
        cause: 'refused',
        detail: 'ECONNREFUSED',
      });
    });
  });
}
