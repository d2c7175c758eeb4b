import { ConfigResourceTypes, type Admin } from '@platformatic/kafka';
import { BeaconError } from '../../errors/catalog.ts';
import { STREAMS, type Stream } from '../record.ts';

/** How Beacon names and shapes its topics; from the `kafka` config section. */
export interface TopicLayout {
  /** Prepended to every topic name, e.g. `beacon.` gives `beacon.messages`. */
  readonly prefix: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** Topic config `min.insync.replicas`: replicas that must hold a record before acks=all is answered. */
  readonly minInsyncReplicas: number;
  /**
   * Topic config `max.message.bytes`: the largest record batch a partition takes. Set above the
   * largest append a client may make, which the log sends alone (see `topicMaxMessageBytes`).
   */
  readonly maxMessageBytes: number;
}

/**
 * The `max.message.bytes` topics need so that the largest batch a client may post
 * (`ingest.maxBatchBytes` of bodies, `ingest.maxBatchItems` records with their envelopes) fits one
 * record batch uncompressed, with room to spare; Kafka's default (1 MiB) would refuse a full batch.
 */
export function topicMaxMessageBytes(maxBatchBytes: number, maxBatchItems: number): number {
  return maxBatchBytes + maxBatchItems * 256 + 1024 * 1024;
}

/** The topic that carries one stream's records. */
export const streamTopic = (layout: Pick<TopicLayout, 'prefix'>, stream: Stream): string =>
  `${layout.prefix}${stream}`;

/** Where sinks put records they cannot decode, with the reason in a header. */
export const deadLetterTopic = (layout: Pick<TopicLayout, 'prefix'>): string => `${layout.prefix}dead-letter`;

/**
 * Frames sinks derive (live counts) on their way to every API process's hub. Not a record stream:
 * kept an hour, since a live frame is worth nothing later.
 */
export const liveTopic = (layout: Pick<TopicLayout, 'prefix'>): string => `${layout.prefix}live`;
const LIVE_RETENTION_MS = 3_600_000;

/** Every topic Beacon needs: one per stream, the dead-letter topic and the live topic. */
export const allTopics = (layout: Pick<TopicLayout, 'prefix'>): string[] => [
  ...STREAMS.map((s) => streamTopic(layout, s)),
  deadLetterTopic(layout),
  liveTopic(layout),
];

/** What `setup` did to the topics, and what the cluster can honour of the layout. */
export interface TopicSetup {
  readonly created: string[];
  readonly existing: string[];
  /** Brokers the cluster lists now (registered and not fenced). */
  readonly brokers: number;
  /** Why the cluster does not, or may not, honour the layout: one sentence each, for the operator. */
  readonly warnings: string[];
}

/** One topic as the cluster holds it, for `layoutWarnings`. */
export interface TopicState {
  readonly name: string;
  /** Replicas of its least replicated partition. */
  readonly replicas: number;
  /** Its `min.insync.replicas`, or undefined when the broker would not say. */
  readonly minInsyncReplicas: number | undefined;
  /** Partitions with fewer replicas in sync than its `min.insync.replicas`: Kafka refuses records to them. */
  readonly belowMinIsr: number;
  /** Its `max.message.bytes`, or undefined when the broker would not say. */
  readonly maxMessageBytes?: number | undefined;
}

/**
 * What an operator should know before trusting the layout to the cluster: too few brokers for the
 * replication factor or for min.insync.replicas (then every acks=all produce is refused), a choice
 * that loses records or stops ingest when one broker goes, and topics created earlier with other
 * settings (setup never changes an existing topic).
 */
export function layoutWarnings(
  layout: Pick<TopicLayout, 'replicationFactor' | 'minInsyncReplicas'> &
    Partial<Pick<TopicLayout, 'maxMessageBytes'>>,
  brokers: number,
  topics: readonly TopicState[],
): string[] {
  const { replicationFactor: factor, minInsyncReplicas: minIsr, maxMessageBytes } = layout;
  const warnings: string[] = [];
  if (brokers < factor)
    warnings.push(
      `the cluster lists ${brokers} broker(s), fewer than kafka.replicationFactor ${factor}: partitions run without their full set of replicas until the others return`,
    );
  if (brokers < minIsr)
    warnings.push(
      `the cluster lists ${brokers} broker(s), fewer than kafka.minInsyncReplicas ${minIsr}: Kafka refuses every record (NOT_ENOUGH_REPLICAS) and ingest answers 503 until ${minIsr} are up`,
    );
  if (factor > 1 && minIsr === factor)
    warnings.push(
      `kafka.minInsyncReplicas equals kafka.replicationFactor (${factor}): ingest stops (503) whenever any one broker is down; ${factor - 1} keeps it going`,
    );
  if (factor > 1 && minIsr === 1)
    warnings.push(
      `kafka.minInsyncReplicas is 1 with ${factor} replicas: once followers fall behind, Kafka acknowledges a record only the leader holds, and losing that broker loses it; use 2`,
    );
  const grouped = (pick: (t: TopicState) => number | undefined, wanted: number) => {
    const by = new Map<number, string[]>();
    for (const t of topics) {
      const value = pick(t);
      if (value !== undefined && value !== wanted) by.set(value, [...(by.get(value) ?? []), t.name]);
    }
    return [...by];
  };
  for (const [replicas, names] of grouped((t) => t.replicas, factor))
    warnings.push(
      `${names.join(', ')}: ${replicas} replica(s) per partition, not kafka.replicationFactor ${factor}; setup leaves existing topics alone (kafka-reassign-partitions.sh changes it)`,
    );
  for (const [value, names] of grouped((t) => t.minInsyncReplicas, minIsr))
    warnings.push(
      `${names.join(', ')}: min.insync.replicas ${value}, not kafka.minInsyncReplicas ${minIsr}; setup leaves existing topics alone (kafka-configs.sh --alter --entity-type topics --entity-name TOPIC --add-config min.insync.replicas=${minIsr})`,
    );
  const small = topics.filter(
    (t) =>
      maxMessageBytes !== undefined && t.maxMessageBytes !== undefined && t.maxMessageBytes < maxMessageBytes,
  );
  if (small.length > 0)
    warnings.push(
      `${small.map((t) => t.name).join(', ')}: max.message.bytes below the ${maxMessageBytes} B the largest batch a client may post needs; such a batch is refused (413); setup leaves existing topics alone (kafka-configs.sh --alter --entity-type topics --entity-name TOPIC --add-config max.message.bytes=${maxMessageBytes})`,
    );
  for (const topic of topics) {
    if (topic.belowMinIsr > 0)
      warnings.push(
        `${topic.name}: ${topic.belowMinIsr} partition(s) have fewer replicas in sync than min.insync.replicas, and Kafka refuses records to them (ingest answers 503) until a replica catches up`,
      );
  }
  return warnings;
}

