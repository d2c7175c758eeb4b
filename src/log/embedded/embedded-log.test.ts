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

/** The log file's size once its write-ahead log is folded in: its pages, free ones given back. */
function fileSize(file: string): number {
  const db = openDatabase(file, { synchronous: 'full', readonly: true });
  try {
    return (
      (db.pragma('page_count', { simple: true }) as number) *
      (db.pragma('page_size', { simple: true }) as number)
    );
  } finally {
    db.close();
  }
}

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

test('past the hot window chunks are archived compressed and read back transparently, from any position', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-log-archive-'));
  const log = new EmbeddedLog({
    dataDir,
    maxQueue: 100_000,
    logger: pino({ level: 'silent' }),
    hotMinutes: 10,
  });
  await log.open();
  try {
    const T = Date.UTC(2026, 0, 5);
    const message = (i: number, receivedAt = T) => ({
      stream: 'messages' as const,
      tenant: 't1',
      key: i % 10 === 0 ? `client-${i}` : `id-${i}`,
      entity: '',
      id: `id-${i}`,
      ts: receivedAt,
      receivedAt,
      body: { device: `device-${i % 7}`, value: i, unit: 'celsius' },
    });
    // One commit per record, as single messages arrive: 1,500 small chunks.
    for (let i = 1; i <= 1500; i++) await log.append([message(i)]);
    await log.append([message(1501, T + 9 * 60_000)]);
    const before = await readAll(log, 1501);
    const bytes = () => fileSize(join(dataDir, 'log.db'));
    const textBytes = bytes();

    const totals = await log.maintain(T + 10 * 60_000 + 1);
    assert.deepEqual(totals.archived.records, 1500, 'every record past the hot window, none inside it');
    assert.equal(totals.archived.chunks, 1500);
    assert.ok(totals.archived.bytesOut * 4 < totals.archived.bytesIn, JSON.stringify(totals.archived));
    assert.ok(bytes() < textBytes, `the file gave back what it freed: ${bytes()} of ${textBytes}`);
    // Read back whole, in order, with offsets, bodies and client keys; and from the middle of a chunk.
    assert.deepEqual(await readAll(log, 1501), before);
    const tail = await readAll(log, 701, 801);
    assert.deepEqual(tail, before.slice(800));
    // Archive chunks are extended, not left small, as the hot window moves on.
    const later = await log.maintain(T + 20 * 60_000);
    assert.equal(later.archived.records, 1);
    assert.deepEqual(await readAll(log, 1501), before);
    // A retried client key is still answered from the log within its window.
    const [retry] = await log.append([{ ...message(10), id: 'id-new' }]);
    assert.deepEqual(retry, { id: 'id-10', receivedAt: T, duplicate: true });
  } finally {
    await log.close();
  }
});

