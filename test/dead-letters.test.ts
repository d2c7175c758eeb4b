// A record a projection refuses fails alone: the sink sets it aside as a dead letter, with its error,
// in the transaction that moves the checkpoint past it, and stores every other record of the batch.
// A failure that may pass (the store busy) is retried instead. Both stores, the real embedded log.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../src/config/load.ts';
import { EmbeddedLog } from '../src/log/embedded/embedded-log.ts';
import type { LogRecord } from '../src/log/record.ts';
import type { MessageWriters } from '../src/messages/store/repositories.ts';
import { Metrics } from '../src/observability/metrics.ts';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import type { BeaconStore } from '../src/roles/store.ts';
import type { Projection } from '../src/sink/projection.ts';
import { startSink } from '../src/sink/sink.ts';
import { freshPostgresStore } from './helpers/postgres.ts';
import { eventually, startTestBeacon } from './helpers/server.ts';

const logger = pino({ level: 'silent' });
const config = loadConfig();

/**
 * Stores messages, but refuses any whose body says `poison` (as a projection whose logic or data
 * meets a case it cannot handle), and fails once with a store-busy error when told to.
 */
function projection(busyOnce: { armed: boolean }): Projection<MessageWriters> {
  return {
    stream: 'messages',
    group: 'sink-dead-letter-test',
    apply: (tx, records: readonly LogRecord[]) => {
      if (busyOnce.armed) {
        busyOnce.armed = false;
        throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      }
      if (records.some((r) => (r.body as { poison?: boolean }).poison)) {
        throw new TypeError('cannot read properties of a poison record');
      }
      return tx.messages.insert(
        records.map((r) => ({
          tenant: r.tenant,
          key: r.key,
          id: r.id,
          receivedAt: r.receivedAt,
          payload: r.body,
        })),
      );
    },
  };
}

const backends: { name: string; open(): Promise<BeaconStore> }[] = [
  {
    name: 'sqlite',
    async open() {
      const store = sqliteStore({ dataDir: mkdtempSync(join(tmpdir(), 'beacon-dead-')) });
      await store.open();
      return store;
    },
  },
  { name: 'postgres', open: freshPostgresStore },
];

for (const backend of backends) {
  describe(`dead letters: ${backend.name}`, () => {
    test('records a projection refuses are set aside one by one; the rest of each batch is stored', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'beacon-dead-log-'));
      const store = await backend.open();
      const log = new EmbeddedLog({ dataDir: dir, maxQueue: 10_000, logger, writerThread: false });
      await log.open();
      const metrics = new Metrics();
      try {
        const now = Date.now();
        const records = Array.from({ length: 40 }, (_, i) => ({
          stream: 'messages' as const,
          tenant: 'default',
          key: `k${i}`,
          entity: 'default',
          id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
          ts: now,
          receivedAt: now,
          body: { n: i, ...(i === 3 || i === 17 || i === 18 ? { poison: true } : {}) },
        }));
        await log.append(records);
        const busy = { armed: true };
        const sink = startSink({
          log,
          store,
          projection: projection(busy),
          batchSize: 25,
          metrics,
          logger,
          config,
        });
        const end = (await log.endOffsets('messages')).get(0)!;
        await eventually(async () => {
          const [saved] = await store.checkpoints('sink-dead-letter-test', 'messages');
          return saved && saved.offset >= end ? true : undefined;
        });
        await sink.close();

        assert.equal(busy.armed, false, 'the busy failure happened, and was retried rather than set aside');
        assert.equal(await store.messages.count('default'), 37, 'every record but the three refused');
        const letters = await store.deadLetters({ tenant: 'default', limit: 10 });
        assert.deepEqual(letters.map((d) => d.key).sort(), ['k17', 'k18', 'k3']);
        for (const d of letters) {
          assert.equal(d.error, 'cannot read properties of a poison record');
          assert.equal(d.group, 'sink-dead-letter-test');
          const wire = JSON.parse(d.record) as { v: number; id: string; body: { poison: boolean } };
          assert.equal(wire.v, 1);
          assert.equal(wire.id, d.id);
          assert.equal(wire.body.poison, true);
        }
        assert.deepEqual(await store.deadLetters({ tenant: 'someone-else', limit: 10 }), []);
        const sample = (await metrics.registry.getSingleMetric('beacon_sink_dead_letters_total')!.get())
          .values;
        assert.equal(sample.find((v) => v.labels.stream === 'messages')?.value, 3);
        // Paging newest first covers each once.
        const first = await store.deadLetters({ tenant: 'default', limit: 2 });
        const rest = await store.deadLetters({ tenant: 'default', limit: 2, before: first.at(-1) });
        assert.equal(new Set([...first, ...rest].map((d) => d.key)).size, 3);
        assert.equal(await store.dismissDeadLetter('default', letters[0]!), true);
        assert.equal(await store.dismissDeadLetter('default', letters[0]!), false);
        assert.equal((await store.deadLetters({ tenant: 'default', limit: 10 })).length, 2);
      } finally {
        await log.close();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

test('GET /v1/dead-letters lists the tenant’s dead letters for an admin token; DELETE dismisses one', async () => {
  const beacon = await startTestBeacon();
  try {
    await beacon.store.transaction(async (tx) => {
      for (const offset of [5, 9]) {
        await tx.saveDeadLetter({
          group: 'sink-messages',
          stream: 'messages',
          partition: 0,
          offset,
          tenant: 'default',
          id: `id-${offset}`,
          key: `key-${offset}`,
          error: 'refused',
          record: `{"v":1,"id":"id-${offset}"}`,
          failedAt: 1_700_000_000_000 + offset,
        });
      }
    });
    const response = await beacon.request('/v1/dead-letters?limit=1');
    assert.equal(response.status, 200);
    const page = (await response.json()) as {
      items: { id: string; offset: number; failedAt: string }[];
      next: string;
    };
    assert.deepEqual(
      page.items.map((d) => [d.offset, d.failedAt]),
      [[9, '2023-11-14T22:13:20.009Z']],
    );
    const second = (await (await beacon.request(`/v1/dead-letters?limit=1&after=${page.next}`)).json()) as {
      items: { id: string; offset: number }[];
      next: null;
    };
    assert.deepEqual(
      second.items.map((d) => d.offset),
      [5],
    );
    assert.equal(second.next, null);
    assert.equal(
      (await beacon.request(`/v1/dead-letters/${second.items[0]!.id}`, { method: 'DELETE' })).status,
      204,
    );
    assert.equal(
      (await beacon.request(`/v1/dead-letters/${second.items[0]!.id}`, { method: 'DELETE' })).status,
      404,
    );
    assert.equal((await beacon.request('/v1/dead-letters', { token: null })).status, 401);
  } finally {
    await beacon.destroy();
  }
});
