import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DerivedFrame, Log, RecordBatch } from '../../src/log/log.ts';
import type { LogRecord, NewRecord, Stream } from '../../src/log/record.ts';

/** How a backend takes part in the shared log contract. */
export interface LogContractTarget {
  readonly name: string;
  /** A fresh, opened log with no records. */
  create(): Promise<Log>;
  /** Tests this backend cannot run, with the reason. */
  readonly skip?: readonly { test: string; reason: string }[];
}

let seq = 0;
export function newRecord(patch: Partial<NewRecord> = {}): NewRecord {
  seq += 1;
  const id = `00000000-0000-7000-8000-${String(seq).padStart(12, '0')}`;
  return {
    stream: 'messages',
    tenant: 't1',
    key: id,
    entity: 'e1',
    id,
    ts: 1_700_000_000_000 + seq,
    receivedAt: 1_700_000_000_000 + seq,
    body: { seq },
    ...patch,
  };
}

/** Collects everything a consumer group sees until `want` records arrived. */
async function consumeUntil(
  log: Log,
  options: { group: string; stream?: Stream; want: number; from?: Map<number, number>; failFirst?: number },
): Promise<{ records: LogRecord[]; batches: RecordBatch[] }> {
  const records: LogRecord[] = [];
  const batches: RecordBatch[] = [];
  let failures = options.failFirst ?? 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const consumer = log.consume({
    group: options.group,
    stream: options.stream ?? 'messages',
    maxBatch: 7,
    position: (partitions) => Promise.resolve(new Map(partitions.map((p) => [p, options.from?.get(p) ?? 0]))),
    handle: (batch) => {
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('store down'));
      }
      batches.push(batch);
      records.push(...batch.records);
      if (records.length >= options.want) resolveDone();
      return Promise.resolve();
    },
  });
  const timer = setTimeout(resolveDone, 15_000);
  await done;
  clearTimeout(timer);
  await consumer.close();
  return { records, batches };
}

