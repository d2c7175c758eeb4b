import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutWarnings, topicMaxMessageBytes, type TopicState } from './topics.ts';

const healthy = (name: string, replicas = 3, minInsyncReplicas = 2): TopicState => ({
  name,
  replicas,
  minInsyncReplicas,
  belowMinIsr: 0,
});

test('a single broker with one replica and min.insync.replicas 1 (the default) draws no warning', () => {
  assert.deepEqual(
    layoutWarnings({ replicationFactor: 1, minInsyncReplicas: 1 }, 1, [healthy('m', 1, 1)]),
    [],
  );
});

test('three brokers, factor 3, min ISR 2 and topics that match draw no warning', () => {
  assert.deepEqual(layoutWarnings({ replicationFactor: 3, minInsyncReplicas: 2 }, 3, [healthy('m')]), []);
});

test('fewer brokers than the factor, then fewer than min ISR: each says what it means for ingest', () => {
  const layout = { replicationFactor: 3, minInsyncReplicas: 2 };
  const two = layoutWarnings(layout, 2, [healthy('m')]);
  assert.equal(two.length, 1);
  assert.match(two[0]!, /lists 2 broker\(s\), fewer than kafka\.replicationFactor 3/);
  const one = layoutWarnings(layout, 1, [{ ...healthy('m'), belowMinIsr: 6 }]);
  assert.equal(one.length, 3);
  assert.match(one[1]!, /fewer than kafka\.minInsyncReplicas 2: .*NOT_ENOUGH_REPLICAS.*503/);
  assert.match(one[2]!, /^m: 6 partition\(s\) have fewer replicas in sync than min\.insync\.replicas/);
});

test('min ISR equal to the factor, or 1 with replicas, is a choice that stops ingest or loses records', () => {
  const [equal] = layoutWarnings({ replicationFactor: 3, minInsyncReplicas: 3 }, 3, []);
  assert.match(equal!, /ingest stops \(503\) whenever any one broker is down; 2 keeps it going/);
  const [one] = layoutWarnings({ replicationFactor: 3, minInsyncReplicas: 1 }, 3, []);
  assert.match(one!, /acknowledges a record only the leader holds.*use 2/);
});

test('existing topics with other settings are named together, with the command that changes them', () => {
  const warnings = layoutWarnings({ replicationFactor: 3, minInsyncReplicas: 2 }, 3, [
    { name: 'beacon.messages', replicas: 1, minInsyncReplicas: 1, belowMinIsr: 0 },
    { name: 'beacon.checks', replicas: 1, minInsyncReplicas: 1, belowMinIsr: 0 },
    healthy('beacon.live'),
  ]);
  assert.equal(warnings.length, 2);
  assert.match(
    warnings[0]!,
    /^beacon\.messages, beacon\.checks: 1 replica\(s\) per partition.*kafka-reassign-partitions/,
  );
  assert.match(
    warnings[1]!,
    /^beacon\.messages, beacon\.checks: min\.insync\.replicas 1, not kafka\.minInsyncReplicas 2.*--add-config min\.insync\.replicas=2/,
  );
});

test('topics made before with a max.message.bytes too small for a full batch are named, with the fix', () => {
  const layout = { replicationFactor: 1, minInsyncReplicas: 1, maxMessageBytes: 9_000_000 };
  const topics = [
    { ...healthy('m', 1, 1), maxMessageBytes: 1_048_588 },
    { ...healthy('c', 1, 1), maxMessageBytes: 9_000_000 },
  ];
  const [warning, ...rest] = layoutWarnings(layout, 1, topics);
  assert.deepEqual(rest, []);
  assert.match(
    warning!,
    /^m: max\.message\.bytes below the 9000000 B .* refused \(413\).*max\.message\.bytes=9000000\)$/,
  );
  assert.equal(topicMaxMessageBytes(4 * 1024 * 1024, 10_000), 4 * 1024 * 1024 + 2_560_000 + 1024 * 1024);
});
