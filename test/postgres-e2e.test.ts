import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnBeacon } from './helpers/process.ts';
import { freshDatabase, sqlRows } from './helpers/postgres.ts';
import { eventually } from './helpers/server.ts';

const TOKEN = 'pg-e2e-admin-token-0123456789abcdef';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

interface Page {
  items: { id: string; receivedAt: string; payload: Record<string, unknown> }[];
  next: string | null;
}

test('beacon start --store postgres://…: messages API end to end, 10,000 messages paged without gaps', async () => {
  const db = await freshDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'beacon-pg-e2e-'));
  const beacon = await spawnBeacon(dir, { BEACON_ADMIN_TOKEN: TOKEN }, ['--store', db.url]);
  try {
    const single = await fetch(`${beacon.url}/v1/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ hello: 'world', nested: { z: 1, a: [1, 'two', null] } }),
    });
    assert.equal(single.status, 202);
    const first = (await single.json()) as { id: string };

    const accepted = [first.id];
    for (let batch = 0; batch < 10; batch++) {
      const res = await fetch(`${beacon.url}/v1/messages/batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ batch, i }))),
      });
      assert.equal(res.status, 202);
      accepted.push(...((await res.json()) as { items: { id: string }[] }).items.map((i) => i.id));
    }
    assert.equal(accepted.length, 10_001);

    await eventually(
      async () => {
        const [row] = await sqlRows<{ n: string }>(db.url, 'SELECT count(*) AS n FROM messages');
        return Number(row!.n) === accepted.length ? true : undefined;
      },
      60_000,
      'the sink to store 10,001 messages in PostgreSQL',
    );

    // Page through with the API at 100 a page: every message once, in (receivedAt, id) order.
    const seen: Page['items'] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const after: string = cursor ? `&after=${cursor}` : '';
      const res: Response = await fetch(`${beacon.url}/v1/messages?limit=100${after}`, {
        headers,
      });
      assert.equal(res.status, 200);
      const page = (await res.json()) as Page;
      seen.push(...page.items);
      cursor = page.next;
      pages++;
    } while (cursor);
    assert.equal(pages, 101);
    assert.deepEqual(
      seen.map((m) => m.id).sort(),
      [...accepted].sort(),
      'every accepted message once, none missing',
    );
    for (let i = 1; i < seen.length; i++) {
      const a = seen[i - 1]!;
      const b = seen[i]!;
      assert.ok(
        a.receivedAt < b.receivedAt || (a.receivedAt === b.receivedAt && a.id < b.id),
        `order at ${i}`,
      );
    }
    assert.deepEqual(seen.find((m) => m.id === first.id)?.payload, {
      hello: 'world',
      nested: { z: 1, a: [1, 'two', null] },
    });

    // The rows live in the daily partitions of the days they were received, with the tenant on each.
    const placed = await sqlRows<{ partition: string; tenant: string }>(
      db.url,
      'SELECT DISTINCT tableoid::regclass::text AS partition, tenant FROM messages ORDER BY 1',
    );
    const days = [...new Set(seen.map((m) => `messages_p${m.receivedAt.slice(0, 10).replaceAll('-', '')}`))];
    assert.deepEqual(
      placed.map((p) => [p.partition, p.tenant]),
      days.map((d) => [d, 'default']),
    );
  } finally {
    beacon.child.kill('SIGTERM');
    assert.equal(await beacon.exited, 0, beacon.output());
    rmSync(dir, { recursive: true, force: true });
  }
});
