import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageRow } from '../../src/messages/model.ts';
import type { BeaconStore } from '../../src/roles/store.ts';

/** How a backend takes part in the shared store contract. */
export interface StoreContractTarget {
  readonly name: string;
  /** A fresh, opened, empty store. */
  create(): Promise<BeaconStore>;
  readonly skip?: readonly { test: string; reason: string }[];
}

const row = (n: number, patch: Partial<MessageRow> = {}): MessageRow => ({
  tenant: 't1',
  key: `k${n}`,
  id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
  receivedAt: 1_700_000_000_000 + Math.floor(n / 3),
  payload: { n },
  ...patch,
});

/** The behaviour every store backend must show; run once per backend. */
export function runStoreContract(target: StoreContractTarget): void {
  const skipped = (name: string) => target.skip?.find((s) => s.test === name)?.reason;
  const it = (name: string, fn: (store: BeaconStore) => Promise<void>): void =>
    void test(name, { skip: skipped(name) ?? false }, async () => {
      const store = await target.create();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    });

  describe(`Store contract: ${target.name}`, () => {
    it('messages insert once per (tenant, key) and report how many were new', async (store) => {
      const rows = [row(1), row(2), row(3)];
      assert.equal(await store.transaction((tx) => tx.messages.insert(rows)), 3);
      assert.equal(await store.transaction((tx) => tx.messages.insert([row(2), row(4)])), 1);
      assert.equal(await store.transaction((tx) => tx.messages.insert([row(2, { tenant: 't2' })])), 1);
      assert.equal(await store.messages.count('t1'), 4);
      assert.equal(await store.messages.count('t2'), 1);
    });

    it('a record redelivered with no client key (key = id) is stored once', async (store) => {
      const own = (n: number) => row(n, { key: row(n).id });
      assert.equal(await store.transaction((tx) => tx.messages.insert([own(10), own(11)])), 2);
      assert.equal(await store.transaction((tx) => tx.messages.insert([own(11), own(12)])), 1);
      // A client key that repeats with a different id and time (a retry through a log that cannot
      // deduplicate, such as Kafka) is still dropped.
      assert.equal(
        await store.transaction((tx) =>
          tx.messages.insert([row(13), row(13, { id: row(99).id, receivedAt: 1 })]),
        ),
        1,
      );
      assert.equal(await store.messages.count('t1'), 4);
    });

    it('a client key is found again with the message it first named, in its tenant only', async (store) => {
      await store.transaction((tx) => tx.messages.insert([row(40), row(41), row(42, { key: row(42).id })]));
      // A retry of k40 through Kafka: a new id and time, dropped by the store.
      await store.transaction((tx) => tx.messages.insert([row(40, { id: row(98).id, receivedAt: 5 })]));
      const found = await store.messages.firstOf('t1', ['k40', 'k41', 'k-never', row(42).id]);
      assert.deepEqual(
        [...found].sort(([a], [b]) => a.localeCompare(b)),
        [
          ['k40', { id: row(40).id, receivedAt: row(40).receivedAt }],
          ['k41', { id: row(41).id, receivedAt: row(41).receivedAt }],
        ],
      );
      assert.equal((await store.messages.firstOf('t2', ['k40'])).size, 0);
    });

    it('in one transaction, an all-new batch, then one with duplicates, count and store exactly the new rows', async (store) => {
      // Text that CSV and JSON must carry intact: quotes, commas, newlines, tabs, backslashes, non-ASCII.
      const odd = { text: 'a "quoted", comma\nnew line\ttab \\ back ünïcødé ✓', list: [1, null, { x: '"' }] };
      const inserted = await store.transaction(async (tx) => [
        await tx.messages.insert([row(30, { payload: odd }), row(31), row(32, { key: row(32).id })]),
        await tx.messages.insert([row(31), row(33), row(32, { key: row(32).id }), row(34)]),
        await tx.messages.insert([row(35)]),
      ]);
      assert.deepEqual(inserted, [3, 2, 1]);
      const listed = await store.messages.list({ tenant: 't1', limit: 100 });
      assert.deepEqual(
        listed.map((m) => m.id),
        [30, 31, 32, 33, 34, 35].map((n) => row(n).id),
      );
      assert.deepEqual(listed[0]!.payload, odd);
      assert.equal(listed[0]!.receivedAt, row(30).receivedAt);
    });

    it('a batch of hundreds, duplicates spread through it, stores each new row once; payload JSON is kept', async (store) => {
      // Writers insert many rows per statement: duplicates inside one statement, across statements
      // and against earlier batches must all be dropped, and the count must still be exact.
      await store.transaction((tx) => tx.messages.insert([row(500), row(650)]));
      const batch: MessageRow[] = [];
      for (let n = 400; n < 700; n++) {
        batch.push(row(n, { payloadJson: JSON.stringify({ n }) }));
        if (n % 97 === 0) batch.push(row(n, { id: row(n + 10_000).id }));
      }
      batch.push(row(401), row(699, { key: row(699).id, id: row(699).id }));
      assert.equal(await store.transaction((tx) => tx.messages.insert(batch)), 300 - 2);
      const listed = await store.messages.list({ tenant: 't1', limit: 1000 });
      assert.equal(listed.length, 300);
      assert.equal(new Set(listed.map((m) => m.id)).size, 300);
      for (const m of listed) {
        assert.deepEqual(m.payload, { n: Number(m.id.slice(-12)) });
      }
    });

    it('messages list in (receivedAt, id) order by keyset, with bounds, per tenant', async (store) => {
      const rows = Array.from({ length: 20 }, (_, i) => row(i));
      await store.transaction((tx) => tx.messages.insert([...rows].reverse()));
      await store.transaction((tx) => tx.messages.insert([row(100, { tenant: 'other' })]));
      const first = await store.messages.list({ tenant: 't1', limit: 8 });
      assert.deepEqual(
        first.map((m) => (m.payload as { n: number }).n),
        [0, 1, 2, 3, 4, 5, 6, 7],
      );
      const last = first.at(-1)!;
      const second = await store.messages.list({
        tenant: 't1',
        limit: 100,
        after: { receivedAt: last.receivedAt, id: last.id },
      });
      assert.equal(second.length, 12);
      assert.equal((second[0]!.payload as { n: number }).n, 8);
      const bounded = await store.messages.list({
        tenant: 't1',
        limit: 100,
        from: row(3).receivedAt,
        to: row(9).receivedAt,
      });
      assert.deepEqual(
        bounded.map((m) => (m.payload as { n: number }).n),
        [3, 4, 5, 6, 7, 8],
      );
      assert.deepEqual(
        (await store.messages.list({ tenant: 'other', limit: 10 })).map((m) => m.id),
        [row(100).id],
      );
    });

    it('a page stops at its byte budget: the message that reaches it, and one more to tell the rest', async (store) => {
      // Payloads of 1,016 characters as stored: {"n":…,"pad":"xxx…"}.
      const big = (n: number) => row(n, { payload: { n, pad: 'x'.repeat(1000) } });
      await store.transaction((tx) => tx.messages.insert([0, 1, 2, 3, 4, 5].map(big)));
      const sizes = (await store.messages.list({ tenant: 't1', limit: 10 })).map((m) => m.bytes);
      assert.deepEqual(new Set(sizes), new Set([1016]));
      const budget = await store.messages.list({ tenant: 't1', limit: 10, maxBytes: 2500 });
      assert.deepEqual(
        budget.map((m) => (m.payload as { n: number }).n),
        [0, 1, 2, 3],
      );
      // The first message always comes, however large: a page is never empty while messages remain.
      assert.equal((await store.messages.list({ tenant: 't1', limit: 10, maxBytes: 1 })).length, 2);
      // The count limit still applies under a large budget.
      assert.equal((await store.messages.list({ tenant: 't1', limit: 4, maxBytes: 1e9 })).length, 4);
    });

    it('a failed transaction leaves nothing behind, checkpoint included', async (store) => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.messages.insert([row(1)]);
          await tx.saveCheckpoint({ group: 'g', stream: 'messages', partition: 0, offset: 10 });
          throw new Error('projection failed');
        }),
        /projection failed/,
      );
      assert.equal(await store.messages.count('t1'), 0);
      assert.deepEqual(await store.checkpoints('g', 'messages'), []);
    });

    it('projection locks: any number of sink processes share one, a replay holds it alone', async (store) => {
      const inUse = (err: unknown) => (err as { code?: string }).code === 'STORE_IN_USE';
      const first = await store.lockProjections('shared');
      const second = await store.lockProjections('shared');
      await assert.rejects(store.lockProjections('exclusive'), inUse);
      await first();
      await assert.rejects(store.lockProjections('exclusive'), inUse, 'one sink still holds it');
      await second();
      const replay = await store.lockProjections('exclusive');
      await assert.rejects(store.lockProjections('shared'), inUse, 'no sink starts during a replay');
      await assert.rejects(store.lockProjections('exclusive'), inUse, 'nor a second replay');
      await replay();
      await (
        await store.lockProjections('shared')
      )();
    });

    it('checkpoints are saved per group, stream and partition, and overwritten', async (store) => {
      await store.transaction(async (tx) => {
        await tx.saveCheckpoint({ group: 'g', stream: 'messages', partition: 0, offset: 10 });
        await tx.saveCheckpoint({ group: 'g', stream: 'messages', partition: 1, offset: 5 });
        await tx.saveCheckpoint({ group: 'h', stream: 'messages', partition: 0, offset: 99 });
      });
      await store.transaction((tx) =>
        tx.saveCheckpoint({ group: 'g', stream: 'messages', partition: 0, offset: 20 }),
      );
      const saved = await store.checkpoints('g', 'messages');
      assert.deepEqual(saved.map((c) => [c.partition, c.offset]).sort(), [
        [0, 20],
        [1, 5],
      ]);
      assert.deepEqual(await store.checkpoints('g', 'checks'), []);
    });

    it('concurrent transactions do not interleave', async (store) => {
      const order: string[] = [];
      await Promise.all(
        ['a', 'b', 'c'].map((name, i) =>
          store.transaction(async (tx) => {
            order.push(`${name}:start`);
            await new Promise((r) => setTimeout(r, 10));
            await tx.messages.insert([row(i)]);
            order.push(`${name}:end`);
          }),
        ),
      );
      assert.deepEqual(order, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
    });

    it('tenants and tokens: ensure is idempotent, tokens are found by hash and revoked', async (store) => {
      assert.equal(await store.tenants.ensure({ id: 'acme', name: 'Acme', createdAt: 1 }), true);
      assert.equal(await store.tenants.ensure({ id: 'acme', name: 'Other', createdAt: 2 }), false);
      assert.equal((await store.tenants.get('acme'))?.name, 'Acme');
      assert.equal(await store.tenants.get('nobody'), undefined);
      const token = {
        id: 'tok1',
        tenant: 'acme',
        name: 'ci',
        scopes: ['ingest', 'read'] as const,
        hash: 'h1',
        createdAt: 5,
        revokedAt: null,
      };
      await store.tenants.addToken({ ...token, scopes: [...token.scopes] });
      assert.deepEqual(await store.tenants.tokenByHash('h1'), { ...token, scopes: ['ingest', 'read'] });
      assert.equal(await store.tenants.revokeToken('other-tenant', 'tok1', 9), false);
      assert.equal(await store.tenants.revokeToken('acme', 'tok1', 9), true);
      assert.equal(await store.tenants.revokeToken('acme', 'tok1', 10), false);
      assert.equal((await store.tenants.tokenByHash('h1'))?.revokedAt, 9);
      assert.equal((await store.tenants.listTokens('acme')).length, 1);
    });

    it('badge tokens: one per tenant, found by hash, replaced by a rotation, deleted', async (store) => {
      for (const id of ['acme', 'beta']) await store.tenants.ensure({ id, name: id, createdAt: 1 });
      assert.equal(await store.badgeTokens.createdAt('acme'), undefined);
      assert.equal(await store.badgeTokens.tenantOf('b1'), undefined);
      await store.badgeTokens.put('acme', 'b1', 5);
      await store.badgeTokens.put('beta', 'b2', 6);
      assert.equal(await store.badgeTokens.tenantOf('b1'), 'acme');
      assert.equal(await store.badgeTokens.tenantOf('b2'), 'beta');
      assert.equal(await store.badgeTokens.createdAt('acme'), 5);
      // A rotation: the old secret opens nothing any more.
      await store.badgeTokens.put('acme', 'b3', 7);
      assert.equal(await store.badgeTokens.tenantOf('b1'), undefined);
      assert.equal(await store.badgeTokens.tenantOf('b3'), 'acme');
      assert.equal(await store.badgeTokens.createdAt('acme'), 7);
      assert.equal(await store.badgeTokens.delete('acme'), true);
      assert.equal(await store.badgeTokens.delete('acme'), false);
      assert.equal(await store.badgeTokens.tenantOf('b3'), undefined);
      assert.equal(await store.badgeTokens.tenantOf('b2'), 'beta');
    });
  });
}
