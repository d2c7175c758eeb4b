// Faults of a replicated Kafka cluster under steady load: three brokers (scripts/kafka cluster, a
// cluster of this file's own), topics at replication factor 3 and min.insync.replicas 2, three
// `beacon api` processes and two `beacon sink`s on PostgreSQL. Every run ends with every acknowledged
// id stored exactly once and the group's lag at zero (Pipeline.settle).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster, type NodeId } from '../helpers/cluster.ts';
import { createTenants, describeRun, Pipeline, refusals } from '../helpers/faults.ts';
import { freshDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { runBeacon } from '../helpers/roles.ts';
import { ADMIN_TOKEN, eventually } from '../helpers/server.ts';

const cluster = new TestCluster('kafka-faults', 19131);
const prefix = 'faults.';
const topic = `${prefix}messages`;
const dataDir = mkdtempSync(join(tmpdir(), 'beacon-faults-'));
let db: TestDatabase;
let env: Record<string, string>;
let pipeline: Pipeline;

interface SetupReport {
  log: { created: string[]; brokers: number; warnings: string[] };
}
const setup = (patch: Record<string, string> = {}) =>
  JSON.parse(runBeacon(['setup', '--json'], { ...env, ...patch })) as SetupReport;

before(async () => {
  cluster.start();
  db = await freshDatabase();
  env = {
    BEACON_LOG: cluster.url,
    BEACON_STORE: db.url,
    BEACON_DATA_DIR: dataDir,
    BEACON_ADMIN_TOKEN: ADMIN_TOKEN,
    BEACON_KAFKA_TOPIC_PREFIX: prefix,
    BEACON_KAFKA_PARTITIONS: '6',
    BEACON_KAFKA_REPLICATION_FACTOR: '3',
    BEACON_KAFKA_MIN_INSYNC_REPLICAS: '2',
    BEACON_RATE_LIMIT_PER_SECOND: '0',
    BEACON_POSTGRES_POOL_SIZE: '4',
  };
  const report = setup();
  assert.equal(report.log.created.length, 6, 'setup created the topics');
  assert.equal(report.log.brokers, 3);
  assert.deepEqual(report.log.warnings, [], 'three brokers honour factor 3 with two in sync');
  pipeline = new Pipeline(env, createTenants(env, 6));
  await pipeline.start(3, 2);
});

after(async () => {
  await pipeline?.stop();
  cluster.destroy();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Waits until no partition of the topic is led by `node` (the controller has fenced it). */
async function ledElsewhere(node: NodeId): Promise<void> {
  await eventually(
    async () => {
      const partitions = await cluster.partitions(topic).catch(() => []);
      return partitions.length > 0 && partitions.every((p) => p.leader >= 0 && p.leader !== node)
        ? true
        : undefined;
    },
    120_000,
    `leadership moved off node ${node}`,
    500,
  );
}

describe('a replicated Kafka cluster losing brokers under load', () => {
  test('setup warns when the min ISR equals the factor, and reports existing topics that differ', () => {
    const report = setup({ BEACON_KAFKA_MIN_INSYNC_REPLICAS: '3' });
    assert.deepEqual(report.log.created, []);
    assert.equal(report.log.warnings.length, 2, report.log.warnings.join('\n'));
    assert.match(report.log.warnings[0]!, /equals kafka\.replicationFactor \(3\): ingest stops \(503\)/);
    assert.match(report.log.warnings[1]!, /min\.insync\.replicas 2, not kafka\.minInsyncReplicas 3/);
  });

  test('kill -9 the broker leading the busiest partitions, then restart it', async (t) => {
    const load = await pipeline.load();
    await pipeline.progress(load, 1000, 'before the fault');
    const { node, records } = await cluster.busiest(topic);
    const faultAt = Date.now();
    cluster.kill(node);
    await ledElsewhere(node);
    const movedAt = Date.now();
    // Ingest goes on without the node: requests sent once leadership moved are acknowledged.
    await eventually(
      () =>
        Promise.resolve(load.answers.some((a) => a.sent > movedAt && a.status === 202) ? true : undefined),
      120_000,
      'a 202 after leadership moved',
      100,
    );
    await pipeline.progress(load, 500, 'with the node down');
    cluster.startNode(node);
    await cluster.inSync([topic]);
    await pipeline.progress(load, 500, 'after the node returned');
    const run = await pipeline.settle(load, faultAt);
    t.diagnostic(
      `node ${node} led partitions holding ${records} records; leadership moved in ${((movedAt - faultAt) / 1000).toFixed(1)} s; ${describeRun(run)}`,
    );
  });

  test('kill -9 a broker and keep it down: ingest continues at RF 3 / min ISR 2', async (t) => {
    const node: NodeId = 2;
    const load = await pipeline.load();
    await pipeline.progress(load, 500, 'before the fault');
    const faultAt = Date.now();
    cluster.kill(node);
    await ledElsewhere(node);
    const movedAt = Date.now();
    await pipeline.progress(load, 1500, 'with one broker down');
    // Every partition is down to two replicas in sync, which min.insync.replicas 2 accepts.
    for (const p of await cluster.partitions(topic)) assert.equal(p.isr.length, 2, JSON.stringify(p));
    const late = load.answers.filter((a) => a.sent > movedAt);
    assert.ok(late.filter((a) => a.status === 202).length >= 100, 'acknowledged with one broker down');

    // setup sees the cluster short of a broker: a warning for existing topics, a refusal for new ones.
    const report = setup();
    assert.equal(report.log.brokers, 2);
    assert.match(
      report.log.warnings.join('\n'),
      /lists 2 broker\(s\), fewer than kafka\.replicationFactor 3/,
    );
    assert.throws(
      () => setup({ BEACON_KAFKA_TOPIC_PREFIX: 'faults-more.' }),
      /CONFIG_INVALID|kafka\.replicationFactor is 3 but the cluster lists 2 broker/,
    );
    const run = await pipeline.settle(load, faultAt);
    t.diagnostic(
      `leadership moved off node ${node} in ${((movedAt - faultAt) / 1000).toFixed(1)} s; ${late.length} requests sent after that; ${describeRun(run)}`,
    );
    cluster.startNode(node);
    await cluster.inSync([topic]);
  });

  test('two of three down: 503 with Retry-After and never a 202, until one returns by itself', async (t) => {
    const [first, second] = [1, 3] as NodeId[];
    const load = await pipeline.load();
    await pipeline.progress(load, 500, 'before the fault');
    const faultAt = Date.now();
    cluster.kill(first!);
    cluster.kill(second!);
    const downAt = Date.now();
    // With one broker of three no partition has two replicas in sync, and the survivor is no
    // controller quorum either: nothing sent now may be acknowledged.
    await eventually(
      () =>
        Promise.resolve(
          load.answers.filter((a) => a.sent > downAt && a.status === 503).length >= 60 ? true : undefined,
        ),
      120_000,
      '503s with two brokers down',
      100,
    );
    const returnAt = Date.now();
    cluster.startNode(first!);
    const whileDown = load.answers.filter((a) => a.sent > downAt && a.sent < returnAt);
    assert.deepEqual(
      whileDown.filter((a) => a.status === 202),
      [],
      'no request sent while two brokers were down was acknowledged',
    );
    for (const a of whileDown) {
      assert.equal(a.code, 'LOG_UNAVAILABLE', JSON.stringify(a));
      assert.ok(Number(a.retryAfter) >= 1, JSON.stringify(a));
    }
    // No Beacon process was restarted: the api processes' producers find the new leaders themselves.
    const backAt = Date.now();
    await eventually(
      () => Promise.resolve(load.answers.some((a) => a.sent > backAt && a.status === 202) ? true : undefined),
      180_000,
      'a 202 once one broker returned',
      100,
    );
    const recoveredAt = load.answers.find((a) => a.sent > backAt && a.status === 202)!.at;
    await pipeline.progress(load, 500, 'with two brokers');
    cluster.startNode(second!);
    await cluster.inSync([topic]);
    const run = await pipeline.settle(load, faultAt);
    t.diagnostic(
      `${whileDown.length} requests sent with two brokers down, all 503 LOG_UNAVAILABLE with Retry-After; ingest acknowledged again ${((recoveredAt - backAt) / 1000).toFixed(1)} s after node ${first} was back; ${describeRun(run)}`,
    );
  });

  test('consumer-group rebalancing under load, 1 → 3 → 1 sinks: every id once and the lag back to zero', async (t) => {
    await pipeline.removeSink(pipeline.sinks[1]!);
    const load = await pipeline.load();
    await pipeline.progress(load, 500, 'with one sink');
    const added = [await pipeline.addSink(), await pipeline.addSink()];
    const assigned = (sink: (typeof added)[number]) =>
      sink
        .output()
        .split('\n')
        .filter((l) => l.includes('partitions assigned') && l.includes(`"${topic}"`))
        .map((l) => (JSON.parse(l) as { partitions: number[] }).partitions)
        .at(-1) ?? [];
    // Six partitions shared by three members once the rebalance settled: each holds some.
    const shared = () => {
      const held = pipeline.sinks.map((s) => assigned(s));
      return held.every((h) => h.length > 0) && new Set(held.flat()).size === 6 && held.flat().length === 6;
    };
    await eventually(
      () => Promise.resolve(shared() ? true : undefined),
      120_000,
      'three sinks sharing the partitions',
      200,
    );
    const shares = pipeline.sinks.map((s) => assigned(s).length);
    await pipeline.progress(load, 1000, 'with three sinks');
    for (const sink of added) await pipeline.removeSink(sink);
    const [last] = pipeline.sinks;
    await eventually(
      () => Promise.resolve(assigned(last!).length === 6 ? true : undefined),
      120_000,
      'the last sink holding all six partitions',
      200,
    );
    await pipeline.progress(load, 500, 'with one sink again');
    const run = await pipeline.settle(load, Date.now());
    assert.deepEqual(refusals(load.answers), [], 'rebalancing refuses no ingest');
    t.diagnostic(`partitions per sink with three: ${shares.join(', ')}; ${describeRun(run)}`);
    await pipeline.addSink();
  });
});
