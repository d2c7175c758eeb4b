import { after, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { dropTopics, ensureKafka, openKafkaLog, uniquePrefix } from '../helpers/services.ts';
import type { Appended } from '../../src/log/record.ts';
import { newRecord, runLogContract } from './log.contract.ts';

ensureKafka();
const run = uniquePrefix('contract');
let n = 0;
after(() => dropTopics(run));

runLogContract({
  name: 'kafka',
  // Each log gets its own topics, so every test starts on an empty log.
  create: () => openKafkaLog(`${run}${++n}.`),
});

test('appends made while a produce request is out go together in the next one', async () => {
  const requests: number[] = [];
  const log = await openKafkaLog(`${run}${++n}.`, { onCommit: (records) => requests.push(records) });
  try {
    const first = log.append([newRecord()]);
    // Five more appends, each in a turn of its own: one request each, unless they wait for the
    // request that is out and then share the next.
    const rest: Promise<Appended[]>[] = [];
    for (let turn = 0; turn < 5; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      rest.push(log.append([newRecord(), newRecord()]));
    }
    const answers = (await Promise.all([first, ...rest])).flat();
    assert.equal(answers.length, 11);
    assert.ok(answers.every((a) => !a.duplicate));
    assert.equal(requests[0], 1);
    assert.equal(
      requests.reduce((a, b) => a + b, 0),
      11,
    );
    assert.ok(requests.length < 6, `one request per append: ${requests.join(', ')}`);
  } finally {
    await log.close();
  }
});

test('an append larger than the topic takes is refused alone (413); appends beside it are stored', async () => {
  // Kafka's default max.message.bytes: this topic never was set up for large batches.
  const log = await openKafkaLog(`${run}${++n}.`, { maxMessageBytes: 1024 * 1024 });
  try {
    // 3 MB of random base64: zstd cannot bring it under 1 MiB.
    const big = newRecord({ body: { blob: randomBytes(2_250_000).toString('base64') } });
    const small = () => log.append([newRecord(), newRecord()]);
    const before = small();
    const refused = log.append([big]);
    const after = small();
    await assert.rejects(refused, (err: Error & { code?: string }) => err.code === 'BODY_TOO_LARGE');
    const answers = [...(await before), ...(await after)];
    assert.equal(answers.length, 4);
    assert.ok(answers.every((a) => !a.duplicate));
    // The broker is not held to be away: the next append is stored at once.
    assert.equal((await small()).length, 2);
  } finally {
    await log.close();
  }
});
