import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { migrate, openDatabase } from '../../sqlite/database.ts';
import { storeMigrations } from './migrations.ts';
import { SqliteStore } from './sqlite-store.ts';

test('messages stored under schema version 1 survive the move to client-only keys', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-store-v1-'));
  const v1 = openDatabase(join(dataDir, 'beacon.db'), { synchronous: 'normal' });
  migrate(v1, storeMigrations.slice(0, 1));
  const insert = v1.prepare(
    'INSERT INTO messages (tenant, received_at, id, key, payload) VALUES (?, ?, ?, ?, ?)',
  );
  insert.run('t1', 1000, 'id-1', 'id-1', '{"n":1}');
  insert.run('t1', 1001, 'id-2', 'client-key', '{"n":2}');
  v1.close();

  const store = new SqliteStore({ dataDir });
  const applied = await store.open();
  try {
    assert.ok(applied.includes('005_messages_client_keys_only'), applied.join());
    const page = await store.messages.list({ tenant: 't1', limit: 10 });
    assert.deepEqual(
      page.map((m) => [m.id, m.payload]),
      [
        ['id-1', { n: 1 }],
        ['id-2', { n: 2 }],
      ],
    );
    const again = await store.transaction((tx) =>
      tx.messages.insert([
        { tenant: 't1', key: 'client-key', id: 'id-3', receivedAt: 2000, payload: {} },
        { tenant: 't1', key: 'id-1', id: 'id-1', receivedAt: 1000, payload: {} },
      ]),
    );
    assert.equal(again, 0);
  } finally {
    await store.close();
  }
});