test('retention, the idempotency window and the store release each delete what is theirs, and offsets carry on', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'beacon-log-retention-'));
  let stored = 0;
  const log = new EmbeddedLog({
    dataDir,
    maxQueue: 100_000,
    logger: pino({ level: 'silent' }),
    hotMinutes: 10,
    retentionDays: 2,
    idempotencyHours: 24,
    keylessStreams: ['checks'],
    released: () => Promise.resolve(new Map([['checks', stored]])),
  });
  await log.open();
  try {
    const T = Date.UTC(2026, 0, 5);
    const record = (stream: 'messages' | 'checks', n: number, receivedAt: number, key?: string) => ({
      stream,
      tenant: 't1',
      key: key ?? `id-${n}`,
      entity: 'e',
      id: `id-${n}`,
      ts: receivedAt,
      receivedAt,
      body: { n },
    });
    await log.append([record('messages', 1, T, 'order-1'), record('messages', 2, T)]);
    await log.append([record('messages', 3, T + 30 * 3_600_000)]);
    // Checks keep their key in the record, but the log does not refuse a repeat: the store does.
    const check = (n: number, at: number) => record('checks', n, at, `web@eu@${at}`);
    const answers = await log.append([check(10, T), check(11, T)]);
    assert.deepEqual(
      answers.map((a) => a.duplicate),
      [false, false],
    );
    await log.append([check(12, T + 5 * 60_000)]);
    await log.append([check(13, T + 30 * 3_600_000)]);
    const checksOf = () =>
      new Promise<LogRecord[]>((resolve) => {
        const seen: LogRecord[] = [];
        const consumer = log.consume({
          group: 'c',
          stream: 'checks',
          maxBatch: 100,
          position: (partitions) => Promise.resolve(new Map(partitions.map((p) => [p, 0]))),
          handle: (batch) => {
            seen.push(...batch.records);
            if (batch.nextOffset >= 5) void consumer.close().then(() => resolve(seen));
            return Promise.resolve();
          },
        });
      });
    assert.deepEqual(
      (await checksOf()).map((r) => [r.offset, r.key]),
      [
        [1, `web@eu@${T}`],
        [2, `web@eu@${T}`],
        [3, `web@eu@${T + 300_000}`],
        [4, `web@eu@${T + 108_000_000}`],
      ],
    );

    // Past the hot window the store has stored checks 1 and 2 (its sink's checkpoint is 3): they go,
    // unarchived; check 3 is not stored yet, so it is archived and kept.
    stored = 3;
    const day1 = await log.maintain(T + 20 * 3_600_000);
    assert.deepEqual(day1.released, { chunks: 1, records: 2 });
    assert.equal(day1.keys, 0, 'the key is inside its window');
    const [retry] = await log.append([record('messages', 9, T + 20 * 3_600_000, 'order-1')]);
    assert.equal(retry!.duplicate, true);

    // A day on, the key window has passed: a retry with the key is a new record.
    const day2 = await log.maintain(T + 25 * 3_600_000);
    assert.equal(day2.keys, 1);
    const [late] = await log.append([record('messages', 8, T + 25 * 3_600_000, 'order-1')]);
    assert.equal(late!.duplicate, false);

    // Three days on, retention takes what is older than two days (messages 1 and 2, check 3), but each
    // stream's newest chunk stays, however old (message 4, check 4).
    stored = 5;
    const day3 = await log.maintain(T + 74 * 3_600_000);
    assert.deepEqual([day3.expired.records, day3.released.records], [3, 0]);
    assert.deepEqual(await log.endOffsets('messages'), new Map([[0, 5]]));
    assert.deepEqual(await log.endOffsets('checks'), new Map([[0, 5]]));
    const [next] = await log.append([record('messages', 20, T + 74 * 3_600_000)]);
    assert.equal(next!.duplicate, false);
    assert.deepEqual(
      (await readAll(log, 3, 0)).map((r) => [r.offset, r.id]),
      [
        [3, 'id-3'],
        [4, 'id-8'],
        [5, 'id-20'],
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

test('a consumer hands on at most about 1 MiB of records at once, however many maxBatch allows', async () => {
  const log = openLog(mkdtempSync(join(tmpdir(), 'beacon-log-bytes-')));
  await log.open();
  try {
    // Twelve commits (so twelve chunks) of one 300 KB message each.
    for (let i = 0; i < 12; i++) {
      await log.append([
        {
          stream: 'messages',
          tenant: 't1',
          key: `k${i}`,
          entity: '',
          id: `id-${i}`,
          ts: 1000 + i,
          receivedAt: 1000 + i,
          body: { i, pad: 'x'.repeat(300_000) },
        },
      ]);
    }
    const sizes: number[] = [];
    let seen = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const consumer = log.consume({
      group: 'g',
      stream: 'messages',
      maxBatch: 5000,
      position: (partitions) => Promise.resolve(new Map(partitions.map((p) => [p, 0]))),
      handle: (batch) => {
        sizes.push(batch.records.length);
        seen += batch.records.length;
        if (seen >= 12) done();
        return Promise.resolve();
      },
    });
    await finished;
    await consumer.close();
    // Whole chunks are handed on until one takes the batch past 1 MiB: four of 300 KB.
    assert.deepEqual(sizes, [4, 4, 4]);
  } finally {
    await log.close();
  }
});