/**
 * Creates the topics that do not exist yet, with the configured partitions, replication factor and
 * min.insync.replicas; topics that exist are left as they are (their partition count is never
 * changed, because that would move keys between partitions and break per-entity order). Then reads
 * back what the cluster holds and says where it falls short of the layout.
 */
export async function ensureTopics(admin: Admin, layout: TopicLayout): Promise<TopicSetup> {
  const wanted = allTopics(layout);
  const present = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !present.has(t));
  const brokers = (await admin.metadata({ topics: [] })).brokers.size;
  if (missing.length > 0 && brokers < layout.replicationFactor) {
    // Kafka would refuse the creation with INVALID_REPLICATION_FACTOR; say which setting to change.
    throw new BeaconError(
      'CONFIG_INVALID',
      `cannot create ${missing.join(', ')}: kafka.replicationFactor is ${layout.replicationFactor} but the cluster lists ${brokers} broker(s)`,
    );
  }
  const created: string[] = [];
  for (const topic of missing) {
    try {
      await admin.createTopics({
        topics: [topic],
        partitions: layout.partitions,
        replicas: layout.replicationFactor,
        // The broker stamps each record when it appends it. Retention and the live tail's start by
        // time then follow the broker's clock, not the producer's (receivedAt is in the value).
        configs: [
          { name: 'message.timestamp.type', value: 'LogAppendTime' },
          { name: 'min.insync.replicas', value: String(layout.minInsyncReplicas) },
          { name: 'max.message.bytes', value: String(layout.maxMessageBytes) },
          ...(topic === liveTopic(layout)
            ? [{ name: 'retention.ms', value: String(LIVE_RETENTION_MS) }]
            : []),
        ],
      });
      created.push(topic);
    } catch (err) {
      // Another `setup` may have created it between our list and create: that is success too.
      if (!(await admin.listTopics()).includes(topic)) throw err;
    }
  }
  // The broker answers a create before its own metadata lists the topic: wait until it does, so
  // whatever runs after setup finds every topic.
  for (let waited = 0; created.length > 0; waited += 50) {
    const listed = new Set(await admin.listTopics());
    if (wanted.every((t) => listed.has(t))) break;
    if (waited > 30_000) throw new Error(`topics not visible 30 s after creation: ${wanted.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const states = await topicStates(admin, wanted);
  return {
    created,
    existing: wanted.filter((t) => !created.includes(t)),
    brokers,
    warnings: layoutWarnings(layout, brokers, states),
  };
}

/** Replicas, min.insync.replicas and partitions short of it, for each topic, as the cluster reports them. */
async function topicStates(admin: Admin, topics: readonly string[]): Promise<TopicState[]> {
  const metadata = await admin.metadata({ topics: [...topics], forceUpdate: true });
  const described = await admin.describeConfigs({
    resources: topics.map((name) => ({
      resourceType: ConfigResourceTypes.TOPIC,
      resourceName: name,
      configurationKeys: ['min.insync.replicas', 'max.message.bytes'],
    })),
  });
  return topics.map((name) => {
    const config = (key: string) => {
      const value = described
        .find((d) => d.resourceName === name)
        ?.configs.find((c) => c.name === key)?.value;
      return value == null ? undefined : Number(value);
    };
    const minInsyncReplicas = config('min.insync.replicas');
    const partitions = metadata.topics.get(name)?.partitions ?? [];
    return {
      name,
      replicas: partitions.length > 0 ? Math.min(...partitions.map((p) => p.replicas.length)) : 0,
      minInsyncReplicas,
      belowMinIsr: partitions.filter((p) => p.isr.length < (minInsyncReplicas ?? 1)).length,
      maxMessageBytes: config('max.message.bytes'),
    };
  });
}
