// Faults of PostgreSQL under steady load: a server of this file's own (scripts/postgres on a free
// port), restarted as after a crash, and cut off from one sink by a partition (a TCP proxy on
// loopback that stops moving bytes, as a firewall dropping packets does). Three `beacon api`
// processes and two `beacon sink`s on Kafka (the shared broker, topics of this file's own). Every run
// ends with every acknowledged id stored exactly once and the group's lag at zero (Pipeline.settle).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTenants, describeRun, Pipeline, sample } from '../helpers/faults.ts';
import { ownServer, type OwnServer } from '../helpers/postgres.ts';
import { runBeacon, type RoleProcess } from '../helpers/roles.ts';
import { ADMIN_TOKEN, eventually } from '../helpers/server.ts';
import { dropTopics, ensureKafka, KAFKA_URL, uniquePrefix } from '../helpers/services.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';

const prefix = uniquePrefix('faults-pg');
const dataDir = mkdtempSync(join(tmpdir(), 'beacon-faults-pg-'));
const FAILURES = 'beacon_sink_batch_failures_total{stream="messages",code="STORE_UNAVAILABLE"}';
const STORED = 'beacon_sink_records_total{stream="messages",outcome="new"}';
let server: OwnServer;
let proxy: TcpProxy;
let pipeline: Pipeline;
/** The sink whose connections to PostgreSQL go through the proxy. */
let cutOff: RoleProcess;

before(async () => {
  ensureKafka();
  server = await ownServer('faults-pg');
  server.start();
  proxy = await TcpProxy.start({ host: '127.0.0.1', port: server.port });
  const env = {
    BEACON_LOG: KAFKA_URL,
    BEACON_STORE: server.url,
    BEACON_DATA_DIR: dataDir,
    BEACON_ADMIN_TOKEN: ADMIN_TOKEN,
    BEACON_KAFKA_TOPIC_PREFIX: prefix,
    BEACON_KAFKA_PARTITIONS: '6',
    BEACON_RATE_LIMIT_PER_SECOND: '0',
    BEACON_POSTGRES_POOL_SIZE: '4',
    // A partition is noticed when a statement goes unanswered this long (30 s by default).
    BEACON_POSTGRES_QUERY_TIMEOUT_MS: '5000',
  };
  runBeacon(['setup'], env);
  pipeline = new Pipeline(env, createTenants(env, 6));
  await pipeline.start(3, 1);
  cutOff = await pipeline.addSink({ BEACON_STORE: `postgres://beacon@127.0.0.1:${proxy.port}/beacon` });
});

after(async () => {
  await pipeline?.stop();
  await proxy?.close();
  server?.destroy();
  await dropTopics(prefix);
  rmSync(dataDir, { recursive: true, force: true });
});

const metric = async (sink: RoleProcess, name: string) => sample(await pipeline.metrics(sink), name) ?? 0;

/** Waits until `sink`'s counter `name` has grown past `from`. */
async function grows(sink: RoleProcess, name: string, from: number, what: string): Promise<number> {
  return eventually(
    async () => {
      const now = await metric(sink, name);
      return now > from ? now : undefined;
    },
    120_000,
    what,
    500,
  ).catch((err: unknown) => {
    // Which partitions each sink held, and what it last said, when a sink did not do what was awaited.
    const outputs = pipeline.sinks.map(
      (s, i) => `sink ${i}${s === sink ? ' (awaited)' : ''}:\n${s.output().slice(-3000)}`,
    );
    throw new Error(`${String(err)}\n${outputs.join('\n---\n')}`);
  });
}

