import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { sqliteStore } from '../src/roles/store-sqlite.ts';
import { eventually, ADMIN_TOKEN } from './helpers/server.ts';
import {
  dropTopics,
  ensureKafka,
  KAFKA_BROKERS,
  KAFKA_URL,
  openKafkaLog,
  uniquePrefix,
} from './helpers/services.ts';
import { runBeacon, spawnRole, type RoleProcess } from './helpers/roles.ts';
import { newRecord } from './contract/log.contract.ts';
import { openStream } from './helpers/stream.ts';

/** kcat, Debian's librdkafka client: the non-Node consumer that proves others can read the topics. */
function kcat(args: string[], input?: string): string {
  return execFileSync('kcat', ['-b', KAFKA_BROKERS.join(','), ...args], {
    encoding: 'utf8',
    input,
    timeout: 30_000,
  });
}

ensureKafka();
const prefix = uniquePrefix('pipeline');
const dataDir = mkdtempSync(join(tmpdir(), 'beacon-kafka-'));
const env = {
  BEACON_LOG: KAFKA_URL,
  BEACON_STORE: 'sqlite',
  BEACON_DATA_DIR: dataDir,
  BEACON_ADMIN_TOKEN: ADMIN_TOKEN,
  BEACON_KAFKA_TOPIC_PREFIX: prefix,
  BEACON_KAFKA_PARTITIONS: '3',
  BEACON_SINK_BATCH_SIZE: '200',
};
const running: RoleProcess[] = [];
/** A frame through Kafka waits for a tail to start (connect, list offsets, fetch): slow on a busy machine. */
const KAFKA_FRAME_MS = 20_000;

async function stored(): Promise<number> {
  const store = sqliteStore({ dataDir });
  await store.open();
  try {
    return await store.messages.count('default');
  } finally {
    await store.close();
  }
}

