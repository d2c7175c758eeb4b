import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { runSetup } from '../src/roles/setup.ts';
import { eventually, startTestBeacon } from './helpers/server.ts';
import { dropTopics, ensureKafka, KAFKA_URL, uniquePrefix } from './helpers/services.ts';

ensureKafka();
const prefix = uniquePrefix('start');
const tmp = mkdtempSync(join(tmpdir(), 'beacon-kafka-start-'));
after(async () => {
  await dropTopics(prefix);
  rmSync(tmp, { recursive: true, force: true });
});

test('beacon start on Kafka: messages go through the broker into the store, and shutdown drains', async () => {
  const flags = { log: KAFKA_URL, 'kafka.topicPrefix': prefix, 'kafka.partitions': 2 };
  const report = await runSetup(
    loadConfig({ flags: { ...flags, dataDir: tmp, logLevel: 'silent' } }),
    pino({ level: 'silent' }),
  );
  assert.equal(report.log.created.length, 6);
  const beacon = await startTestBeacon(flags);
  try {
    assert.equal(beacon.log.backend, 'kafka');
    const posted = await beacon.request('/v1/messages/batch', {
      method: 'POST',
      json: [{ a: 1 }, { a: 2 }, { a: 3 }],
    });
    assert.equal(posted.status, 202);
    const page = await eventually(async () => {
      const res = await beacon.request('/v1/messages');
      const body = (await res.json()) as { items: { payload: { a: number } }[] };
      return body.items.length === 3 ? body : undefined;
    }, 30_000);
    assert.deepEqual(
      page.items.map((i) => i.payload.a),
      [1, 2, 3],
    );
  } finally {
    await beacon.destroy();
  }
});
