import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { migrate, openDatabase } from '../../sqlite/database.ts';
import type { LogRecord } from '../record.ts';
import { EmbeddedLog } from './embedded-log.ts';
import { logMigrations } from './migrations.ts';

function openLog(dataDir: string, writerThread?: boolean): EmbeddedLog {
  return new EmbeddedLog({ dataDir, maxQueue: 100_000, logger: pino({ level: 'silent' }), writerThread });
}

async function readAll(log: EmbeddedLog, want: number, from = 0): Promise<LogRecord[]> {
  const seen: LogRecord[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const consumer = log.consume({
    group: 'g',
    stream: 'messages',
    maxBatch: 100,
    position: (partitions) => Promise.resolve(new Map(partitions.map((p) => [p, from]))),
    handle: (batch) => {
      seen.push(...batch.records);
      if (seen.length >= want) done();
      return Promise.resolve();
    },
  });
  await finished;
  await consumer.close();
  return seen;
}

test('a log written by schema version 1 keeps its records, offsets and idempotency keys', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-log-v1-'));
  const v1 = openDatabase(join(dataDir, 'log.db'), { synchronous: 'full' });
  migrate(v1, logMigrations.slice(0, 1));
  const insert = v1.prepare(
    `INSERT INTO records (stream, tenant, key, entity, id, ts, received_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  insert.run('messages', 't1', 'id-1', '', 'id-1', 1000, 1000, '{"n":1}');
  insert.run('checks', 't1', 'id-2', 'x', 'id-2', 1001, 1001, '{"n":2}');
  insert.run('messages', 't1', 'client-key', '', 'id-3', 1002, 1002, '{"n":3}');
  v1.close();

  const log = openLog(dataDir);
  await log.open();
  try {
    assert.deepEqual(await log.endOffsets('messages'), new Map([[0, 4]]));
    const [retry] = await log.append([
      {
        stream: 'messages',
        tenant: 't1',
        key: 'client-key',
        entity: '',
        id: 'id-9',
        ts: 2000,
        receivedAt: 2000,
        body: { n: 9 },
      },
    ]);
    assert.deepEqual(retry, { id: 'id-3', receivedAt: 1002, duplicate: true });
    const [fresh] = await log.append([
      {
        stream: 'messages',
        tenant: 't1',
        key: 'id-4',
        entity: '',
        id: 'id-4',
        ts: 3000,
        receivedAt: 3000,
        body: {},
      },
    ]);
    assert.equal(fresh!.duplicate, false);
    const records = await readAll(log, 3);
    assert.deepEqual(
      records.map((r) => [r.offset, r.id, r.key, r.body]),
      [
        [1, 'id-1', 'id-1', { n: 1 }],
        [3, 'id-3', 'client-key', { n: 3 }],
        [4, 'id-4', 'id-4', {}],
      ],
    );
  } finally {
    await log.close();
  }
});

test('a large commit is split into chunks and read back whole and in order, from any position', async () => {
  const log = openLog(mkdtempSync(join(tmpdir(), 'beacon-log-chunks-')));
  await log.open();
  try {
    const records = Array.from({ length: 2_500 }, (_, i) => {
      const id = `id-${String(i).padStart(5, '0')}`;
      return {
        stream: 'messages' as const,
        tenant: 't1',
        key: id,
        entity: '',
        id,
        ts: i,
        receivedAt: i,
        body: { i },
      };
    });
    await Promise.all([log.append(records.slice(0, 1_200)), log.append(records.slice(1_200))]);
    const seen = await readAll(log, 2_500);
    assert.deepEqual(
      seen.map((r) => r.offset),
      records.map((_, i) => i + 1),
    );
    assert.deepEqual(
      seen.map((r) => r.body),
      records.map((r) => r.body),
    );
    // A checkpoint in the middle of a chunk resumes at that record, not at the chunk's start.
    const tail = await readAll(log, 1_001, 1_500);
    assert.deepEqual(
      tail.map((r) => r.offset),
      records.slice(1_499).map((_, i) => i + 1_500),
    );
  } finally {
    await log.close();
  }
});

test('retention deletes old records and keys but keeps each stream going from its end offset', async () => {
  const log = openLog(mkdtempSync(join(tmpdir(), 'beacon-log-retention-')));
  await log.open();
  try {
    const at = (n: number, receivedAt: number, key?: string) => ({
      stream: 'messages' as const,
      tenant: 't1',
      key: key ?? `id-${n}`,
      entity: '',
      id: `id-${n}`,
      ts: receivedAt,
      receivedAt,
      body: { n },
    });
    await log.append([at(1, 1000, 'old-key'), at(2, 1000)]);
    await log.append([at(3, 2000)]);
    await log.append([at(4, 9000)]);
    const swept = await log.sweep(5000);
    assert.deepEqual(swept, { chunks: 2, records: 3, keys: 1 });
    // Everything is now expired, but the newest chunk stays: offsets continue, never restart.
    assert.deepEqual(await log.sweep(100_000), { chunks: 0, records: 0, keys: 0 });
    assert.deepEqual(await log.endOffsets('messages'), new Map([[0, 5]]));
    const [again] = await log.append([at(5, 10_000, 'old-key')]);
    assert.equal(again!.duplicate, false, 'an expired idempotency key may be used again');
    const seen = await readAll(log, 2);
    assert.deepEqual(
      seen.map((r) => [r.offset, r.id]),
      [
        [4, 'id-4'],
        [5, 'id-5'],
      ],
    );
  } finally {
    await log.close();
  }
});

for (const writerThread of [true, false]) {
  test(`one commit mixing streams and repeated client keys stores each new record once (writer thread: ${writerThread})`, async () => {
    const log = openLog(mkdtempSync(join(tmpdir(), 'beacon-log-')), writerThread);
    await log.open();
    try {
      const at = 1_700_000_000_000;
      const record = (n: number, patch: Partial<LogRecord> = {}) => {
        const id = `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
        return {
          stream: 'messages' as const,
          tenant: 't1',
          key: id,
          entity: 'e"1',
          id,
          ts: at + n,
          receivedAt: at,
          body: { n },
          ...patch,
        };
      };
      await log.append([record(1, { key: 'k1' })]);
      // Submitted in one event-loop turn, so one commit carries them all.
      const answers = (
        await Promise.all([
          log.append([
            record(2),
            record(3, { key: 'k1' }),
            record(4, { stream: 'checks' }),
            record(5, { key: 'k5' }),
          ]),
          log.append([
            record(6, { key: 'k5' }),
            record(7, { bodyJson: '{"n":7,\n "raw":true}' }),
            record(8, { id: 'odd "id" 8', key: 'odd "id" 8' }),
          ]),
        ])
      ).flat();
      assert.deepEqual(
        answers.map((a) => [a.id.slice(-1), a.duplicate]),
        [
          ['2', false],
          ['1', true],
          ['4', false],
          ['5', false],
          ['5', true],
          ['7', false],
          ['8', false],
        ],
      );
      const messages = await readAll(log, 5);
      assert.deepEqual(
        messages.map((r) => [r.id.slice(-1), r.key.startsWith('k') ? r.key : null, r.offset]),
        [
          ['1', 'k1', 1],
          ['2', null, 2],
          ['5', 'k5', 3],
          ['7', null, 4],
          ['8', null, 5],
        ],
      );
      assert.deepEqual(messages[3]!.body, { n: 7, raw: true });
      // A body's newlines (a pretty-printed batch item) would split its line: it is stored re-encoded.
      assert.equal(messages[3]!.bodyJson, '{"n":7,"raw":true}');
      assert.equal(messages[3]!.entity, 'e"1');
      assert.equal(messages[3]!.ts, at + 7);
    } finally {
      await log.close();
    }
  });
}