function post(api: RoleProcess, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(api.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('Kafka pipeline: setup, api and sink as separate processes', () => {
  let api: RoleProcess;
  let sink: RoleProcess;

  before(async () => {
    runBeacon(['setup'], env);
    api = await spawnRole('api', env);
    sink = await spawnRole('sink', env, ['--log-level', 'info']);
    running.push(api, sink);
  });

  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await dropTopics(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('setup reports what it created the first time and what existed the next', () => {
    const again = runBeacon(['setup', '--json'], env);
    const report = JSON.parse(again) as { log: { created: string[]; existing: string[] } };
    assert.deepEqual(report.log.created, []);
    assert.deepEqual(report.log.existing.sort(), [
      `${prefix}checks`,
      `${prefix}dead-letter`,
      `${prefix}live`,
      `${prefix}messages`,
      `${prefix}pageviews`,
      `${prefix}sensor-events`,
    ]);
  });

  test('a batch answered 202 is stored once, and a retried Idempotency-Key is answered the same', async () => {
    const before = await stored();
    const items = Array.from({ length: 50 }, (_, i) => ({ n: i }));
    const first = await post(api, '/v1/messages/batch', items, { 'idempotency-key': 'pipeline-1' });
    assert.equal(first.status, 202);
    const a = (await first.json()) as { accepted: number; items: { id: string }[] };
    assert.equal(a.accepted, 50);
    const retry = await post(api, '/v1/messages/batch', items, { 'idempotency-key': 'pipeline-1' });
    const b = (await retry.json()) as { duplicates: number; items: { id: string }[] };
    assert.equal(b.duplicates, 50);
    assert.deepEqual(
      b.items.map((i) => i.id),
      a.items.map((i) => i.id),
    );
    await eventually(async () => ((await stored()) === before + 50 ? true : undefined), 30_000, '50 rows');
  });

  test('every api process pushes every record live, and tails Kafka again for a subscriber who comes back', async () => {
    const second = await spawnRole('api', env);
    running.push(second);
    const here = await openStream(api, '?streams=messages');
    const there = await openStream(second, '?streams=messages');
    await Promise.all([here.next((f) => f.type === 'hello'), there.next((f) => f.type === 'hello')]);
    const res = await post(api, '/v1/messages', { live: 'both' });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    // Posted to one process; the other learns of it only through Kafka.
    for (const stream of [here, there]) {
      const frame = await stream.next((f) => f.id === id, KAFKA_FRAME_MS);
      assert.deepEqual(frame.body, { live: 'both' });
    }
    // With nobody listening the processes stop tailing; a new subscriber starts a tail of its own.
    here.ws.close();
    there.ws.close();
    await new Promise((r) => setTimeout(r, 500));
    const again = await openStream(second, '?streams=messages');
    await again.next((f) => f.type === 'hello');
    const later = await post(api, '/v1/messages', { live: 'again' });
    const { id: laterId } = (await later.json()) as { id: string };
    assert.deepEqual((await again.next((f) => f.id === laterId, KAFKA_FRAME_MS)).body, { live: 'again' });
    again.ws.close();

    // A retry that reaches the other process, once the first is stored, gets the first answer.
    const retried = await post(api, '/v1/messages', { n: 1 }, { 'idempotency-key': 'across-1' });
    const { id: firstId } = (await retried.json()) as { id: string };
    await eventually(async () => ((await stored()) > 0 ? true : undefined), 30_000, 'stored');
    await eventually(
      async () => {
        const res = await post(second, '/v1/messages', { n: 1 }, { 'idempotency-key': 'across-1' });
        const body = (await res.json()) as { id: string };
        return res.headers.get('idempotent-replayed') === 'true' ? body : undefined;
      },
      30_000,
      'the other process to answer the stored key',
    ).then((body) => assert.equal(body.id, firstId));
    assert.equal(await second.stop(), 0);
  });

  test("a count a sink derives reaches the api process's subscribers through Kafka", async () => {
    const created = async (path: string, body: unknown) =>
      assert.equal((await post(api, path, body)).status, 201, `POST ${path}`);
    await created('/v1/spaces', { id: 'k-hall', name: 'Hall' });
    await created('/v1/doorways', { id: 'k-door', name: 'door', a: 'k-hall', b: null });
    await created('/v1/sensors', { id: 'k-s', name: 'door sensor' });
    await created('/v1/placements', {
      sensor: 'k-s',
      doorway: 'k-door',
      positive: 'a',
      from: '2026-01-01T00:00:00Z',
    });
    const live = await openStream(api, '?streams=sensor-events&entity=k-hall');
    await live.next((f) => f.type === 'hello');
    const at = (ms: number) => new Date(Date.now() - ms).toISOString();
    const res = await post(api, '/v1/sensor-events', [
      { sensor: 'k-s', ts: at(2000), direction: 1 },
      { sensor: 'k-s', ts: at(1000), direction: 1 },
    ]);
    assert.equal(res.status, 202);
    // Computed by the sink process after it stored the events, then carried by the live topic.
    const frame = (await live.next(
      (f) => f.type === 'count' && (f as { count?: number }).count === 2,
      KAFKA_FRAME_MS,
    )) as unknown as { space: string; count: number };
    assert.equal(frame.space, 'k-hall');
    live.ws.close();
  });

  test('kcat, a non-Node client, decodes the records as docs/wire-format.md describes', async () => {
    const res = await post(api, '/v1/messages', { hello: 'kcat' }, { 'idempotency-key': 'kcat-1' });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as { id: string };
    // -e: exit at the end of the topic; %k and %s are the key and the value, one line per record.
    const lines = kcat(['-C', '-t', `${prefix}messages`, '-o', 'beginning', '-e', '-q', '-f', '%k\t%s\n'])
      .trim()
      .split('\n');
    const found = lines.map((l) => l.split('\t')).find(([, value]) => value!.includes(id));
    assert.ok(found, `record ${id} not found by kcat among ${lines.length} lines`);
    const [key, value] = found;
    assert.equal(key, 'default/default');
    const wire = JSON.parse(value!) as Record<string, unknown>;
    assert.equal(wire.v, 1);
    assert.equal(wire.stream, 'messages');
    assert.equal(wire.tenant, 'default');
    assert.equal(wire.key, 'idem:kcat-1');
    assert.equal(wire.entity, 'default');
    assert.equal(wire.id, id);
    assert.match(wire.ts as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(wire.receivedAt as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(wire.body, { hello: 'kcat' });
  });

  test('a poison record goes to the dead-letter topic with its reason, and the sink keeps going', async () => {
    const before = await stored();
    // Produced by kcat, not Beacon: bytes that are not wire format v1.
    kcat(['-P', '-t', `${prefix}messages`, '-k', 'default/default'], 'this is not json\n');
    kcat(['-P', '-t', `${prefix}messages`, '-k', 'default/default'], '{"v":9,"stream":"messages"}\n');
    const res = await post(api, '/v1/messages', { after: 'poison' });
    assert.equal(res.status, 202);
    await eventually(
      async () => ((await stored()) === before + 1 ? true : undefined),
      30_000,
      'row after poison',
    );
    const dead = await eventually(
      () => {
        const out = kcat([
          '-C',
          '-t',
          `${prefix}dead-letter`,
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%h\t%s\n',
        ]).trim();
        return Promise.resolve(out.split('\n').length >= 2 ? out : undefined);
      },
      30_000,
      'two dead letters',
    );
    assert.match(dead, /beacon-reason=not JSON[^\t]*\tthis is not json/);
    assert.match(dead, /beacon-reason=unsupported wire version 9/);
    assert.match(dead, new RegExp(`beacon-topic=${prefix.replaceAll('.', '\\.')}messages`));
  });

  test('beacon sink serves /healthz, /readyz and /metrics with its batches and its group lag', async () => {
    assert.deepEqual(await (await fetch(`${sink.url}/healthz`)).json(), { status: 'ok' });
    const ready = await fetch(`${sink.url}/readyz`);
    assert.deepEqual(await ready.json(), {
      status: 'ready',
      checks: { accepting: 'ok', store: 'ok', log: 'ok' },
    });
    assert.equal(ready.status, 200);
    const metric = (text: string, name: string) => {
      const line = text.split('\n').find((l) => l.startsWith(name));
      assert.ok(line, `${name} missing from /metrics:\n${text}`);
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const res = await post(api, '/v1/messages/batch', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.equal(res.status, 202);
    // Every record so far is stored, so the group's lag, read from the log's end offsets and the
    // store's checkpoints at scrape time, comes down to zero; the batches it stored are counted.
    const text = await eventually(
      async () => {
        const text = await (await fetch(`${sink.url}/metrics`)).text();
        return metric(text, 'beacon_sink_lag_records{stream="messages",group="sink-messages"}') === 0
          ? text
          : undefined;
      },
      30_000,
      'lag zero',
    );
    assert.ok(metric(text, 'beacon_sink_batch_records_count{stream="messages"}') >= 1);
    assert.ok(metric(text, 'beacon_sink_records_total{stream="messages",outcome="new"}') >= 3);
    assert.equal((await fetch(`${sink.url}/nowhere`)).status, 404);
  });

  test('two sinks share partitions; one killed with SIGKILL and restarted leaves every record stored once', async () => {
    const second = await spawnRole('sink', env, ['--log-level', 'info']);
    running.push(second);
    const before = await stored();
    const log = await openKafkaLog(prefix, { logger: pino({ level: 'silent' }) });
    const total = 3000;
    try {
      // Entities spread records over all partitions, as sensors and sites do.
      const records = Array.from({ length: total }, (_, i) =>
        newRecord({ tenant: 'default', entity: `e${i % 12}` }),
      );
      await log.append(records.slice(0, 1000));
      await eventually(async () => ((await stored()) > before + 200 ? true : undefined), 30_000, 'some rows');
      sink.child.kill('SIGKILL');
      await sink.exited;
      await log.append(records.slice(1000, 2000));
      sink = await spawnRole('sink', env, ['--log-level', 'info']);
      running.push(sink);
      await log.append(records.slice(2000));
      await eventually(
        async () => ((await stored()) >= before + total ? true : undefined),
        60_000,
        'all rows',
      ).catch((err: unknown) => {
        throw new Error(
          `${String(err)}\nsink:\n${sink.output().slice(-4000)}\nsecond:\n${second.output().slice(-4000)}`,
        );
      });
      assert.equal(await stored(), before + total);
    } finally {
      await log.close();
    }
    const assignments = (proc: RoleProcess) =>
      proc
        .output()
        .split('\n')
        .filter((l) => l.includes('partitions assigned') && l.includes(`${prefix}messages`))
        .map((l) => (JSON.parse(l) as { partitions: number[] }).partitions);
    const latest = assignments(second).at(-1) ?? [];
    assert.ok(
      latest.length > 0 && latest.length < 3,
      `second sink holds ${JSON.stringify(latest)} of 3 partitions`,
    );
  });
});