describe('PostgreSQL failing under load', () => {
  test('restarted after a crash: reads answer 503 and ingest 202 throughout; sinks resume from their checkpoints', async (t) => {
    const load = await pipeline.load();
    await pipeline.progress(load, 1000, 'before the fault');
    // Both sinks hold partitions with records (six tenants over six partitions) and reach PostgreSQL.
    await Promise.all(pipeline.sinks.map((s) => grows(s, STORED, 0, 'each sink storing before the fault')));
    const failuresBefore = await Promise.all(pipeline.sinks.map((s) => metric(s, FAILURES)));
    const faultAt = Date.now();
    server.stop(true);
    const downAt = Date.now();

    // The log holds what arrives: ingest goes on answering 202.
    await pipeline.progress(load, 300, 'with PostgreSQL down');
    assert.ok(load.answers.some((a) => a.sent > downAt && a.status === 202));
    // Every api process says why it cannot answer a query, and when to ask again.
    for (const api of pipeline.apis) {
      const read = await pipeline.read(api);
      assert.equal(read.status, 503, JSON.stringify(read));
      assert.equal(read.code, 'STORE_UNAVAILABLE');
      assert.ok(Number(read.retryAfter) >= 1);
      assert.equal((await fetch(`${api.url}/readyz`)).status, 503);
    }
    // The sinks pause: each failed batch is counted and offered again after a backoff.
    const failed = await Promise.all(
      pipeline.sinks.map((s, i) => grows(s, FAILURES, failuresBefore[i]!, 'a failed sink batch')),
    );
    for (const sink of pipeline.sinks) assert.equal((await fetch(`${sink.url}/readyz`)).status, 503);

    server.start();
    const upAt = Date.now();
    // Nothing restarted: every api process answers queries again by itself.
    for (const api of pipeline.apis) {
      await eventually(
        async () => ((await pipeline.read(api)).status === 200 ? true : undefined),
        60_000,
        'reads back',
        200,
      );
    }
    const readsAt = Date.now();
    await pipeline.progress(load, 500, 'after the restart');
    const run = await pipeline.settle(load, faultAt);
    // Ingest needs the log, not the store: tokens known before the crash stay good while it is down.
    assert.deepEqual(run.refused, {}, 'ingest refused nothing');
    for (const sink of pipeline.sinks) assert.match(sink.output(), /sink batch failed; retrying/);
    t.diagnostic(
      `down ${((upAt - downAt) / 1000).toFixed(1)} s; sink batches failed and retried: ${failed.map((f, i) => f - failuresBefore[i]!).join(', ')}; reads answered again ${((readsAt - upAt) / 1000).toFixed(1)} s after the restart; ${describeRun(run)}`,
    );
  });

  test('a network partition between one sink and PostgreSQL: that sink pauses, everything else goes on', async (t) => {
    const [other] = pipeline.sinks.filter((s) => s !== cutOff);
    const load = await pipeline.load();
    await pipeline.progress(load, 1000, 'before the fault');
    // Both sinks hold partitions with records (six tenants over six partitions).
    await grows(cutOff, STORED, 0, 'the sink behind the proxy storing records');
    const failuresBefore = await metric(cutOff, FAILURES);
    const faultAt = Date.now();
    proxy.cut();

    // Its statements go unanswered; after postgres.queryTimeoutMs it gives the batch up and retries.
    const failures = await grows(cutOff, FAILURES, failuresBefore, 'the cut-off sink giving a batch up');
    const noticedAt = Date.now();
    // The other sink and the api processes reach PostgreSQL as before.
    const otherStored = await metric(other!, STORED);
    await grows(other!, STORED, otherStored, 'the other sink storing during the partition');
    for (const api of pipeline.apis) assert.equal((await pipeline.read(api)).status, 200);
    await pipeline.progress(load, 500, 'during the partition');
    assert.equal((await fetch(`${cutOff.url}/readyz`)).status, 503, 'the cut-off sink is not ready');

    proxy.heal();
    const healedAt = Date.now();
    await eventually(
      async () => ((await fetch(`${cutOff.url}/readyz`)).status === 200 ? true : undefined),
      60_000,
      'the cut-off sink ready again',
      500,
    );
    await pipeline.progress(load, 500, 'after the partition');
    const run = await pipeline.settle(load, faultAt);
    assert.deepEqual(run.refused, {}, 'ingest refused nothing');
    t.diagnostic(
      `partitioned ${((healedAt - faultAt) / 1000).toFixed(1)} s; the sink noticed after ${((noticedAt - faultAt) / 1000).toFixed(1)} s and failed ${failures - failuresBefore} batches; ${describeRun(run)}`,
    );
  });
});