/** The behaviour every Log backend must show; run once per backend. */
export function runLogContract(target: LogContractTarget): void {
  const skipped = (name: string) => target.skip?.find((s) => s.test === name)?.reason;
  const it = (name: string, fn: () => Promise<void>): void =>
    void test(name, { skip: skipped(name) ?? false }, fn);

  describe(`Log contract: ${target.name}`, () => {
    it('a record that cannot be encoded is refused alone; appends beside it commit', async () => {
      const log = await target.create();
      try {
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        const good = [newRecord(), newRecord()];
        // Submitted in one event-loop turn, so without the check they would share one commit.
        const outcomes = await Promise.allSettled([
          log.append([good[0]!]),
          log.append([newRecord({ body: cyclic })]),
          log.append([newRecord({ ts: Number.NaN })]),
          log.append([good[1]!]),
        ]);
        assert.deepEqual(
          outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code)),
          ['ok', 'RECORD_INVALID', 'RECORD_INVALID', 'ok'],
        );
        const { records } = await consumeUntil(log, { group: 'isolation', want: 2 });
        assert.deepEqual(
          records.map((r) => r.id),
          good.map((r) => r.id),
        );
      } finally {
        await log.close();
      }
    });

    it('append answers each record with its id and receivedAt, in order', async () => {
      const log = await target.create();
      try {
        const records = [newRecord(), newRecord(), newRecord()];
        const answers = await log.append(records);
        assert.deepEqual(
          answers,
          records.map((r) => ({ id: r.id, receivedAt: r.receivedAt, duplicate: false })),
        );
      } finally {
        await log.close();
      }
    });

    it('a record whose key the log already holds is answered with the first record', async () => {
      const log = await target.create();
      try {
        const first = newRecord({ key: 'same' });
        await log.append([first]);
        const [again] = await log.append([newRecord({ key: 'same' })]);
        assert.deepEqual(again, { id: first.id, receivedAt: first.receivedAt, duplicate: true });
        const [otherTenant] = await log.append([newRecord({ key: 'same', tenant: 't2' })]);
        assert.equal(otherTenant!.duplicate, false);
      } finally {
        await log.close();
      }
    });

    it('derived frames reach every tailer, this process included, until it stops tailing', async () => {
      const log = await target.create();
      try {
        const received: DerivedFrame[] = [];
        let arrived: () => void = () => undefined;
        const stop = log.tailDerived((frames) => {
          received.push(...frames);
          arrived();
        });
        const frame: DerivedFrame = {
          tenant: 't1',
          stream: 'sensor-events',
          entity: 'room',
          frame: JSON.stringify({ type: 'count', space: 'room', count: 3 }),
        };
        // A tail starts from its own time, so publish until the first frame shows up.
        const deadline = Date.now() + 20_000;
        while (received.length === 0 && Date.now() < deadline) {
          const seen = new Promise<void>((resolve) => (arrived = resolve));
          log.publishDerived([frame]);
          await Promise.race([seen, new Promise((r) => setTimeout(r, 500))]);
        }
        assert.deepEqual(received[0], frame);
        stop();
        const before = received.length;
        await new Promise((r) => setTimeout(r, 300));
        const settled = received.length;
        log.publishDerived([frame]);
        await new Promise((r) => setTimeout(r, 500));
        assert.ok(settled >= before);
        assert.equal(received.length, settled, 'a frame arrived after the tail stopped');
      } finally {
        await log.close();
      }
    });

    it('a consumer receives every record of its stream once, in order, with body intact', async () => {
      const log = await target.create();
      try {
        const records = Array.from({ length: 30 }, () => newRecord());
        await log.append(records.slice(0, 15));
        await log.append([newRecord({ stream: 'checks' })]);
        await log.append(records.slice(15));
        const { records: seen, batches } = await consumeUntil(log, { group: 'g1', want: 30 });
        assert.deepEqual(
          seen.map((r) => r.id),
          records.map((r) => r.id),
        );
        assert.deepEqual(seen[3]!.body, records[3]!.body);
        assert.equal(seen[3]!.ts, records[3]!.ts);
        for (const b of batches) assert.equal(b.nextOffset, b.records.at(-1)!.offset + 1);
      } finally {
        await log.close();
      }
    });

    it('a consumer resumes from the position it is given', async () => {
      const log = await target.create();
      try {
        const records = Array.from({ length: 10 }, () => newRecord());
        await log.append(records);
        const { batches } = await consumeUntil(log, { group: 'g2', want: 10 });
        const middle = batches[0]!;
        const resumed = await consumeUntil(log, {
          group: 'g2',
          want: 10 - middle.records.length,
          from: new Map([[middle.partition, middle.nextOffset]]),
        });
        assert.deepEqual(
          resumed.records.map((r) => r.id),
          records.slice(middle.records.length).map((r) => r.id),
        );
      } finally {
        await log.close();
      }
    });

    it('a batch whose handler failed is offered again', async () => {
      const log = await target.create();
      try {
        const records = Array.from({ length: 5 }, () => newRecord());
        await log.append(records);
        const { records: seen } = await consumeUntil(log, { group: 'g3', want: 5, failFirst: 2 });
        assert.deepEqual(
          seen.map((r) => r.id),
          records.map((r) => r.id),
        );
      } finally {
        await log.close();
      }
    });

    it('records appended while a consumer waits reach it', async () => {
      const log = await target.create();
      try {
        const pending = consumeUntil(log, { group: 'g4', want: 3 });
        await new Promise((r) => setTimeout(r, 100));
        const records = [newRecord(), newRecord(), newRecord()];
        await log.append(records);
        const { records: seen } = await pending;
        assert.deepEqual(
          seen.map((r) => r.id),
          records.map((r) => r.id),
        );
      } finally {
        await log.close();
      }
    });

    it('tail listeners get committed records, duplicates excluded', async () => {
      const log = await target.create();
      try {
        const seen: string[] = [];
        const stop = log.tail((records) => seen.push(...records.map((r) => r.id)));
        // A second listener marks how far delivery got, so the test waits on events, not on time.
        const marks: string[] = [];
        let marked: (() => void) | undefined;
        log.tail((records) => {
          marks.push(...records.map((r) => r.id));
          marked?.();
        });
        const reached = async (id: string) => {
          while (!marks.includes(id)) await new Promise<void>((r) => (marked = r));
        };
        const a = newRecord({ key: 'tail-a' });
        await log.append([a, newRecord({ key: 'tail-a' })]);
        const b = newRecord();
        await log.append([b]);
        await reached(b.id);
        stop();
        // Listeners are called in one pass per delivery: once the marker has c, the stopped one would have too.
        const c = newRecord();
        await log.append([c]);
        await reached(c.id);
        assert.deepEqual(seen, [a.id, b.id]);
      } finally {
        await log.close();
      }
    });

    it('end offsets lie past the last record of the stream', async () => {
      const log = await target.create();
      try {
        await log.append([newRecord(), newRecord()]);
        const { batches } = await consumeUntil(log, { group: 'g5', want: 2 });
        const end = await log.endOffsets('messages');
        const last = batches.at(-1)!;
        assert.equal(end.get(last.partition), last.nextOffset);
      } finally {
        await log.close();
      }
    });

    it('close commits appends already submitted, then refuses new ones', async () => {
      const log = await target.create();
      const pending = log.append([newRecord()]);
      const closing = log.close();
      const [answer] = await pending;
      assert.equal(answer!.duplicate, false);
      await closing;
      await assert.rejects(log.append([newRecord()]), (err: { code?: string }) =>
        ['SHUTTING_DOWN', 'LOG_UNAVAILABLE'].includes(err.code ?? ''),
      );
    });
  });
}
