import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { messageProjection } from '../src/messages/projection.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { startSink } from '../src/sink/sink.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { newRecord } from './contract/log.contract.ts';
import { eventually } from './helpers/server.ts';
import { dropTopics, ensureKafka, openKafkaLog, uniquePrefix } from './helpers/services.ts';

ensureKafka();
const prefix = uniquePrefix('idem');
const dataDir = mkdtempSync(join(tmpdir(), 'beacon-idem-'));
after(async () => {
  await dropTopics(prefix);
  rmSync(dataDir, { recursive: true, force: true });
});

// The contract change docs/architecture.md describes: two API processes cannot see each other's keys,
// so both append; the store's unique key keeps the first record, once.
test('a key appended by two processes is in Kafka twice and stored once, with the first id', async () => {
  const a = await openKafkaLog(prefix);
  const b = await openKafkaLog(prefix);
  const store = sqliteStore({ dataDir });
  await store.open();
  const first = newRecord({ tenant: 'default', entity: 'default', key: 'idem:shared' });
  const retry = newRecord({ tenant: 'default', entity: 'default', key: 'idem:shared' });
  try {
    const [answerA] = await a.append([first]);
    const [answerB] = await b.append([retry]);
    assert.equal(answerA!.duplicate, false);
    assert.equal(answerB!.duplicate, false, 'another process cannot know the key');
    const [again] = await a.append([newRecord({ tenant: 'default', entity: 'default', key: 'idem:shared' })]);
    assert.deepEqual(
      again,
      { id: first.id, receivedAt: first.receivedAt, duplicate: true },
      'same process answers the first',
    );
    assert.deepEqual(
      [...(await a.endOffsets('messages')).values()].reduce((x, y) => x + y, 0),
      2,
    );

    const sink = startSink({
      log: a,
      store,
      projection: messageProjection,
      batchSize: 100,
      config: loadConfig(),
      metrics: new Metrics(),
      logger: pino({ level: 'silent' }),
    });
    try {
      const end = await a.endOffsets('messages');
      await eventually(async () => {
        const saved = await store.checkpoints(messageProjection.group, 'messages');
        const done = [...end].every(
          ([p, next]) => (saved.find((c) => c.partition === p)?.offset ?? 0) >= next,
        );
        return done ? true : undefined;
      }, 30_000);
    } finally {
      await sink.close();
    }
    const rows = await store.messages.list({ tenant: 'default', limit: 10 });
    assert.deepEqual(
      rows.map((r) => r.id),
      [first.id],
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
    await store.close();
  }
});
