import type { Consumer as KafkaConsumer } from '@platformatic/kafka';

/** The smallest slice of the Kafka consumer client the readers use: metadata and raw fetches. */
export type FetchClient = Pick<KafkaConsumer, 'metadata' | 'fetch' | 'listOffsets'>;

/** One raw record as fetched: where it sits and its bytes. */
export interface FetchedRecord {
  readonly offset: number;
  readonly value: Buffer | null;
}

/** What one fetch returned for one partition. */
export interface FetchedPartition {
  readonly topic: string;
  readonly partition: number;
  /** Records at or after the requested offset, in offset order; transaction markers removed. */
  readonly records: FetchedRecord[];
  /** Where the next fetch of this partition starts (past markers too). */
  readonly nextOffset: number;
}

export interface FetchWant {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

const IS_CONTROL = 0b10_0000;

/**
 * Fetches each wanted partition from its offset, one request per leader, waiting up to `maxWaitMs`
 * for data to arrive. Used by group members and by the live tail alike; it holds no state.
 */
export async function fetchPartitions(
  client: FetchClient,
  wants: readonly FetchWant[],
  options: { maxWaitMs: number; maxBytes: number },
): Promise<FetchedPartition[]> {
  const topics = [...new Set(wants.map((w) => w.topic))];
  const metadata = await client.metadata({ topics });
  const byNode = new Map<number, Map<string, FetchWant[]>>();
  const names = new Map<string, string>();
  for (const want of wants) {
    const topic = metadata.topics.get(want.topic);
    if (!topic) throw new Error(`topic ${want.topic} does not exist`);
    const leader = topic.partitions[want.partition]?.leader;
    if (leader === undefined) throw new Error(`topic ${want.topic} has no partition ${want.partition}`);
    names.set(topic.id, want.topic);
    const node = byNode.get(leader) ?? new Map<string, FetchWant[]>();
    byNode.set(leader, node);
    const list = node.get(topic.id) ?? [];
    node.set(topic.id, list);
    list.push(want);
  }
  const requested = new Map(wants.map((w) => [`${w.topic}:${w.partition}`, w.offset]));
  const responses = await Promise.all(
    [...byNode].map(([node, byTopic]) =>
      client.fetch({
        node,
        minBytes: 1,
        maxBytes: options.maxBytes,
        maxWaitTime: options.maxWaitMs,
        // Idempotent, non-transactional producers: committed and uncommitted are the same records.
        isolationLevel: 0,
        topics: [...byTopic].map(([topicId, list]) => ({
          topicId,
          partitions: list.map((w) => ({
            partition: w.partition,
            fetchOffset: BigInt(w.offset),
            partitionMaxBytes: options.maxBytes,
            currentLeaderEpoch: -1,
            lastFetchedEpoch: -1,
          })),
        })),
      }),
    ),
  );
  const out: FetchedPartition[] = [];
  for (const response of responses) {
    for (const topicResponse of response.responses) {
      const topic = names.get(topicResponse.topicId);
      if (topic === undefined) continue;
      for (const p of topicResponse.partitions) {
        const from = requested.get(`${topic}:${p.partitionIndex}`);
        // Incremental fetch sessions may return partitions not asked for this time: ignore them.
        if (from === undefined || !p.records || p.records.length === 0) continue;
        const records: FetchedRecord[] = [];
        let nextOffset = from;
        for (const batch of p.records) {
          const last = Number(batch.firstOffset) + batch.lastOffsetDelta;
          if (last + 1 > nextOffset) nextOffset = last + 1;
          if (batch.attributes & IS_CONTROL) continue;
          for (const record of batch.records) {
            const offset = Number(batch.firstOffset) + record.offsetDelta;
            // A fetch returns whole batches: skip what precedes the requested offset.
            if (offset >= from) records.push({ offset, value: record.value });
          }
        }
        out.push({ topic, partition: p.partitionIndex, records, nextOffset });
      }
    }
  }
  return out;
}

/** Earliest and latest offsets of every partition of the topics. */
export async function offsetBounds(
  client: FetchClient,
  topics: readonly string[],
): Promise<Map<string, { earliest: number; latest: number }>> {
  const [earliest, latest] = await Promise.all([
    client.listOffsets({ topics: [...topics], timestamp: -2n }),
    client.listOffsets({ topics: [...topics], timestamp: -1n }),
  ]);
  const bounds = new Map<string, { earliest: number; latest: number }>();
  for (const [topic, partitions] of latest) {
    partitions.forEach((end, partition) => {
      bounds.set(`${topic}:${partition}`, {
        earliest: Number(earliest.get(topic)?.[partition] ?? 0n),
        latest: Number(end),
      });
    });
  }
  return bounds;
}
