import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageQuery, MessageRow } from '../../src/messages/model.ts';
import type { BeaconStore } from '../../src/roles/store.ts';
import { withStorePair } from '../helpers/postgres.ts';

/** A small deterministic generator, so a failure replays exactly. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

const texts = ['plain', 'tab\there', 'line\nbreak', '"quoted", comma', 'ünïcødé ✓', 'back\\slash', ''];

/**
 * 3,000 rows over 4 tenants: shared timestamps, client keys and id keys, repeated keys, redeliveries,
 * odd text, payload keys in odd order.
 */
function workload(): MessageRow[][] {
  const next = random(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const base = Date.UTC(2026, 0, 31, 23, 59, 0);
  const rows: MessageRow[] = [];
  for (let i = 0; i < 3000; i++) {
    const roll = next();
    if (roll < 0.05 && i > 0) {
      // A redelivery: the very same record again.
      rows.push(rows[Math.floor(next() * rows.length)]!);
      continue;
    }
    const keyed = roll < 0.15 && i > 0 ? rows[Math.floor(next() * rows.length)]! : undefined;
    const id = `0190${Math.floor(next() * 0xffff)
      .toString(16)
      .padStart(4, '0')}-0000-7000-8000-${String(i).padStart(12, '0')}`;
    rows.push({
      tenant: keyed?.tenant ?? pick(['acme', 'Acme', 'b-2', 'z']),
      // Half the records carry a client key (some repeating an earlier one); the rest use their id.
      key: keyed?.key ?? (next() < 0.5 ? `key-${i}-${pick(texts)}` : id),
      id,
      // Minutes around midnight, many rows per millisecond: ties are broken by id, across partitions.
      receivedAt: base + Math.floor(next() * 120_000),
      payload: { z: i, a: pick(texts), nested: { list: [1, null, true, pick(texts)] } },
    });
  }
  const batches: MessageRow[][] = [];
  for (let i = 0; i < rows.length;) {
    const size = 1 + Math.floor(next() * 400);
    batches.push(rows.slice(i, i + size));
    i += size;
  }
  return batches;
}

/**
 * Every page of a query, following the keyset cursor as the API does, as JSON text: so payloads must
 * match in key order too, as a client reading the API would see them.
 */
async function pages(store: BeaconStore, query: Omit<MessageQuery, 'after'>): Promise<string[]> {
  const all: string[] = [];
  let after: MessageQuery['after'];
  for (;;) {
    const page = await store.messages.list({ ...query, ...(after ? { after } : {}) });
    all.push(JSON.stringify(page));
    if (page.length < query.limit) return all;
    const last = page.at(-1)!;
    after = { receivedAt: last.receivedAt, id: last.id };
  }
}

test('SQLite and PostgreSQL give identical answers to the same writes and queries', async () => {
  await withStorePair(async ({ sqlite, postgres }) => {
    for (const batch of workload()) {
      const [a, b] = await Promise.all(
        [sqlite, postgres].map((s) => s.transaction((tx) => tx.messages.insert(batch))),
      );
      assert.equal(b, a, 'same count of new rows for every batch');
    }
    const base = Date.UTC(2026, 0, 31, 23, 59, 0);
    for (const tenant of ['acme', 'Acme', 'b-2', 'z', 'nobody']) {
      assert.equal(await postgres.messages.count(tenant), await sqlite.messages.count(tenant), tenant);
      for (const query of [
        { tenant, limit: 37 },
        { tenant, limit: 1000 },
        { tenant, limit: 50, from: base + 30_000, to: base + 61_000 },
        { tenant, limit: 10, from: base + 60_000 },
        { tenant, limit: 10, to: base + 1 },
      ]) {
        assert.deepEqual(await pages(postgres, query), await pages(sqlite, query), JSON.stringify(query));
      }
    }
  });
});
